// `hatscope-dev explore --bench-render`: the time from a keypress to a finished frame at
// 200 x 60 - key handling, view computation, rendering into the cell buffer, tier adaptation and,
// on a terminal, the ncurses flush. Not a test: it prints numbers.
import Foundation
import HatImaging
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
            var composing: [Double] = []
            for round in 0..<rounds {
                for k in keys {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    state = KeyHandling.handle(state, k).0
                    let f = explorer.frame(state, tier: tier, mode: mode)
                    state.picture = f.picture
                    state.sideMatrix = f.sideMatrix
                    if round > 0 { composing.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                    draw?(f)
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                    if round == 0 { cold.append(ms) } else { times.append(ms) }
                }
            }
            times.sort(); cold.sort()
            let mean = times.reduce(0, +) / Double(max(1, times.count))
            let p = { (q: Double) in times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * q))] }
            composing.sort()
            lines.append(String(format: "%@: keypress -> frame at %dx%d: mean %.2f ms, median %.2f ms, p95 %.2f ms, max %.2f ms (first visit of each view, computing it: median %.2f ms, max %.2f ms); key handling and composing the frame: median %.2f ms",
                                label, width, height, mean, p(0.5), p(0.95), times.last ?? 0,
                                cold.isEmpty ? 0 : cold[cold.count / 2], cold.last ?? 0,
                                composing.isEmpty ? 0 : composing[composing.count / 2]))
        }
        measure("renderer only (truecolor, half blocks)", tier: .truecolor, draw: nil)
        measure("renderer only (256, half blocks)", tier: .palette256, draw: nil)
        measure("renderer only (pixels, cells of 7x14)", tier: .truecolor, mode: .pixels(cellWidth: 7, cellHeight: 14), draw: nil)
        if onTerminal {
            let term = try Terminal(options: options.terminal)
            let size = term.size
            let mode = term.pictureMode
            var pictureSize = "none (half blocks)"
            var waiting: [Double] = [], drawing: [Double] = [], sent: [Double] = []
            var samples: [RGBImage] = []
            // Until the terminal has taken the frame: a status report asked after it is answered
            // only once everything before it was handled (pictures included).
            let what = mode == .blocks ? "half blocks" : "\(term.display.graphics.graphics.rawValue) picture"
            measure("with ncurses flush and \(what), until the terminal answers (\(term.tier.rawValue), screen "
                    + "\(size.width)x\(size.height))", tier: term.tier, mode: mode) { f in
                let t0 = DispatchTime.now().uptimeNanoseconds
                let bytes = term.draw(f.buffer, pictures: f.pictures)
                let t1 = DispatchTime.now().uptimeNanoseconds
                _ = TerminalExchange.waitForTerminal()
                drawing.append(Double(t1 - t0) / 1e6)
                waiting.append(Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e6)
                sent.append(Double(bytes))
                if let p = f.pictures.first {
                    pictureSize = "\(p.image.width)x\(p.image.height) px"
                    if samples.count < keys.count { samples.append(p.image) }
                }
            }
            func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }
            lines.append(String(format: "of which drawing (ncurses and pictures, written to the tty): median %.2f ms; "
                                + "waiting for the terminal to handle what was written: median %.2f ms; picture bytes per frame: median %.0f",
                                median(drawing), median(waiting), median(sent)))
            lines.append("picture: \(pictureSize), cells of \(term.display.graphics.cellWidth)x\(term.display.graphics.cellHeight) px"
                         + (term.display.graphics.graphics == .kitty ? ", kitty pictures through \(term.kittyTransmission.map { $0.rawValue } ?? "-")" : ""))
            term.stop()
            if !samples.isEmpty { lines.append(encodingTimes(samples, sixelColors: term.display.graphics.sixelColors)) }
        }
        return lines.joined(separator: "\n")
    }

    /// Each protocol's encoding of the pictures shown, alone (no terminal): median per picture.
    static func encodingTimes(_ pictures: [RGBImage], sixelColors: Int) -> String {
        func median(_ body: (RGBImage) -> Void) -> Double {
            var t: [Double] = []
            for p in pictures {
                let t0 = DispatchTime.now().uptimeNanoseconds
                body(p)
                t.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            return t.sorted()[t.count / 2]
        }
        let sixel = median { _ = try? SixelEncoder.encode($0, colors: sixelColors) }
        let png = median { _ = try? PictureEncoders.kittyTransmit($0, id: 1, columns: 1, rows: 1, payload: .png) }
        let rgb = median { _ = try? PictureEncoders.kittyTransmit($0, id: 1, columns: 1, rows: 1, payload: .rgb) }
        let file = median { p in KittyFiles.file(for: p.pixels).map { KittyFiles.remove($0) } }
        let shm = median { p in KittyFiles.shared(for: p.pixels).map { KittyFiles.removeShared($0) } }
        let hash = median { _ = GraphicsOutput.hash($0) }
        return String(format: "encoding alone, median per picture: sixel (%d colours) %.2f ms; kitty PNG+base64 %.2f ms, "
                      + "RGB base64 %.2f ms, file written %.2f ms, shared memory written %.2f ms; picture hash %.2f ms",
                      sixelColors, sixel, png, rgb, file, shm, hash)
    }
}
