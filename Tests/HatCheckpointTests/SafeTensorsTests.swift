// safetensors: reading the reference writer's files, round trips through our writer, and the
// reference's validation rules on hand-built malformed headers.
import HatCore
import XCTest
@testable import HatCheckpoint

final class SafeTensorsTests: XCTestCase {
    func testReadsReferenceFileAllDtypes() throws {
        let f = try SafeTensors.readFile(path: Fixtures.path("mixed.safetensors"))
        assertTensorsEqual(f.dictionary, Fixtures.tensors("mixed.safetensors"))
        XCTAssertEqual(f.metadata, Fixtures.entry("mixed.safetensors")["metadata"] as! [String: String])
        XCTAssertEqual(f.types["b.f16"], .float16)
        XCTAssertEqual(f.types["c.bf16"], .bfloat16)
        XCTAssertEqual(f.types["e.i64"], .int64)
    }

    func testWriteReadRoundTripAndLayout() throws {
        let a = Tensor(shape: [2, 3], data: [1, -2, 3.5, .infinity, 0, -0.0])
        let b = Tensor(shape: [], data: [42])
        let c = Tensor(shape: [0, 4], data: [])
        let p = Fixtures.tempPath("rt.safetensors")
        try SafeTensors.write([("w\"q\\x", a), ("b", b), ("empty", c)], metadata: ["k": "v\n"], to: p)
        let f = try SafeTensors.readFile(path: p)
        XCTAssertEqual(f.tensors.map { $0.name }, ["w\"q\\x", "b", "empty"])
        XCTAssertEqual(f.dictionary["w\"q\\x"], a)
        XCTAssertEqual(f.dictionary["b"], b)
        XCTAssertEqual(f.dictionary["empty"], c)
        XCTAssertEqual(f.metadata, ["k": "v\n"])
        let bytes = Fixtures.bytes(p)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(bytes.count, 8 + n + 7 * 4)
        // No temporary file is left behind.
        let dir = (p as NSString).deletingLastPathComponent
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.contains(".tmp-") })
    }

    func testWriteRejectsDuplicateNames() {
        let a = Tensor(shape: [1], data: [1])
        XCTAssertThrowsError(try SafeTensors.write([("x", a), ("x", a)], metadata: [:], to: Fixtures.tempPath("dup.safetensors")))
    }

    /// Builds a file from a header text and `dataBytes` zero bytes.
    private func image(_ header: String, data: Int, declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        var b = [UInt8]()
        let n = declaredLength ?? UInt64(h.count)
        for i in 0..<8 { b.append(UInt8((n >> (8 * UInt64(i))) & 0xFF)) }
        return b + h + [UInt8](repeating: 0, count: data)
    }

    private func parse(_ b: [UInt8]) throws -> SafeTensorsFile {
        try b.withUnsafeBytes { try SafeTensors.parse($0, context: "test") }
    }

    func testValidationMatchesReference() throws {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}"#
        XCTAssertNoThrow(try parse(image(ok, data: 12)))
        let bad: [(String, [UInt8])] = [
            ("short data", image(ok, data: 11)),
            ("extra data", image(ok, data: 13)),
            ("gap", image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)),
            ("overlap", image(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)),
            ("size mismatch", image(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)),
            ("duplicate", image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)),
            ("unknown dtype", image(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, data: 4)),
            ("negative dim", image(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4)),
            ("overflowing shape", image(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: 4)),
            ("header too long for file", image(ok, data: 12, declaredLength: 1000)),
            ("header over the limit", image(ok, data: 12, declaredLength: 100_000_001)),
            ("not an object", image("[1,2]   ", data: 0)),
            ("trailing garbage", image(ok + "x", data: 12)),
            ("metadata not strings", image(#"{"__metadata__":{"a":1}}"#, data: 0)),
            ("bad utf8", image("{\"\u{FF}\":1}", data: 0).enumerated().map { $0.offset == 10 ? 0xFF : $0.element }),
        ]
        for (what, b) in bad {
            XCTAssertThrowsError(try parse(b), what) { XCTAssertTrue($0 is CheckpointError, what) }
        }
        XCTAssertThrowsError(try parse([1, 2, 3]))
    }

    func testEmptyHeaderObjectIsValid() throws {
        XCTAssertEqual(try parse(image("{}      ", data: 0)).tensors.count, 0)
    }
}
