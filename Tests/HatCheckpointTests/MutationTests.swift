// Robustness: every truncation point of tiny checkpoints and thousands of seeded random byte flips
// give either a typed error or a load, never a crash or a hang. A load of a truncated file is only
// accepted when it equals the intact result.
import Foundation
import HatCore
import XCTest
@testable import HatCheckpoint

final class MutationTests: XCTestCase {
    /// xorshift64*: deterministic flips without Foundation randomness.
    struct Rng { var s: UInt64; mutating func next() -> UInt64 { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s &* 2685821657736338717 } }

    private func attempt(_ bytes: [UInt8]) -> Result<LoadedStateDict, Error> {
        let f = MappedFile(bytes: bytes, name: "mutant")
        return Result { try StateDictLoader.load(file: f) }
    }

    func testEveryTruncationPoint() throws {
        for name in ["tiny.pt", "tiny_legacy.pt", "tiny_zip64.pt"] {
            let full = Fixtures.bytes(name)
            let want = Fixtures.tensors(name)
            for cut in 0 ..< full.count {
                switch attempt(Array(full[0 ..< cut])) {
                case .failure(let e): XCTAssertTrue(e is CheckpointError, "\(name) cut at \(cut): \(e)")
                case .success(let d):
                    // A legacy file cut inside trailing padding may still hold everything: must be exact.
                    assertTensorsEqual(d.tensors, want)
                }
            }
        }
    }

    func testSeededRandomByteFlips() throws {
        let start = Date()
        defer { XCTAssertLessThan(Date().timeIntervalSince(start), 60, "no hang: 4500 mutants load or fail quickly") }
        var rng = Rng(s: 0x9E37_79B9_7F4A_7C15)
        var loads = 0, errors = 0
        for name in ["tiny.pt", "tiny_legacy.pt", "tiny_zip64.pt"] {
            let full = Fixtures.bytes(name)
            for _ in 0 ..< 1500 {
                var b = full
                let flips = 1 + Int(rng.next() % 3)
                for _ in 0 ..< flips {
                    let i = Int(rng.next() % UInt64(b.count))
                    b[i] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
                }
                switch attempt(b) {
                case .failure(let e): XCTAssertTrue(e is CheckpointError, "\(e)"); errors += 1
                case .success: loads += 1
                }
            }
        }
        // Both outcomes occur: flips in tensor data load (different values), flips in structure fail.
        XCTAssertGreaterThan(loads, 0)
        XCTAssertGreaterThan(errors, 0)
    }

    func testSafetensorsTruncationsAndFlips() throws {
        let full = Fixtures.bytes("mixed.safetensors")
        for cut in 0 ..< full.count {
            XCTAssertThrowsError(try Array(full[0 ..< cut]).withUnsafeBytes { try SafeTensors.parse($0, context: "cut") })
        }
        var rng = Rng(s: 42)
        for _ in 0 ..< 2000 {
            var b = full
            b[Int(rng.next() % UInt64(b.count))] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
            do { _ = try b.withUnsafeBytes { try SafeTensors.parse($0, context: "flip") } } catch { XCTAssertTrue(error is CheckpointError) }
        }
    }
}
