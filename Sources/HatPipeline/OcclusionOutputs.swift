// The files of `hatscope occlude`, written together into the output folder: a PNG per class
// (SensitivityFigure, the figure style of `export`), occlusion.json (every position and value,
// with the definitions) and occlusion.csv (one row per class and patch position).
import Foundation
import HatImaging
import HatSystem
import HatViews

public enum OcclusionOutputs {
    public struct Context {
        public var model: String
        public var checkpoint: String
        public var input: String
        public var inputHeight: Int, inputWidth: Int
        public var patch: String
        public var classNames: [String]
        public init(model: String, checkpoint: String, input: String, inputHeight: Int, inputWidth: Int, patch: String, classNames: [String]) {
            self.model = model; self.checkpoint = checkpoint; self.input = input; self.inputHeight = inputHeight
            self.inputWidth = inputWidth; self.patch = patch; self.classNames = classNames
        }
        func name(_ k: Int) -> String { k < classNames.count ? classNames[k] : "class \(k)" }
    }

    /// "occlusion_class_<k>.png"
    public static func figureName(_ k: Int) -> String { "occlusion_class_\(k).png" }

    /// Writes every file through `batch` (committed by the caller); returns the file names.
    @discardableResult
    public static func write(_ maps: [OcclusionSensitivity.ClassMap], sensitivity s: OcclusionSensitivity, context c: Context,
                             image: RGBImage, options: FigureOptions, into folder: OutputFolder, batch: OutputBatch) throws -> [String] {
        var names: [String] = []
        for m in maps {
            let fig = SensitivityFigure(model: c.model, stage: s.stage, stride: s.stride, rows: s.rows, cols: s.cols, drop: m.dropMap,
                                        windowRects: s.windowRects, patchDescription: patchText(s, c), className: c.name(m.classIndex),
                                        cleanProbability: m.cleanProbability)
            try ImageIO.writePNG(fig.render(input: image, options: options), to: folder.file(figureName(m.classIndex)), batch: batch)
            names.append(figureName(m.classIndex))
        }
        try batch.write(Array(csv(maps, s, c).utf8), to: folder.file("occlusion.csv"))
        try batch.write(Array(try json(maps, s, c)), to: folder.file("occlusion.json"))
        return names + ["occlusion.csv", "occlusion.json"]
    }

    static func patchText(_ s: OcclusionSensitivity, _ c: Context) -> String {
        "\(s.side) x \(s.side) token\(s.side == 1 ? "" : "s") (\(s.side * s.stride) px), stride \(s.side), \(s.positions.count) positions"
    }

    /// Input pixels a position covers: [x0, y0, x1, y1) clipped to the input.
    static func pixels(_ p: OcclusionSensitivity.Position, _ s: OcclusionSensitivity, _ c: Context) -> [Int] {
        [p.col0 * s.stride, p.row0 * s.stride, min(c.inputWidth, (p.col1 + 1) * s.stride), min(c.inputHeight, (p.row1 + 1) * s.stride)]
    }

    static func csv(_ maps: [OcclusionSensitivity.ClassMap], _ s: OcclusionSensitivity, _ c: Context) -> String {
        var out = "class,class_name,position,row0,row1,col0,col1,x0,y0,x1,y1,clean_probability,probability,probability_drop,clean_logit,logit,logit_drop\n"
        func q(_ t: String) -> String { t.contains(",") || t.contains("\"") ? "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : t }
        for m in maps {
            for (i, p) in s.positions.enumerated() {
                let px = pixels(p, s, c)
                out += ([String(m.classIndex), q(c.name(m.classIndex)), String(i), String(p.row0), String(p.row1), String(p.col0), String(p.col1)]
                        + px.map(String.init)
                        + [String(format: "%.9g", m.cleanProbability), String(format: "%.9g", m.probabilities[i]),
                           String(format: "%.9g", m.cleanProbability - m.probabilities[i]),
                           String(format: "%.9g", Double(m.cleanLogit)), String(format: "%.9g", Double(m.logits[i])),
                           String(format: "%.9g", Double(m.cleanLogit - m.logits[i]))]).joined(separator: ",") + "\n"
            }
        }
        return out
    }

    static func json(_ maps: [OcclusionSensitivity.ClassMap], _ s: OcclusionSensitivity, _ c: Context) throws -> Data {
        struct Position: Encodable { let rows: [Int]; let cols: [Int]; let pixels: [Int] }
        struct ClassEntry: Encodable {
            let index: Int, name: String, figure: String
            let cleanProbability: Double, cleanLogit: Float
            let probabilities: [Double], probabilityDrops: [Double], logits: [Float], logitDrops: [Float]
            /// [rows][cols] of the stage grid: the drop of the patch covering each token.
            let dropMap: [[Float]]
        }
        struct Document: Encodable {
            let model: String, checkpoint: String, input: String, inputSize: [Int]
            let stage: Int, tokenGrid: [Int], stride: Int, patch: String, patchTokens: Int
            let definitions: [String: String]
            let positions: [Position]
            let classes: [ClassEntry]
        }
        let doc = Document(
            model: c.model, checkpoint: c.checkpoint, input: c.input, inputSize: [c.inputHeight, c.inputWidth],
            stage: s.stage, tokenGrid: [s.rows, s.cols], stride: s.stride, patch: c.patch, patchTokens: s.side,
            definitions: [
                "occluded": "the input pixels under the patch's tokens set to 0 after normalisation (the dataset mean colour), all three channels",
                "positions": "patches of patchTokens x patchTokens stage tokens at a stride of their size, row-major; rows and cols inclusive token indices, pixels [x0, y0, x1, y1) in network-input pixels",
                "probabilityDrops": "clean probability - probability of the occluded copy (softmax over every class); positive = the patch mattered",
                "logitDrops": "clean logit - logit of the occluded copy",
                "dropMap": "each token of the stage grid takes the drop of the patch covering it",
                "batches": "the clean input and the occluded copies go through the network together in batches",
            ],
            positions: s.positions.map { Position(rows: [$0.row0, $0.row1], cols: [$0.col0, $0.col1], pixels: pixels($0, s, c)) },
            classes: maps.map { m in
                ClassEntry(index: m.classIndex, name: c.name(m.classIndex), figure: figureName(m.classIndex),
                           cleanProbability: m.cleanProbability, cleanLogit: m.cleanLogit, probabilities: m.probabilities,
                           probabilityDrops: m.probabilities.map { m.cleanProbability - $0 }, logits: m.logits,
                           logitDrops: m.logits.map { m.cleanLogit - $0 },
                           dropMap: (0 ..< s.rows).map { r in Array(m.dropMap[r * s.cols ..< (r + 1) * s.cols]) })
            })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(doc)
    }
}
