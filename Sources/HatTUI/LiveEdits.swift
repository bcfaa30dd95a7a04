// The interventions a person makes in the explorer, as a plain value the pure key handler edits:
// painted occlusions (tokens of one stage), switched-off heads, one carrier cut per stage, and the
// command line's interventions the keys do not edit. `interventions` turns it into the list the
// model runs with (HatRecording's values, in a fixed order), so the explorer, the recording it
// gets back and the side panel all name the same thing in the CLI spelling.
import HatRecording

/// A token of one stage: stage number 1-4 (as `--occlude-box` counts), row and column on its
/// token grid.
public struct StageToken: Hashable, Sendable, Comparable {
    public var stage: Int, row: Int, col: Int
    public init(stage: Int, row: Int, col: Int) { self.stage = stage; self.row = row; self.col = col }
    public static func < (a: StageToken, b: StageToken) -> Bool { (a.stage, a.row, a.col) < (b.stage, b.row, b.col) }
}

/// A head of one attention module of one block (`--ablate-head levels.L.blocks.B.attn:H`).
public struct HeadRef: Hashable, Sendable, Comparable {
    public var level: Int, block: Int, module: AttentionModule, head: Int
    public init(level: Int, block: Int, module: AttentionModule, head: Int) {
        self.level = level; self.block = block; self.module = module; self.head = head
    }
    public static func < (a: HeadRef, b: HeadRef) -> Bool {
        (a.level, a.block, a.module == .attn ? 0 : 1, a.head) < (b.level, b.block, b.module == .attn ? 0 : 1, b.head)
    }
    var intervention: Intervention { .ablateHead(level: level, block: block, module: module, head: head) }
}

/// The carrier cuts `K` cycles through for one stage (every block of it).
public enum CarrierCut: String, CaseIterable, Sendable {
    case none
    /// --cut-carriers: window tokens read nothing from their carriers.
    case cutCarriers
    /// --cut-global: carriers attend only to themselves.
    case cutGlobal
    /// --no-propagation: the last block does not add the carriers back.
    case noPropagation

    func intervention(level: Int) -> Intervention? {
        switch self {
        case .none: return nil
        case .cutCarriers: return .cutCarriers(level: level, block: nil)
        case .cutGlobal: return .cutGlobal(level: level, block: nil)
        case .noPropagation: return .noPropagation(level: level)
        }
    }
}

/// The occlusion brush: one token, 2 x 2 tokens, or the query's whole window.
public enum Brush: String, CaseIterable, Sendable {
    case token
    case square = "2x2"
    case window
}

public struct LiveEdits: Equatable, Sendable {
    /// Occluded tokens (each becomes part of an `--occlude-box`).
    public var occluded: Set<StageToken> = []
    public var ablated: Set<HeadRef> = []
    /// Official level -> the stage's carrier cut (absent = none).
    public var cuts: [Int: CarrierCut] = [:]
    /// Interventions from the command line that the keys do not edit (a mask, a cut of one
    /// block): kept as they are until everything is reset.
    public var fixed: [Intervention] = []

    public init() {}

    public var isEmpty: Bool { occluded.isEmpty && ablated.isEmpty && cuts.values.allSatisfy { $0 == .none } && fixed.isEmpty }

    /// The command line's interventions, each put where the keys edit it when it is one of theirs.
    public init(_ list: [Intervention]) {
        for item in list {
            switch item {
            case let .occludeTokens(box):
                for r in box.rows { for c in box.cols { occluded.insert(StageToken(stage: box.stage, row: r, col: c)) } }
            case let .ablateHead(level, block, module, head):
                ablated.insert(HeadRef(level: level, block: block, module: module, head: head))
            case let .cutCarriers(level, nil) where cuts[level] == nil: cuts[level] = .cutCarriers
            case let .cutGlobal(level, nil) where cuts[level] == nil: cuts[level] = .cutGlobal
            case let .noPropagation(level) where cuts[level] == nil: cuts[level] = .noPropagation
            default: fixed.append(item)
            }
        }
    }

    /// The list the model runs with: the fixed ones, occlusions (each stage's tokens merged into
    /// as few boxes as a row-major sweep finds), switched-off heads, carrier cuts by level.
    public var interventions: [Intervention] {
        var out = fixed
        for stage in Set(occluded.map(\.stage)).sorted() {
            out += Self.boxes(occluded.filter { $0.stage == stage }.map { ($0.row, $0.col) })
                .map { .occludeTokens(TokenBox(stage: stage, rows: $0.rows, cols: $0.cols)) }
        }
        out += ablated.sorted().map(\.intervention)
        for level in cuts.keys.sorted() { if let i = cuts[level]?.intervention(level: level) { out.append(i) } }
        return out
    }

    /// Rectangles covering exactly `cells`: sweep row-major, take the first uncovered cell, grow
    /// right along the row, then down while every cell of the span is there.
    static func boxes(_ cells: [(Int, Int)]) -> [(rows: ClosedRange<Int>, cols: ClosedRange<Int>)] {
        var left = Set(cells.map { $0.0 << 32 | $0.1 })
        func has(_ r: Int, _ c: Int) -> Bool { left.contains(r << 32 | c) }
        var out: [(rows: ClosedRange<Int>, cols: ClosedRange<Int>)] = []
        for (r, c) in cells.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) where has(r, c) {
            var c1 = c
            while has(r, c1 + 1) { c1 += 1 }
            var r1 = r
            while (c ... c1).allSatisfy({ has(r1 + 1, $0) }) { r1 += 1 }
            for rr in r ... r1 { for cc in c ... c1 { left.remove(rr << 32 | cc) } }
            out.append((r ... r1, c ... c1))
        }
        return out
    }
}
