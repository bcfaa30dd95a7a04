// `hatscope-dev explore --bench-live`: what live interventions cost, measured on the explorer's
// own code path. Not a test: it prints numbers.
//   1. key -> updated prediction and attention: a key that changes the interventions, through the
//      background worker (the model runs with the recorder), its wake-up, and the frame drawn from
//      the new run; alternating with the plain forward pass (no recorder, no interventions) of the
//      same model, round by round, so the ratio of the two is taken under the same load.
//   2. keypress -> frame while a forward pass runs: the render benchmark's navigation keys with the
//      model running back to back in the background, alternating with rounds where it is idle.
import Foundation
import HatRecording
import HatViews

public enum LiveBenchmark {
    /// Keys that each ask for a new run from the explorer's first screen, in order: the carrier
    /// cuts, a head switched off, painting a token, another head.
    static let changes: [[Key]] = [[.char("K")], [.char("K")], [.char("x")], [.char("o"), .char(" ")], [.char("n"), .char("x")]]

    /// `plainForward`: one plain forward pass of the same model on the same input.
    public static func run(explorer: Explorer, plainForward: @escaping () throws -> Void, width: Int = 200,
                           height: Int = 60, rounds: Int = 7, terminal: Terminal? = nil) throws -> String {
        guard let live = explorer.live else { return "no model: live interventions need one (not --synthetic / --recording)" }
        var lines: [String] = []
        let tier = terminal?.tier ?? .truecolor
        let mode = terminal?.pictureMode ?? .blocks
        func draw(_ f: Frame) { terminal?.draw(f.buffer, pictures: f.pictures) }
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        }

        // 1. Key -> the frame drawn from the new run, against the plain forward.
        var latency: [Double] = [], plain: [Double] = [], ratios: [Double] = []
        try plainForward()   // warm up
        for round in 0 ..< rounds {
            explorer.forgetRuns()
            var s = explorer.initialState(width: width, height: height)
            var keyTimes: [Double] = []
            for keys in changes {
                let t0 = now()
                for k in keys { s = KeyHandling.handle(s, k).0 }
                explorer.sync(s)
                guard explorer.waitForRun(timeoutMs: 60_000) else { return "the model did not answer within a minute" }
                let f = explorer.frame(s, tier: tier, mode: mode)
                s.picture = f.picture; s.sideMatrix = f.sideMatrix
                draw(f)
                keyTimes.append(now() - t0)
            }
            var forwards: [Double] = []
            for _ in changes {
                let t0 = now()
                try plainForward()
                forwards.append(now() - t0)
            }
            if round == 0 { continue }   // warm-up round
            latency += keyTimes; plain += forwards
            ratios.append(median(keyTimes) / median(forwards))
        }
        lines.append(String(format: "key -> updated prediction and attention (background run with the recorder, wake-up, frame at %dx%d): median %.1f ms, max %.1f ms over %d keys",
                            width, height, median(latency), latency.max() ?? 0, latency.count))
        lines.append(String(format: "plain forward pass of the same model (no recorder, no interventions): median %.1f ms", median(plain)))
        lines.append(String(format: "ratio live / plain forward: median %.2f over %d alternating rounds (per round %@)",
                            median(ratios), ratios.count, ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ")))

        // 2. Keypress -> frame with the model busy in the background, alternating with idle rounds.
        let busy = Busy(runner: live.runner)
        var loaded: [Double] = [], idle: [Double] = [], forwardsDone = 0
        for round in 0 ..< 2 * rounds {
            let withLoad = round % 2 == 0
            if withLoad { busy.start() }
            var s = explorer.initialState(width: width, height: height)
            for k in RenderBenchmark.keys {
                let t0 = now()
                s = KeyHandling.handle(s, k).0
                let f = explorer.frame(s, tier: tier, mode: mode)
                s.picture = f.picture; s.sideMatrix = f.sideMatrix
                draw(f)
                let ms = now() - t0
                if round >= 2 { if withLoad { loaded.append(ms) } else { idle.append(ms) } }
                Thread.sleep(forTimeInterval: 0.003)   // a person's keys are apart; the model keeps running
            }
            if withLoad { forwardsDone += busy.stop() }
        }
        func summary(_ v: [Double]) -> String {
            let s = v.sorted()
            let p95 = s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * 0.95))]
            return String(format: "mean %.2f ms, median %.2f ms, p95 %.2f ms, max %.2f ms", s.reduce(0, +) / Double(max(1, s.count)),
                          median(s), p95, s.last ?? 0)
        }
        lines.append("keypress -> frame at \(width)x\(height)" + (terminal == nil ? " (renderer only)" : " (with the terminal's flush)")
                     + ", model running in the background (\(forwardsDone) forward passes meanwhile): " + summary(loaded))
        lines.append("keypress -> frame, model idle: " + summary(idle))
        return lines.joined(separator: "\n")
    }

    /// Runs the model back to back on a thread of its own until stopped.
    final class Busy: @unchecked Sendable {
        let runner: RecordingRunner
        private let lock = NSLock()
        private var running = false, count = 0
        private var done = DispatchSemaphore(value: 0)
        init(runner: @escaping RecordingRunner) { self.runner = runner }

        func start() {
            lock.withLock { running = true; count = 0 }
            done = DispatchSemaphore(value: 0)
            let t = Thread {
                LiveRunner.yieldToTheScreen()   // as the explorer's worker runs
                while self.lock.withLock({ self.running }) {
                    _ = try? self.runner([])
                    self.lock.withLock { self.count += 1 }
                }
                self.done.signal()
            }
            t.start()
        }

        /// Stops after the current pass; returns how many passes ran.
        func stop() -> Int {
            lock.withLock { running = false }
            done.wait()
            return lock.withLock { count }
        }
    }
}
