// SHA-256: FIPS 180-4 known answers, incremental updates, files read in chunks.
import Foundation
import XCTest
@testable import HatCheckpoint

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
