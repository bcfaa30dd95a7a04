// .npy: files written by numpy (C order f32, Fortran order f64, big-endian int32) and our writer.
import Foundation
import HatCore
import XCTest
@testable import HatCheckpoint

final class NPYTests: XCTestCase {
    func testReadsNumpyFiles() throws {
        for name in ["c_f32.npy", "fortran_f64.npy", "bigendian_i4.npy"] {
            let t = try NPY.read(path: Fixtures.path(name))
            assertTensorsEqual(["": t], Fixtures.tensors(name))
        }
    }

    func testWriteReadRoundTrip() throws {
        for shape in [[2, 3, 4], [5], []] {
            let n = shape.reduce(1, *)
            let t = Tensor(shape: shape, data: (0..<n).map { Float($0) * 0.25 - 1 })
            let p = Fixtures.tempPath("rt\(shape.count).npy")
            try NPY.write(t, to: p)
            XCTAssertEqual(try NPY.read(path: p), t)
            let b = Fixtures.bytes(p)
            let headerLength = Int(b[8]) | Int(b[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0, "data aligned to 64 like numpy")
        }
    }

    func testRejectsTruncatedAndBadHeaders() throws {
        let good = Fixtures.bytes("c_f32.npy")
        for cut in [0, 5, 9, 20, good.count - 1] {
            XCTAssertThrowsError(try Array(good[0..<cut]).withUnsafeBytes { try NPY.parse($0, context: "cut") })
        }
        var bad = good
        bad[6] = 9
        XCTAssertThrowsError(try bad.withUnsafeBytes { try NPY.parse($0, context: "version") })
    }
}

final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        // FIPS 180-4 examples and a multi-block input (lengths around the padding boundary).
        func hex(_ s: String) -> String { Array(s.utf8).withUnsafeBytes { SHA256.hex($0) } }
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(String(repeating: "a", count: 1000)),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

final class SHA256StreamingTests: XCTestCase {
    func testIncrementalEqualsOneShotAndFile() throws {
        let data = (0 ..< 10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let once = data.withUnsafeBytes { SHA256.hex($0) }
        var h = SHA256.Hasher()
        var i = 0, step = 1
        while i < data.count {
            let j = min(data.count, i + step)
            data[i ..< j].withUnsafeBytes { h.update($0) }
            i = j; step = step * 2 + 1
        }
        XCTAssertEqual(SHA256.hexString(h.finalize()), once)
        let p = Fixtures.tempPath("sha.bin")
        try Data(data).write(to: URL(fileURLWithPath: p))
        XCTAssertEqual(try SHA256.hex(ofFile: p), once)
    }
}
