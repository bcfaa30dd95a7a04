// The input list of a dataset run: explicit inputs first, then the folder sorted by bytes
// (the same on every machine), names relative to the folder, subfolders with --recursive.
import XCTest
@testable import HatPipeline

final class DatasetListTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hatscope-list-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/sub/deeper", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        for name in ["b.png", "B.JPEG", "a.jpg", "é.png", "z.txt", ".hidden.png", "sub/c.png", "sub/deeper/d.jpeg"] {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([1]))
        }
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: dir)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testFolderSortedByBytesWithRelativeNames() throws {
        let list = try DatasetList.collect(inputs: ["x.npy"], folder: dir, blockSize: 2)
        XCTAssertEqual(list.items.map(\.name), ["x.npy", "B.JPEG", "a.jpg", "b.png", "é.png"])
        XCTAssertEqual(list.items[1].path, dir + "/B.JPEG")
        XCTAssertEqual(list.blockCount, 3)
    }

    func testRecursiveTakesSubfoldersButNotLinks() throws {
        let list = try DatasetList.collect(inputs: [], folder: dir + "/", recursive: true, blockSize: 16)
        XCTAssertEqual(list.items.map(\.name), ["B.JPEG", "a.jpg", "b.png", "sub/c.png", "sub/deeper/d.jpeg", "é.png"])
        XCTAssertEqual(list.items[3].path, dir + "/sub/c.png")
    }

    /// The digest depends on the names only, not on where the folder is.
    func testDigestNamesTheListNotThePlace() throws {
        let other = dir + "/../" + (dir as NSString).lastPathComponent + "-copy"
        try FileManager.default.copyItem(atPath: dir + "/sub", toPath: other)
        defer { try? FileManager.default.removeItem(atPath: other) }
        let a = try DatasetList.collect(inputs: [], folder: dir + "/sub", recursive: true, blockSize: 4)
        let b = try DatasetList.collect(inputs: [], folder: other, recursive: true, blockSize: 4)
        XCTAssertEqual(a.digest, b.digest)
        XCTAssertEqual(a.digest.count, 64)
        let c = try DatasetList.collect(inputs: [], folder: dir, blockSize: 4)
        XCTAssertNotEqual(a.digest, c.digest)
    }

    func testProblemsAreOneLine() {
        XCTAssertThrowsError(try DatasetList.collect(inputs: [], folder: dir + "/nope", blockSize: 1)) { e in
            XCTAssertTrue("\(e)".contains("no such folder"), "\(e)")
        }
        XCTAssertThrowsError(try DatasetList.collect(inputs: [], folder: dir + "/empty", blockSize: 1)) { e in
            XCTAssertTrue("\(e)".contains("no .png"), "\(e)")
        }
        XCTAssertThrowsError(try DatasetList.collect(inputs: [], folder: nil, blockSize: 1))
    }
}
