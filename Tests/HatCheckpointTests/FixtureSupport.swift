// Access to the generated fixtures and their expected values (tools/gen_checkpoint_fixtures.py).
import Foundation
import HatCore
import XCTest

enum Fixtures {
    static func path(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// expected.json: fixture -> {"tensors": {name: {"shape", "values"}}, facts...}
    nonisolated(unsafe) static let expected: [String: Any] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("expected.json")))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func entry(_ fixture: String) -> [String: Any] {
        expected[fixture] as! [String: Any]
    }

    /// The expected tensors of one fixture.
    static func tensors(_ fixture: String) -> [String: Tensor] {
        let t = entry(fixture)["tensors"] as! [String: [String: Any]]
        return t.mapValues { e in
            let shape = (e["shape"] as! [NSNumber]).map { $0.intValue }
            let values = (e["values"] as! [NSNumber]).map { $0.floatValue }
            return Tensor(shape: shape, data: values)
        }
    }

    static func bytes(_ name: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: URL(fileURLWithPath: name.hasPrefix("/") ? name : path(name))))
    }

    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hatckpt-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }
}

/// Exact equality of shape and every element (NaN-free fixtures); conversions are exact.
func assertTensorsEqual(_ got: [String: Tensor], _ want: [String: Tensor], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(Set(got.keys), Set(want.keys), "tensor names", file: file, line: line)
    for (k, w) in want {
        guard let g = got[k] else { continue }
        XCTAssertEqual(g.shape, w.shape, "shape of \(k)", file: file, line: line)
        XCTAssertEqual(g.data, w.data, "values of \(k)", file: file, line: line)
    }
}
