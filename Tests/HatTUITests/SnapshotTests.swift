// Golden snapshots of whole frames (glyphs + a colour summary) at several sizes and colour tiers
// and of every view. Regenerate with HATSCOPE_UPDATE_GOLDENS=1 and review the diff (and
// `hatscope-dev frame --synthetic --size WxH --png f.png` to look at one).
import XCTest
@testable import HatTUI
import HatViews

final class SnapshotTests: XCTestCase {
    /// The views' wording (title, explanation, numbers) belongs to HatViews and is checked in
    /// RendererTests; here it is replaced by fixed text so the goldens follow only the layout and
    /// the picture.
    func snap(_ s: AppState, _ name: String, tier: ColorTier = .truecolor) {
        let view = Result { () throws -> ViewResult in
            var v = try Views.compute(s.view, recording: Fixture.recording, selection: s.selection)
            v.title = "TITLE of the \(v.kind.rawValue) view"
            v.explanation = ["EXPLANATION of the view in a sentence long enough to wrap over two panel lines."]
            v.numbers = [("number one", "1.0"), ("number two", "2.0")]
            return v
        }
        Golden.check(Golden.snapshot(Renderer.render(s, view: view, context: Fixture.context, tier: tier)), name)
    }

    func testSizes() {
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            snap(Fixture.state(width: w, height: h), "local_\(w)x\(h)")
        }
        snap(Fixture.state(width: 50, height: 15), "too_small_50x15")
    }

    func testTiers() {
        for tier in [ColorTier.palette256, .ansi16, .ansi8, .mono] {
            snap(Fixture.state(width: 100, height: 30), "local_100x30_\(tier.rawValue)", tier: tier)
        }
    }

    func testEveryView() {
        var s = Fixture.state(width: 100, height: 30)
        for _ in 0..<(s.stage?.views.count ?? 0) {
            snap(s, "view_\(s.view.rawValue)_100x30")
            s = KeyHandling.handle(s, .tab).0
        }
        s = KeyHandling.handle(s, .char("S"))
            .0
        snap(s, "view_energy_100x30")
        var mean = Fixture.state(width: 100, height: 30)
        mean = KeyHandling.handle(mean, .char("m")).0
        mean = KeyHandling.handle(mean, .char("s")).0
        snap(mean, "stage4_mean_100x30")
    }

    func testHelpOverlay() {
        var s = Fixture.state(width: 100, height: 30)
        s.showHelp = true
        snap(s, "help_100x30")
    }
}
