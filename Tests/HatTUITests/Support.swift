// Shared helpers for the explorer tests: a synthetic recording, frames rendered from a state, and
// golden files (regenerate with HATSCOPE_UPDATE_GOLDENS=1, then review the diff by eye).
import Foundation
import XCTest
@testable import HatTUI
import HatViews
import HatRecording

enum Fixture {
    /// faster_vit_0_224 geometry: stage 3 has 2 x 2 windows of 7 x 7 tokens, 2 x 2 carriers each.
    static let recording = SyntheticScene.recording()
    static let context = ExplorerContext(recording: recording, checkpointLabel: "synthetic (no checkpoint)",
                                         classNames: (0..<1000).map { "class-\($0)" })

    /// The explorer's first state, with live interventions on (as with a model).
    static func state(width: Int, height: Int) -> AppState {
        var s = AppState(geometry: context.geometry, colormaps: ["viridis", "magma", "gray"], screenWidth: width, screenHeight: height)
        s.liveUnavailable = nil
        return s
    }

    static func frame(_ s: AppState, tier: ColorTier = .truecolor) -> Frame {
        let view = Result { try Views.compute(s.view, recording: recording, selection: s.selection) }
        return Renderer.render(s, view: view, context: context, tier: tier)
    }

    static func apply(_ s: AppState, _ keys: [Key]) -> AppState {
        keys.reduce(s) { KeyHandling.handle($0, $1).0 }
    }
}

enum Golden {
    // Outside the test target folder so SwiftPM does not ask to declare them as resources.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("HatTUIGoldens")

    /// Compares `text` with Tests/HatTUIGoldens/<name>.txt; rewrites it when HATSCOPE_UPDATE_GOLDENS=1.
    static func check(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = directory.appendingPathComponent(name + ".txt")
        if ProcessInfo.processInfo.environment["HATSCOPE_UPDATE_GOLDENS"] == "1" {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            XCTFail("missing golden \(name).txt (run with HATSCOPE_UPDATE_GOLDENS=1 and review it)", file: file, line: line)
            return
        }
        if expected != text {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = text.split(separator: "\n", omittingEmptySubsequences: false)
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            XCTFail("\(name): differs from golden at line \(i + 1):\n  golden: \(i < a.count ? String(a[i]) : "<end>")\n  actual: \(i < b.count ? String(b[i]) : "<end>")",
                    file: file, line: line)
        }
    }

    /// The snapshot of a frame: glyphs plus the colour summary.
    static func snapshot(_ f: Frame) -> String {
        f.buffer.text + "----\n" + f.buffer.colorSummary()
    }
}
