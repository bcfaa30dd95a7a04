// A whole FasterViT training checkpoint written by the official code (small custom configuration,
// fp16 storages, DataParallel `module.` prefix, argparse extras): read -> sanitize -> infer the
// variant from shapes and buffers -> strict mapping against FasterViT.parameterShapes.
import Foundation
import HatCore
import HatRecording
import HatModel
import XCTest
@testable import HatCheckpoint

final class WholeCheckpointTests: XCTestCase {
    func testTinyFasterViTLoadsInfersAndMaps() throws {
        let name = "tiny_fastervit.pth.tar"
        let e = Fixtures.entry(name)
        let want = e["config"] as! [String: Any]
        let d = try StateDictLoader.load(path: Fixtures.path(name))
        XCTAssertEqual(d.strippedPrefix, "module.")
        XCTAssertEqual(d.tensors.count, (e["tensor_count"] as! NSNumber).intValue)
        XCTAssertTrue(d.extras.contains("args: argparse.Namespace (1 fields)"), "\(d.extras)")
        XCTAssertEqual(d.storedTypes["head.weight"], .float16)

        let r = try VariantInference.analyze(shapes: d.shapes)
        let c = r.config
        func ints(_ k: String) -> [Int] { (want[k] as! [NSNumber]).map(\.intValue) }
        XCTAssertEqual(c.name, "custom")
        XCTAssertEqual(c.dim, (want["dim"] as! NSNumber).intValue)
        XCTAssertEqual(c.inDim, (want["inDim"] as! NSNumber).intValue)
        XCTAssertEqual(c.depths, ints("depths"))
        XCTAssertEqual(c.heads, ints("heads"))
        XCTAssertEqual(c.windowSize, ints("windowSize"))
        XCTAssertEqual(c.ctSize, (want["ctSize"] as! NSNumber).intValue)
        XCTAssertEqual(c.mlpRatio, (want["mlpRatio"] as! NSNumber).floatValue)
        XCTAssertEqual(c.hat, (want["hat"] as! [Bool]))
        XCTAssertEqual(c.doPropagation, want["doPropagation"] as! Bool)
        XCTAssertNotNil(c.layerScale)
        XCTAssertEqual(c.numClasses, (want["numClasses"] as! NSNumber).intValue)
        XCTAssertEqual(c.resolution, ints("resolution"))
        XCTAssertEqual(r.notes, ["no official preset matches; built a custom configuration"])

        let expected = FasterViT.parameterShapes(for: c)
        XCTAssertNoThrow(try WeightMapping.verify(file: d.shapes, expected: expected))
        // Learned parameters as model.parameters() counts them (one shared conv registered twice).
        let params = expected.filter { !$0.0.hasSuffix("running_mean") && !$0.0.hasSuffix("running_var")
            && !$0.0.contains("to_global_feature.pos.") }.reduce(0) { $0 + $1.1.reduce(1, *) }
        XCTAssertEqual(params, (e["parameters"] as! NSNumber).intValue)
    }
}
