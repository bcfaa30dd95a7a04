// The tour's explorer hints in key names. A step (HatViews) says which explorer actions show its
// subject, or which stage and view to reach; this file spells them with the key table
// (KeyBindings) and, for "reach", finds the fewest key presses from the explorer's first screen
// by trying them on the pure key handler, so the text says exactly what pressing does ("S once:
// stage 2, energy view", "the explorer opens on stage 3, local view").
import HatRecording
import HatViews

/// A piece of text; `isKey` pieces are key names (drawn in the key colour). `glued`: no space
/// before it (punctuation after a key name).
public struct TextRun: Equatable, Sendable {
    public var text: String
    public var isKey: Bool
    public var glued: Bool
    public init(_ text: String, key: Bool = false, glued: Bool = false) {
        self.text = text; isKey = key; self.glued = glued
    }
}

public enum TourHints {
    /// One line of runs per hint.
    public static func lines(_ hints: [ExplorerHint], geometry: ExplorerGeometry) -> [[TextRun]] {
        hints.map { line($0, geometry: geometry) }
    }

    static func line(_ hint: ExplorerHint, geometry: ExplorerGeometry) -> [TextRun] {
        switch hint {
        case let .note(text):
            return [TextRun(text)]
        case let .use(actions, purpose):
            return [TextRun(KeyBindings.label(for: actions), key: true), TextRun(":", glued: true), TextRun(purpose)]
        case let .reach(level, view, purpose):
            let target = "stage \(level + 1), \(view.rawValue) view" + (purpose.isEmpty ? "" : " (\(purpose))")
            let start = AppState(geometry: geometry, colormaps: ["viridis"])
            guard let path = presses(to: level, view: view, from: start) else {
                return [TextRun("\(target) (not offered for this recording)")]
            }
            if path.isEmpty { return [TextRun("the explorer opens on " + target)] }
            var runs: [TextRun] = []
            var i = 0
            while i < path.count {
                var n = 1
                while i + n < path.count && path[i + n] == path[i] { n += 1 }
                if !runs.isEmpty { runs.append(TextRun(", then", glued: true)) }
                runs.append(TextRun(KeyBindings.name(path[i]), key: true))
                runs.append(TextRun(times(n)))
                i += n
            }
            runs.append(TextRun(":", glued: true))
            runs.append(TextRun(target))
            return runs
        }
    }

    /// "once", "twice", "3 times".
    static func times(_ n: Int) -> String { n == 1 ? "once" : (n == 2 ? "twice" : "\(n) times") }

    /// The shortest sequence of stage and view keys that takes the explorer from `start` to stage
    /// `level` showing `view`, found by trying the keys on KeyHandling; among equally short ones
    /// the one with the fewest changes of key ("S twice" rather than "s, S, s"), going back before
    /// forward on ties. nil when no sequence of up to 12 presses does.
    static func presses(to level: Int, view: ViewKind, from start: AppState) -> [Key]? {
        let moves = [ExplorerAction.previousStage, .nextStage, .nextView, .previousView]
            .compactMap { KeyBindings.keys(for: $0).first }
        struct Place: Hashable { let level: Int; let view: ViewKind; let last: ViewKind; let key: Int? }
        func place(_ s: AppState, _ k: Int?) -> Place {
            Place(level: s.selection.level, view: s.view, last: s.lastTransformerView, key: k)
        }
        func runs(_ p: [Key]) -> Int { zip(p, p.dropFirst()).filter { $0 != $1 }.count + (p.isEmpty ? 0 : 1) }
        // Breadth first over (state, last key), keeping per place the path with the fewest runs.
        var layer: [Place: (AppState, [Key])] = [place(start, nil): (start, [])]
        var visited = Set(layer.keys.map { Place(level: $0.level, view: $0.view, last: $0.last, key: nil) })
        for _ in 0 ... 12 {
            let done = layer.values.filter { $0.0.selection.level == level && $0.0.view == view }.map(\.1)
            if let best = done.min(by: { (runs($0), moves.firstIndex(of: $0.first ?? moves[0]) ?? 0)
                                          < (runs($1), moves.firstIndex(of: $1.first ?? moves[0]) ?? 0) }) {
                return best
            }
            var next: [Place: (AppState, [Key])] = [:]
            for (s, path) in layer.values {
                for (i, k) in moves.enumerated() {
                    let t = KeyHandling.handle(s, k).0
                    let p = place(t, i)
                    guard !visited.contains(Place(level: p.level, view: p.view, last: p.last, key: nil)) else { continue }
                    if let old = next[p], runs(old.1) <= runs(path + [k]) { continue }
                    next[p] = (t, path + [k])
                }
            }
            for p in next.keys { visited.insert(Place(level: p.level, view: p.view, last: p.last, key: nil)) }
            if next.isEmpty { return nil }
            layer = next
        }
        return nil
    }

    /// Greedy word wrap of runs to `width` columns: lines of (x offset, run piece).
    static func wrap(_ runs: [TextRun], width: Int) -> [[(x: Int, run: TextRun)]] {
        var words: [TextRun] = []
        for r in runs {
            for (i, w) in r.text.split(separator: " ", omittingEmptySubsequences: true).enumerated() {
                words.append(TextRun(String(w), key: r.isKey, glued: i == 0 && r.glued))
            }
        }
        var lines: [[(x: Int, run: TextRun)]] = [], line: [(x: Int, run: TextRun)] = [], x = 0
        for w in words {
            let len = w.text.unicodeScalars.count
            let gap = line.isEmpty || w.glued ? 0 : 1
            if !line.isEmpty && x + gap + len > width && !w.glued {
                lines.append(line); line = []; x = 0
                line.append((0, w)); x = len
                continue
            }
            line.append((x + gap, w)); x += gap + len
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
