// PNG decoding of every colour type, bit depth and interlacing against Pillow's
// Image.open(f).convert("RGB") (exact), and encoding round trips.
import XCTest
@testable import HatImaging

final class PNGCodecTests: XCTestCase {
    func testEveryPNGLayoutMatchesPillowExactly() throws {
        let cases = try Fixture.manifest("formats/manifest.json").filter { ($0["file"] as! String).hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(cases.count, 24, "fixture set looks incomplete")
        for c in cases {
            let file = c["file"] as! String
            let got: RGBImage
            do { got = try PNGCodec.decode(Fixture.bytes("formats/" + file)) } catch {
                XCTFail("\(file): \(error)"); continue
            }
            let want = try Fixture.ppm("formats/" + (c["reference"] as! String))
            XCTAssertEqual(got.width, want.width, file)
            XCTAssertEqual(got.height, want.height, file)
            guard got.width == want.width, got.height == want.height else { continue }
            let d = byteDifference(got, want)
            XCTAssertEqual(d.max, 0, "\(file): \(d.differing) bytes differ from Pillow, max \(d.max)")
        }
    }

    func testSixteenBitTakesTheHighByte() throws {
        // The generator fills the low bytes with noise: any use of them would show.
        let hi = try PNGCodec.decode(Fixture.bytes("formats/rgb16.png"))
        let ref8 = try PNGCodec.decode(Fixture.bytes("formats/rgb8.png"))
        XCTAssertEqual(hi, ref8)
    }

    func testEncodeDecodeRoundTrip() throws {
        var image = RGBImage(width: 37, height: 19)
        for i in 0..<image.pixels.count { image.pixels[i] = UInt8((i * 73 + i / 7) & 0xFF) }
        let bytes = try PNGCodec.encode(image)
        XCTAssertTrue(PNGCodec.sniff(bytes))
        XCTAssertEqual(try PNGCodec.decode(bytes), image)
    }

    func testEncodePhotoRoundTrip() throws {
        let photo = try ImageIO.load(path: Fixture.path("preprocess/chelsea.jpg"))
        XCTAssertEqual(try PNGCodec.decode(PNGCodec.encode(photo)), photo)
    }

    func testEveryCompressionLevelRoundTrips() throws {
        let photo = try ImageIO.load(path: Fixture.path("formats/baseline420.jpg"))
        var sizes: [Int] = []
        for level in [0, 2, 6, 9, -5, 42] {
            let bytes = try PNGCodec.encode(photo, compressionLevel: level)
            XCTAssertEqual(try PNGCodec.decode(bytes), photo, "level \(level)")
            sizes.append(bytes.count)
        }
        XCTAssertGreaterThan(sizes[0], sizes[3], "level 0 (stored) should be larger than level 9")
    }

    func testEncodingAnEmptyImageIsAnError() {
        XCTAssertThrowsError(try PNGCodec.encode(RGBImage(width: 0, height: 0))) { error in
            guard case ImageError.invalidImage = error else { return XCTFail("\(error)") }
        }
    }
}
