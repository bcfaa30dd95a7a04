// Interventions on a forward pass, as plain values: what to change, named by official module
// paths so each means the same thing in PyTorch (tools/gen_intervention_fixtures.py applies them
// to the official modules). Recordings, views and the terminal UI may hold, show and compare these
// values; the engine applies them (HatModel/InterventionPlan.swift). Whether one applies to a
// model at an input size is a question for the geometry (`validate`).
//
// CLI spelling (`Intervention.parse(option:value:)` reads it, `option` / `argument` write it back):
//   --occlude MASK.png               input pixels under the mask's white pixels (the caller loads
//                                    and resizes the mask: `.occludePixels(PixelMask)`)
//   --occlude-box S:R0-R1,C0-C1      the input pixels under stage S's tokens rows R0..R1, columns
//                                    C0..C1 (inclusive; stages 1-4, stage 3 = levels.2)
//   --ablate-head levels.L.blocks.B.attn:H      (or .hat_attn:H) head H's softmax(QK^T + bias) V is
//                                    zero before the output projection
//   --cut-carriers levels.L[.blocks.B]   window attention: window-token queries -> carrier-token
//                                    keys logits are -inf before the softmax (every block of the
//                                    stage without .blocks.B)
//   --cut-global levels.L[.blocks.B]     carrier attention: off-diagonal logits -inf (each carrier
//                                    attends only to itself)
//   --no-propagation levels.L        the stage's last block does not add the upsampled carriers
// Occluded pixels are set to 0 after normalisation (the dataset mean colour), all three channels.
import Foundation

/// Which attention of a HAT block: `attn` (window attention, carriers in front of the window's
/// tokens) or `hat_attn` (carrier attention over all carrier tokens).
public enum AttentionModule: String, Sendable, Hashable, Codable, CaseIterable {
    case attn
    case hatAttn = "hat_attn"
}

/// A box of one stage's tokens, inclusive on both ends. Stages are numbered 1-4 (stage s is
/// `levels.(s-1)`), rows and columns from 0 on the stage's token grid (before any padding).
public struct TokenBox: Sendable, Hashable, Codable {
    public var stage: Int
    public var rows: ClosedRange<Int>, cols: ClosedRange<Int>
    public init(stage: Int, rows: ClosedRange<Int>, cols: ClosedRange<Int>) {
        self.stage = stage; self.rows = rows; self.cols = cols
    }
}

