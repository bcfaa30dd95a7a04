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
