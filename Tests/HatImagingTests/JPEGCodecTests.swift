// JPEG decoding against Pillow's decode of the same file (Pillow bundles its own libjpeg-turbo;
// both use ISLOW and fancy upsampling). Tolerance: every byte within 1.
import XCTest
@testable import HatImaging

final class JPEGCodecTests: XCTestCase {
    func testJPEGVariantsMatchPillow() throws {
        let cases = try Fixture.manifest("formats/manifest.json").filter { ($0["file"] as! String).hasSuffix(".jpg") }
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let file = c["file"] as! String
            let got = try JPEGCodec.decode(Fixture.bytes("formats/" + file))
            let want = try Fixture.ppm("formats/" + (c["reference"] as! String))
            XCTAssertEqual(got.width, want.width, file)
            XCTAssertEqual(got.height, want.height, file)
            guard got.width == want.width, got.height == want.height else { continue }
            let d = byteDifference(got, want)
            print("jpeg \(file): max diff \(d.max), \(d.differing) of \(got.pixels.count) bytes differ")
            XCTAssertLessThanOrEqual(d.max, 1, "\(file): max diff \(d.max), \(d.differing) bytes differ")
        }
    }

    func testGrayscaleIsReplicated() throws {
        let g = try JPEGCodec.decode(Fixture.bytes("formats/gray.jpg"))
        for i in stride(from: 0, to: g.pixels.count, by: 3) {
            XCTAssertEqual(g.pixels[i], g.pixels[i + 1]); XCTAssertEqual(g.pixels[i], g.pixels[i + 2])
        }
    }

    func testCMYKFormulaMatchesPillowArithmetic() {
        // PIL: out = clip(nk - MULDIV255(ink, nk)), nk = 255 - k.
        XCTAssertEqual(JPEGCodec.cmykChannelToRGB(0, nk: 255), 255)
        XCTAssertEqual(JPEGCodec.cmykChannelToRGB(255, nk: 255), 0)
        XCTAssertEqual(JPEGCodec.cmykChannelToRGB(0, nk: 0), 0)
        XCTAssertEqual(JPEGCodec.cmykChannelToRGB(128, nk: 200), UInt8(200 - Int((128.0 * 200 / 255).rounded())))
    }
}
