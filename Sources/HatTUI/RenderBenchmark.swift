// `hatscope-dev explore --bench-render`: the time from a keypress to a finished frame at
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
        func measure(_ label: String, tier: ColorTier, mode: PictureMode = .blocks, draw: ((Frame) -> Void)?) {
            var state = explorer.initialState(width: width, height: height)
            var times: [Double] = []
            var cold: [Double] = []
            for round in 0..<rounds {
                for k in keys {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    state = KeyHandling.handle(state, k).0
                    let f = explorer.frame(state, tier: tier, mode: mode)
                    state.picture = f.picture
                    state.sideMatrix = f.sideMatrix
                    draw?(f)
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
        measure("renderer only (truecolor, half blocks)", tier: .truecolor, draw: nil)
        measure("renderer only (256, half blocks)", tier: .palette256, draw: nil)
        measure("renderer only (pixels, cells of 7x14)", tier: .truecolor, mode: .pixels(cellWidth: 7, cellHeight: 14), draw: nil)
        if onTerminal {
            let term = try Terminal(options: options.terminal)
            let size = term.size
            let mode = term.pictureMode
            var pictureSize = "none (half blocks)"
            var waiting: [Double] = []
            // Until the terminal has taken the frame: a status report asked after it is answered
            // only once everything before it was handled (pictures included).
            let what = mode == .blocks ? "half blocks" : "\(term.display.graphics.graphics.rawValue) picture"
            measure("with ncurses flush and \(what), until the terminal answers (\(term.tier.rawValue), screen "
                    + "\(size.width)x\(size.height))", tier: term.tier, mode: mode) { f in
                term.draw(f.buffer, pictures: f.pictures)
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = TerminalExchange.waitForTerminal()
                waiting.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                if let p = f.pictures.first { pictureSize = "\(p.image.width)x\(p.image.height) px" }
            }
            waiting.sort()
            lines.append(String(format: "of which waiting for the terminal to handle what was written: median %.2f ms",
                                waiting.isEmpty ? 0 : waiting[waiting.count / 2]))
            lines.append("picture: \(pictureSize), cells of \(term.display.graphics.cellWidth)x\(term.display.graphics.cellHeight) px"
                         + (term.display.graphics.kittyFiles ? ", kitty reads pictures from temporary files" : ""))
            term.stop()
        }
        return lines.joined(separator: "\n")
    }
}
