// `hatscope predict`: classify images and print the top classes with readable names.
import ArgumentParser
import Foundation
import HatCore
import HatModel
import HatPipeline
import HatRecording

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images with a FasterViT checkpoint and print the top classes with names.",
        discussion: """
        Input: a checkpoint (--checkpoint; default: the embedded demo model, a small FasterViT \
        trained on "do the two marked shapes share a colour?") and one or more PNG/JPEG images \
        (--image / --input, repeatable; default: a shipped demo image; .npy and safetensors \
        tensors and - for standard input work too). Each image goes through the \
        model's eval transform (resize, crop, ImageNet mean/std), then one forward pass.
        Output (stdout): per image, the top --top classes with softmax probability, class index \
        and logit; with --json one JSON document instead (every logit included, and \
        `interventions`; NaN or infinite values, possible only with --allow-nonfinite, are null).
        Interventions (--occlude, --occlude-box, --ablate-head, --cut-carriers, --cut-global, \
        --no-propagation; repeatable) apply to every image; the output names them.
        Class names: a classes.txt (or <checkpoint>.classes.txt) beside the checkpoint with one \
        name per class; else ImageNet-1k names for 1000-class models; else "class N".

        Examples:
          hatscope predict                                         the demo model on a demo image
          hatscope predict --image assets/demo/images/demo_04.png
          hatscope predict --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg --top 10
          hatscope predict --cut-global levels.2          the demo without carrier-to-carrier attention
        """)

    @OptionGroup var model: ModelOptions

    @OptionGroup var input: InputOption

    @OptionGroup(title: InterventionOptions.title) var interventions: InterventionOptions

    @Option(help: "How many classes to print per image.")
    var top: Int = 5

    @Flag(help: "Print JSON (checkpoint, model, and per image: logits and top classes) instead of text.")
    var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let paths = input.inputs.isEmpty ? [try DemoAssets.defaultImage] : input.inputs
        // The first input is read before the model: a tensor's size can decide the model's.
        let first = try NetworkInputReader.open(paths[0])
        let run = try model.run(inputResolution: first.resolution)
        let names = Self.classNames(for: run.loaded)
        var results: [Output.Image] = []
        var applied: [String] = []
        for (i, path) in paths.enumerated() {
            let x = try (i == 0 ? first : NetworkInputReader.open(path)).input(for: run.config)
            // Checked against each input's size (a mask is resized to it) before it runs.
            let edits = try interventions.resolve(config: run.config, height: x.tensor.shape[2], width: x.tensor.shape[3])
            applied = edits.map(\.description)
            let logits = try run.logits(x, interventions: edits)             // [classes]
            results.append(Output.Image(image: path, logits: logits.map(Output.finite),
                                        top: Self.ranked(logits, names: names, count: top)))
        }
        let output = Output(checkpoint: run.loaded.checkpointPath, model: run.config.name,
                            classes: run.config.numClasses, interventions: applied, results: results)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print(Self.text(output))
        }
        for n in run.loaded.notes + run.notes { note(n) }
    }

    /// Names for every class index: beside-the-checkpoint file, ImageNet-1k, or "class N".
    static func classNames(for loaded: LoadedModel) -> [String] {
        let n = loaded.config.numClasses
        return DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: n)
            ?? (0..<n).map { "class \($0)" }
    }

    /// The `count` best classes by logit, with softmax probabilities (max-subtracted for range).
    static func ranked(_ logits: [Float], names: [String], count: Int) -> [Output.Entry] {
        guard let maxLogit = logits.max() else { return [] }
        let exps = logits.map { Double(exp($0 - maxLogit)) }
        let total = exps.reduce(0, +)
        // NaN ranks last (it compares false with everything, which sorting cannot use).
        let key = logits.map { $0.isNaN ? -Float.infinity : $0 }
        let order = logits.indices.sorted { key[$0] != key[$1] ? key[$0] > key[$1] : $0 < $1 }
        return order.prefix(count).map { i in
            Output.Entry(index: i, name: i < names.count ? names[i] : "class \(i)",
                         probability: Output.finite(exps[i] / total), logit: Output.finite(logits[i]))
        }
    }

    static func text(_ output: Output) -> String {
        var lines = ["model \(output.model) (\(output.classes) classes) from \(output.checkpoint)"]
        if !output.interventions.isEmpty { lines.append("interventions: " + output.interventions.joined(separator: " ")) }
        let width = min(40, output.results.flatMap { $0.top.map(\.name.count) }.max() ?? 10)
        for r in output.results {
            lines.append("")
            lines.append(r.image)
            for (rank, e) in r.top.enumerated() {
                let name = e.name.count > width ? String(e.name.prefix(width - 1)) + "…" : e.name
                let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
                let p = e.probability.map { String(format: "%6.2f%%", $0 * 100) } ?? "   NaN "
                let l = e.logit.map { String(format: "%.4f", Double($0)) } ?? "NaN"
                lines.append(String(format: "  %2d. ", rank + 1) + padded + "  \(p)  (class \(e.index), logit \(l))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// What `predict` reports; also its --json schema. Non-finite numbers are nil (JSON null):
    /// JSON has no NaN.
    struct Output: Encodable {
        struct Entry: Encodable {
            let index: Int
            let name: String
            let probability: Double?
            let logit: Float?
            enum CodingKeys: String, CodingKey { case index, name, probability, logit }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(index, forKey: .index)
                try c.encode(name, forKey: .name)
                try c.encode(probability, forKey: .probability)   // null when not finite
                try c.encode(logit, forKey: .logit)
            }
        }
        struct Image: Encodable {
            let image: String
            let logits: [Float?]
            let top: [Entry]
        }
        static func finite<F: BinaryFloatingPoint>(_ v: F) -> F? { v.isFinite ? v : nil }
        let checkpoint: String
        let model: String
        let classes: Int
        /// The interventions every image was run with, in their option spelling (empty: none).
        let interventions: [String]
        let results: [Image]
    }
}
