// The timm eval transform against timm 1.0.31 + Pillow on real photographs
// (tools/gen_image_fixtures.py). Tolerances from the issue, on the normalised tensor:
// max |diff| <= 0.02 and mean |diff| <= 0.002 (one 8-bit step is 1/255/std ~ 0.0175).
import Foundation
import XCTest
import HatCheckpoint
import HatCore
@testable import HatImaging

final class PreprocessTests: XCTestCase {
    private let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]

    private func settings(_ c: [String: Any]) -> Preprocess.Settings {
        let size = c["size"] as! [Int]
        return Preprocess.Settings(size: size, cropPct: (c["crop_pct"] as! NSNumber).doubleValue,
                                   cropMode: Preprocess.CropMode(rawValue: c["crop_mode"] as! String)!,
                                   mean: mean, std: std)
    }

    private func tensorDifference(_ a: Tensor, _ b: Tensor) -> (max: Float, mean: Float) {
        var worst: Float = 0, total: Double = 0
        for (x, y) in zip(a.data, b.data) { let d = abs(x - y); worst = max(worst, d); total += Double(d) }
        return (worst, Float(total / Double(max(a.count, 1))))
    }

    func testMatchesTimmOnRealPhotographs() throws {
        let cases = try Fixture.manifest("preprocess/manifest.json")
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for c in cases {
            let name = c["expected_u8"] as! String
            let image = try ImageIO.load(path: Fixture.path("preprocess/" + (c["image"] as! String)))
            let result = try Preprocess.run(image, settings: settings(c))
            let expectedU8 = try ImageIO.load(path: Fixture.path("preprocess/" + name))
            let size = c["size"] as! [Int]
            XCTAssertEqual(result.tensor.shape, [1, 3, size[0], size[1]], name)
            XCTAssertEqual(result.image.width, size[1]); XCTAssertEqual(result.image.height, size[0])
            // The generator asserted timm's tensor == normalize(expectedU8) exactly.
            let expected = Preprocess.normalize(expectedU8, mean: mean, std: std)
            let d = tensorDifference(result.tensor, expected)
            print("preprocess \(name): max |diff| \(d.max), mean |diff| \(d.mean)")
            XCTAssertLessThanOrEqual(d.max, 0.02, "\(name): max |diff| \(d.max)")
            XCTAssertLessThanOrEqual(d.mean, 0.002, "\(name): mean |diff| \(d.mean)")
            // Lossless inputs decode exactly like Pillow, so resampling must match exactly.
            if (c["image"] as! String).hasSuffix(".png") {
                let bd = byteDifference(result.image, expectedU8)
                XCTAssertEqual(bd.differing, 0, "\(name): \(bd.differing) bytes differ (max \(bd.max))")
            }
        }
    }

    func testFullTensorAgainstTimmDirectly() throws {
        let cases = try Fixture.manifest("preprocess/manifest.json").filter { $0["expected_tensor"] != nil }
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            let expected = try NPY.read(path: Fixture.path("preprocess/" + (c["expected_tensor"] as! String)))
            let image = try ImageIO.load(path: Fixture.path("preprocess/" + (c["image"] as! String)))
            let got = try Preprocess.tensor(from: image, settings: settings(c))
            XCTAssertEqual(got.shape, expected.shape)
            let d = tensorDifference(got, expected)
            XCTAssertLessThanOrEqual(d.max, 0.02); XCTAssertLessThanOrEqual(d.mean, 0.002)
        }
    }

    func testResizeRulesFollowTorchvisionAndTimm() {
        // center, square target: shorter side to 256, longer int(256 * long / short) truncated.
        XCTAssertTrue(Preprocess.resizedSize(width: 451, height: 300, scaleH: 256, scaleW: 256, mode: .center) == (384, 256))
        XCTAssertTrue(Preprocess.resizedSize(width: 300, height: 451, scaleH: 256, scaleW: 256, mode: .center) == (256, 384))
        XCTAssertTrue(Preprocess.resizedSize(width: 451, height: 300, scaleH: 235, scaleW: 235, mode: .squash) == (235, 235))
        // CenterCrop offset uses Python's round-half-to-even: (257 - 224) / 2 = 16.5 -> 16.
        XCTAssertTrue(Preprocess.cropOrigin(width: 257, height: 259, cropWidth: 224, cropHeight: 224) == (16, 18))
        // Larger crop: pad (224 - 191) // 2 = 16 before, 17 after.
        XCTAssertTrue(Preprocess.cropOrigin(width: 286, height: 191, cropWidth: 224, cropHeight: 224) == (31, -16))
    }

    func testIdentityResizeAndPaddingCrop() throws {
        var img = RGBImage(width: 8, height: 8)
        for i in 0..<img.pixels.count { img.pixels[i] = UInt8(i % 251) }
        let same = try Preprocess.run(img, settings: .init(size: [8, 8], cropPct: 1.0, cropMode: .squash))
        XCTAssertEqual(same.image, img)
        // crop_pct > 1 makes the crop larger than the resized image: torchvision pads with 0.
        let padded = try Preprocess.run(img, settings: .init(size: [8, 8], cropPct: 2.0, cropMode: .squash))
        XCTAssertEqual(padded.resizedWidth, 4)
        XCTAssertEqual(Array(padded.image.pixels[0..<3]), [0, 0, 0])
    }

    func testConstantImagesStayConstantAtAnyScale() {
        // Fixed-point weights sum to 1 (within rounding), so a flat image resamples to itself.
        for v: UInt8 in [0, 1, 77, 128, 254, 255] {
            let flat = RGBImage(width: 37, height: 23, fill: (v, v, v))
            for (w, h) in [(5, 3), (37, 100), (200, 23), (111, 71), (1, 1)] {
                let r = PillowResample.bicubic(flat, width: w, height: h)
                XCTAssertTrue(r.pixels.allSatisfy { $0 == v }, "value \(v) at \(w)x\(h)")
            }
        }
    }

    func testDenormalizeInvertsNormalize() throws {
        let image = try ImageIO.load(path: Fixture.path("preprocess/coffee.png"))
        let t = Preprocess.normalize(image, mean: mean, std: std)
        XCTAssertEqual(try Preprocess.denormalize(t, mean: mean, std: std), image)
    }

    func testBadSettingsAreTypedErrors() {
        let img = RGBImage(width: 4, height: 4)
        for s in [Preprocess.Settings(size: [0, 224], cropPct: 1, cropMode: .center),
                  Preprocess.Settings(size: [224], cropPct: 1, cropMode: .center),
                  Preprocess.Settings(size: [224, 224], cropPct: 0, cropMode: .center),
                  Preprocess.Settings(size: [224, 224], cropPct: .nan, cropMode: .center),
                  Preprocess.Settings(size: [224, 224], cropPct: 1, cropMode: .center, std: [1, 0, 1])] {
            XCTAssertThrowsError(try Preprocess.run(img, settings: s)) { e in
                XCTAssertTrue(e is PreprocessError, "\(e)")
            }
        }
        XCTAssertThrowsError(try Preprocess.run(RGBImage(width: 0, height: 0),
                                                settings: .init(size: [4, 4], cropPct: 1, cropMode: .center)))
    }
}
