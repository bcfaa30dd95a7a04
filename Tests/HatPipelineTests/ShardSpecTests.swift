// --shard K/N: parsing, and slices that partition the blocks of any list in order.
import XCTest
@testable import HatPipeline

final class ShardSpecTests: XCTestCase {
    func testParsing() throws {
        XCTAssertEqual(try ShardSpec(parsing: "3/8").index, 3)
        XCTAssertEqual(try ShardSpec(parsing: " 3 / 8 ").count, 8)
        XCTAssertEqual(try ShardSpec(parsing: "1/1"), .whole)
        for bad in ["", "3", "0/4", "5/4", "-1/4", "1/0", "a/b", "1/2/3", "1/2000000"] {
            XCTAssertThrowsError(try ShardSpec(parsing: bad), bad) { e in
                XCTAssertTrue("\(e)".hasPrefix("--shard"), "\(e)")
            }
        }
    }

    /// For every list size and shard count, the shards cover every block once, in order, and
    /// differ in size by at most one block.
    func testShardsPartitionTheBlocks() throws {
        for blocks in [0, 1, 2, 7, 16, 100, 3125] {
            for n in [1, 2, 3, 8, 16, 33] {
                var next = 0
                var sizes: [Int] = []
                for k in 1 ... n {
                    let r = try ShardSpec(parsing: "\(k)/\(n)").blocks(of: blocks)
                    XCTAssertEqual(r.lowerBound, next, "\(k)/\(n) of \(blocks)")
                    next = r.upperBound
                    sizes.append(r.count)
                }
                XCTAssertEqual(next, blocks)
                XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1)
            }
        }
        // ImageNet-val in blocks of 16 over 8 machines.
        XCTAssertEqual(try ShardSpec(parsing: "3/8").blocks(of: 3125), 781 ..< 1171)
    }

    func testBlocksOfAList() {
        let list = DatasetList(items: (0 ..< 10).map { DatasetItem(path: "p\($0)", name: "n\($0)") }, blockSize: 4)
        XCTAssertEqual(list.blockCount, 3)
        XCTAssertEqual(list.range(ofBlock: 2), 8 ..< 10)
        XCTAssertEqual(list.range(ofBlocks: 1 ..< 3), 4 ..< 10)
        XCTAssertEqual(list.range(ofBlocks: 1 ..< 1), 0 ..< 0)
    }
}
