// `hatscope explore --bench-render` (hidden): the time from a keypress to a finished frame at
// 200 x 60 - key handling, view computation, rendering into the cell buffer, tier adaptation and,
// on a terminal, the ncurses flush. Not a test: it prints numbers.
import Foundation
import HatViews

public enum RenderBenchmark {
    /// Keys that exercise every part: query moves, heads, windows, views, blocks, stages.
    static let keys: [Key] = [.right, .down, .char("n"), .char("w"), .tab, .left, .char("b"), .char("m"),
                              .tab, .up, .char("r"), .tab, .char("n"), .backTab, .char("s"), .char("S")]

    public static func run(explorer: Explorer, onTerminal: Bool, options: ExplorerOptions,
                           width: Int = 200, height: Int = 60, rounds: Int = 8) throws -> String {
        var lines: [String] = []
        func measure(_ label: String, tier: ColorTier, draw: ((CellBuffer) -> Void)?) {
            var state = explorer.initialState(width: width, height: height)
            var times: [Double] = []
            var cold: [Double] = []
            for round in 0..<rounds {
                for k in keys {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    state = KeyHandling.handle(state, k).0
                    let f = explorer.frame(state, tier: tier)
                    state.picture = f.picture
                    state.sideMatrix = f.sideMatrix
                    draw?(f.buffer)
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                    if round == 0 { cold.append(ms) } else { times.append(ms) }
                }
            }
            times.sort(); cold.sort()
            let mean = times.reduce(0, +) / Double(max(1, times.count))
            let p = { (q: Double) in times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * q))] }
            lines.append(String(format: "%@: keypress -> frame at %dx%d: mean %.2f ms, median %.2f ms, p95 %.2f ms, max %.2f ms (first visit of each view, computing it: median %.2f ms, max %.2f ms)",
                                label, width, height, mean, p(0.5), p(0.95), times.last ?? 0,
                                cold.isEmpty ? 0 : cold[cold.count / 2], cold.last ?? 0))
        }
        measure("renderer only (truecolor)", tier: .truecolor, draw: nil)
        measure("renderer only (256)", tier: .palette256, draw: nil)
        if onTerminal {
            let term = try Terminal(options: options.terminal)
            let size = term.size
            measure("with ncurses flush (\(term.tier.rawValue), screen \(size.width)x\(size.height))", tier: term.tier) { term.draw($0) }
            term.stop()
        }
        return lines.joined(separator: "\n")
    }
}