/// Which input pixels to occlude: [height * width] row-major, true = occluded. `label` names where
/// it came from (a mask file) for manifests and messages; it does not change what is occluded.
public struct PixelMask: Sendable, Hashable, Codable {
    public var height: Int, width: Int
    public var bits: [Bool]
    public var label: String
    public init(height: Int, width: Int, bits: [Bool], label: String = "mask") {
        precondition(bits.count == height * width, "pixel mask: \(bits.count) values for \(height)x\(width)")
        self.height = height; self.width = width; self.bits = bits; self.label = label
    }
    /// The number of occluded pixels.
    public var count: Int { bits.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The `--occlude MASK.png` rule: the mask image (RGB bytes, row-major, `srcWidth` x
    /// `srcHeight`) resized nearest-neighbour to the network input height x width (source pixel
    /// floor(i * src / dst), as PyTorch's `nearest`), a pixel occluded where the mask is white
    /// (every channel >= 128).
    public init(whiteOf rgb: [UInt8], width srcWidth: Int, height srcHeight: Int,
                resizedTo height: Int, _ width: Int, label: String) {
        precondition(rgb.count == srcWidth * srcHeight * 3 && srcWidth > 0 && srcHeight > 0, "mask image size")
        var bits = [Bool](repeating: false, count: height * width)
        for r in 0..<height {
            let sr = min(srcHeight - 1, r * srcHeight / height)
            for c in 0..<width {
                let sc = min(srcWidth - 1, c * srcWidth / width)
                let p = (sr * srcWidth + sc) * 3
                bits[r * width + c] = rgb[p] >= 128 && rgb[p + 1] >= 128 && rgb[p + 2] >= 128
            }
        }
        self.init(height: height, width: width, bits: bits, label: label)
    }
}

public enum Intervention: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Input pixels where the mask is true are set to 0 (after normalisation).
    case occludePixels(PixelMask)
    /// The input pixels under a box of one stage's tokens are set to 0.
    case occludeTokens(TokenBox)
    /// Head `head`'s attention output in `levels.level.blocks.block.<module>` is zero before proj.
    case ablateHead(level: Int, block: Int, module: AttentionModule, head: Int)
    /// Window-token queries read nothing from their carrier tokens (one block, or every block of
    /// the stage when `block` is nil).
    case cutCarriers(level: Int, block: Int?)
    /// Carrier tokens attend only to themselves (one block, or every block of the stage).
    case cutGlobal(level: Int, block: Int?)
    /// The stage's last block does not add the upsampled carrier tokens back into its windows.
    case noPropagation(level: Int)

    /// The CLI option without dashes: `ablate-head`, `occlude-box`, ...
    public var option: String {
        switch self {
        case .occludePixels: return "occlude"
        case .occludeTokens: return "occlude-box"
        case .ablateHead: return "ablate-head"
        case .cutCarriers: return "cut-carriers"
        case .cutGlobal: return "cut-global"
        case .noPropagation: return "no-propagation"
        }
    }

    /// The option's value as the CLI spells it (`levels.2.blocks.0.attn:3`, `3:0-6,7-13`).
    public var argument: String {
        func path(_ level: Int, _ block: Int?) -> String { "levels.\(level)" + (block.map { ".blocks.\($0)" } ?? "") }
        switch self {
        case let .occludePixels(m): return m.label
        case let .occludeTokens(b):
            return "\(b.stage):\(b.rows.lowerBound)-\(b.rows.upperBound),\(b.cols.lowerBound)-\(b.cols.upperBound)"
        case let .ablateHead(l, b, m, h): return "\(path(l, b)).\(m.rawValue):\(h)"
        case let .cutCarriers(l, b), let .cutGlobal(l, b): return path(l, b)
        case let .noPropagation(l): return path(l, nil)
        }
    }

    /// `--ablate-head levels.2.blocks.0.attn:3`
    public var description: String { "--\(option) \(argument)" }

    /// The CLI options that take a value this parser reads (`occlude` takes a file: the caller
    /// loads it into a PixelMask).
    public static let parsedOptions = ["occlude-box", "ablate-head", "cut-carriers", "cut-global", "no-propagation"]

    /// Reads one option's value in the CLI spelling; `option` without dashes.
    public static func parse(option: String, value: String) throws -> Intervention {
        let v = value.trimmingCharacters(in: .whitespaces)
        func bad(_ expected: String) -> InterventionError {
            .syntax("--\(option) \(value): expected \(expected)")
        }
        switch option {
        case "occlude-box":
            // S:R0-R1,C0-C1 (a single row or column may be written R instead of R-R).
            let parts = v.split(separator: ":", omittingEmptySubsequences: false)
            let spans = parts.count == 2 ? parts[1].split(separator: ",", omittingEmptySubsequences: false) : []
            let ranges = try zip(["rows", "columns"], spans).map { name, text in
                try span(text) { "--\(option) \(value): \(name) \(text) run backwards: write \($0)" }
            }
            guard parts.count == 2, let stage = Int(parts[0]), ranges.count == 2,
                  let rows = ranges[0], let cols = ranges[1] else {
                throw bad("STAGE:R0-R1,C0-C1 (stage 1-4, inclusive token rows and columns, e.g. 3:0-6,7-13)")
            }
            return .occludeTokens(TokenBox(stage: stage, rows: rows, cols: cols))
        case "ablate-head":
            let parts = v.split(separator: ":", omittingEmptySubsequences: false)
            let form = "levels.L.blocks.B.attn:H or levels.L.blocks.B.hat_attn:H"
            guard parts.count == 2, let head = Int(parts[1]) else { throw bad(form) }
            let path = parts[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard path.count == 5, path[0] == "levels", let level = Int(path[1]), path[2] == "blocks",
                  let block = Int(path[3]), let module = AttentionModule(rawValue: path[4]) else { throw bad(form) }
            return .ablateHead(level: level, block: block, module: module, head: head)
        case "cut-carriers", "cut-global":
            let path = v.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard (path.count == 2 || path.count == 4), path[0] == "levels", let level = Int(path[1]) else {
                throw bad("levels.L or levels.L.blocks.B")
            }
            var block: Int?
            if path.count == 4 {
                guard path[2] == "blocks", let b = Int(path[3]) else { throw bad("levels.L or levels.L.blocks.B") }
                block = b
            }
            return option == "cut-carriers" ? .cutCarriers(level: level, block: block) : .cutGlobal(level: level, block: block)
        case "no-propagation":
            let path = v.split(separator: ".", omittingEmptySubsequences: false)
            guard path.count == 2, path[0] == "levels", let level = Int(path[1]) else { throw bad("levels.L") }
            return .noPropagation(level: level)
        default:
            throw InterventionError.syntax("--\(option) is not an intervention (" +
                                           (["occlude"] + parsedOptions).map { "--" + $0 }.joined(separator: ", ") + ")")
        }
    }

    /// "R0-R1" or "R" -> R0...R1 (R0 <= R1, both >= 0).
    /// "R0-R1" or "R" as a range; nil when malformed. A backwards one ("6-0") is its own error,
    /// `backwards` given the right spelling ("0-6").
    private static func span(_ s: Substring, backwards: (String) -> String) throws -> ClosedRange<Int>? {
        let ends = s.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 1 || ends.count == 2, let lo = Int(ends[0]), let hi = Int(ends[ends.count - 1]),
              lo >= 0 else { return nil }
        guard lo <= hi else { throw InterventionError.syntax(backwards("\(hi)-\(lo)")) }
        return lo...hi
    }
}

/// Why an intervention cannot be read or applied; `description` is one line for the user.
public enum InterventionError: Error, Equatable, CustomStringConvertible {
    /// The CLI text does not have the expected form.
    case syntax(String)
    /// Well formed, but it does not apply to this model or input size (the reason says why).
    case notApplicable(String)
    /// A batch was given a list of interventions per image that does not match the batch size.
    case batchMismatch(images: Int, lists: Int)

    public var description: String {
        switch self {
        case let .syntax(m), let .notApplicable(m): return m
        case let .batchMismatch(images, lists):
            return "\(lists) intervention lists for a batch of \(images) images (one per image expected)"
        }
    }
}

extension Intervention {
    /// Throws `InterventionError.notApplicable` (one line saying why) when this intervention does
    /// not apply to `config` at an input of height x width pixels: no such level, block or head,
    /// no carrier tokens in that stage at this size, no propagation to switch off, a mask or box
    /// outside the input.
    public func validate(config: ModelConfig, height: Int, width: Int) throws {
        try validate(config: config, geometry: ModelGeometry(config: config, inputHeight: height, inputWidth: width))
    }

    /// The same against a geometry already built for the input.
    public func validate(config: ModelConfig, geometry g: ModelGeometry) throws {
        func no(_ why: String) -> InterventionError { .notApplicable("\(description): \(why)") }
        func stage(_ level: Int, _ block: Int?) throws -> StageGeometry {
            guard (0..<4).contains(level) else { throw no("there is no levels.\(level) (FasterViT has levels.0-3)") }
            guard let s = g.stage(level: level) else {
                throw no("levels.\(level) is a convolutional stage, it has no attention (transformer stages: levels.2, levels.3)")
            }
            guard s.depth > 0 else { throw no("levels.\(level) has no blocks") }
            if let block, !(0..<s.depth).contains(block) { throw no("levels.\(level) has blocks 0-\(s.depth - 1)") }
            return s
        }
        func carriers(_ s: StageGeometry, _ what: String) throws {
            guard s.hasCarriers else {
                let why = config.hat[s.level]
                    ? "at \(g.inputHeight)x\(g.inputWidth) the stage is a single \(s.windowSize)x\(s.windowSize) window"
                    : "hierarchical attention (hat) is off in this stage"
                throw no("levels.\(s.level) has no carrier tokens (\(why)): \(what)")
            }
        }
        switch self {
        case let .occludePixels(m):
            guard m.height == g.inputHeight, m.width == g.inputWidth else {
                throw no("the mask is \(m.height)x\(m.width), the network input \(g.inputHeight)x\(g.inputWidth)")
            }
        case let .occludeTokens(box):
            guard let grid = Intervention.tokenGrid(stage: box.stage, geometry: g) else {
                throw no("there is no stage \(box.stage) (stages are 1-4)")
            }
            guard box.rows.upperBound < grid.rows, box.cols.upperBound < grid.cols else {
                throw no("stage \(box.stage) has \(grid.rows)x\(grid.cols) tokens (rows 0-\(grid.rows - 1), columns 0-\(grid.cols - 1))")
            }
        case let .ablateHead(level, b, module, head):
            let s = try stage(level, b)
            if module == .hatAttn { try carriers(s, "no hat_attn") }
            guard (0..<s.heads).contains(head) else { throw no("levels.\(level) attention has heads 0-\(s.heads - 1)") }
        case let .cutCarriers(level, b):
            try carriers(try stage(level, b), "nothing to cut")
        case let .cutGlobal(level, b):
            try carriers(try stage(level, b), "no carrier attention to cut")
        case let .noPropagation(level):
            let s = try stage(level, nil)
            guard config.doPropagation else {
                throw no("\(config.name) does not propagate carrier tokens (do_propagation is off): nothing to switch off")
            }
            try carriers(s, "no propagation to switch off")
        }
    }

    /// Stage `number`'s token grid before padding (rows, columns) and pixels per token, or nil
    /// when there is no such stage (stages are numbered 1-4).
    public static func tokenGrid(stage number: Int, geometry g: ModelGeometry) -> (rows: Int, cols: Int, stride: Int)? {
        if let c = g.convStages.first(where: { $0.number == number }) { return (c.height, c.width, c.stride) }
        if let s = g.stages.first(where: { $0.number == number }) { return (s.height, s.width, s.stride) }
        return nil
    }

    /// The input pixels (rows, columns) under a token box, clipped to the input; empty for a
    /// stage that does not exist.
    public static func pixelSpan(of box: TokenBox, geometry g: ModelGeometry) -> (rows: Range<Int>, cols: Range<Int>) {
        guard let s = tokenGrid(stage: box.stage, geometry: g)?.stride else { return (0..<0, 0..<0) }
        let h = g.inputHeight, w = g.inputWidth
        return (min(h, box.rows.lowerBound * s)..<min(h, (box.rows.upperBound + 1) * s),
                min(w, box.cols.lowerBound * s)..<min(w, (box.cols.upperBound + 1) * s))
    }
}
