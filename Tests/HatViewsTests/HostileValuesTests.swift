// A recording file is checked for shapes, not for every value (that would read gigabytes at
// startup), so the views must survive whatever numbers a map holds: NaN, infinities, negative
// values, rows that do not sum to 1. Every view, figure, montage and the statistics draw such a
// recording without trapping.
import HatImaging
import HatRecording
import XCTest
@testable import HatViews

final class HostileValuesTests: XCTestCase {
    func testEveryViewFigureAndStatisticSurvivesNonFiniteMaps() throws {
        let hostile: [Float] = [.nan, .infinity, -.infinity, -3, 1e30, 0, 0.5]
        var rec = ViewFixture.recording(propagation: (0 ..< 16 * 32).map { hostile[$0 % hostile.count] })
        for s in rec.stages.indices {
            for b in rec.stages[s].blocks.indices {
                for keyPath in [\BlockRecord.window, \BlockRecord.carrier] {
                    guard let m = rec.stages[s].blocks[b][keyPath: keyPath] else { continue }
                    rec.stages[s].blocks[b][keyPath: keyPath] = AttentionMaps(
                        groups: m.groups, heads: m.heads, queries: m.queries, keys: m.keys,
                        probs: (0 ..< m.count).map { hostile[($0 * 7 + b) % hostile.count] })
                }
            }
        }
        rec.convStages[0].energy = rec.convStages[0].energy.indices.map { hostile[$0 % hostile.count] }
        var drawn = 0
        for level in 0 ..< 4 {
            let sel = FigureExporter.moved(Selection(level: 2, block: 0, head: nil, queryRow: 1, queryCol: 1), to: level, recording: rec)
            for kind in ViewKind.allCases {
                for head in [nil, 0, 1] as [Int?] {
                    var s = sel
                    s.head = head
                    guard let v = try? Views.compute(kind, recording: rec, selection: s) else { continue }
                    let img = FigureRenderer.render(v, recording: rec)
                    XCTAssertGreaterThan(img.width, 0)
                    drawn += 1
                }
                if let panels = try? Montage.views(kind, recording: rec, selection: sel) {
                    _ = Montage.render(panels, input: FigureRenderer.inputImage(rec), options: FigureOptions(), sharedScale: true)
                    _ = Montage.render(panels, input: FigureRenderer.inputImage(rec), options: FigureOptions(), sharedScale: false)
                }
            }
        }
        XCTAssertGreaterThan(drawn, 20)
        let stats = HeadStatistics.compute(rec)
        XCTAssertFalse(stats.window.isEmpty)
        _ = stats.csv()
        _ = StatsCharts.all(stats, colormap: .viridis, scale: 1)
    }
}
