// README's "What hatscope promises" section: every statement names the test that checks it, and
// every named test exists (in the class it is named with), so a promise cannot lose its check.
import Foundation
import XCTest

final class PromisesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testEveryPromiseNamesATestThatExists() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try XCTUnwrap(readme.range(of: "## What hatscope promises"))
        let rest = readme[start.upperBound...]
        let section = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        let bullets = section.components(separatedBy: "\n- ").dropFirst()
        XCTAssertGreaterThanOrEqual(bullets.count, 7, "errors, special files, partial outputs, signals, concurrent runs, keys, limits")
        for topic in ["Special files", "Partial outputs", "Signals", "Concurrent runs"] {
            XCTAssertTrue(bullets.contains { $0.hasPrefix("**\(topic).**") }, "the section states \(topic)")
        }
        // All test sources, to find `final class X` ... `func testY`.
        var sources: [String: String] = [:]
        let tests = Self.root.appendingPathComponent("Tests")
        for case let url as URL in FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)!
            where url.pathExtension == "swift" {
            sources[url.path] = try String(contentsOf: url, encoding: .utf8)
        }
        let pattern = try NSRegularExpression(pattern: "`([A-Z][A-Za-z0-9]+Tests)\\.(test[A-Za-z0-9]+)`")
        for bullet in bullets {
            let ns = bullet as NSString
            let refs = pattern.matches(in: bullet, range: NSRange(location: 0, length: ns.length)).map {
                (ns.substring(with: $0.range(at: 1)), ns.substring(with: $0.range(at: 2)))
            }
            XCTAssertFalse(refs.isEmpty, "a promise without a test: \(bullet.prefix(80))")
            for (cls, test) in refs {
                let file = sources.values.first { $0.contains("class \(cls): XCTestCase") }
                XCTAssertNotNil(file, "\(cls) does not exist")
                XCTAssertTrue(file?.contains("func \(test)()") ?? false, "\(cls).\(test) does not exist")
            }
        }
    }
}
