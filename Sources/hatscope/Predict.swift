// `hatscope predict`: classify images and print the top classes with readable names.
import ArgumentParser
import Foundation
import HatCore
import HatModel

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images with a FasterViT checkpoint and print the top classes with names.",
        discussion: """
        Input: a checkpoint (--checkpoint; default: the embedded demo model, a small FasterViT \
        trained on "do the two marked shapes share a colour?") and one or more PNG/JPEG images \
        (--image, repeatable; default: a shipped demo image). Each image goes through the \
        model's eval transform (resize, crop, ImageNet mean/std), then one forward pass.
        Output (stdout): per image, the top --top classes with softmax probability, class index \
        and logit; with --json one JSON document instead (every logit included).
        Class names: a classes.txt (or <checkpoint>.classes.txt) beside the checkpoint with one \
        name per class; else ImageNet-1k names for 1000-class models; else "class N".

        Examples:
          hatscope predict                                         the demo model on a demo image
          hatscope predict --image assets/demo/images/demo_04.png
          hatscope predict --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg --top 10
        """)

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("image"), help: ArgumentHelp("Image to classify (PNG or JPEG); repeat for several.", valueName: "file"))
    var images: [String] = []

    @Option(help: "How many classes to print per image.")
    var top: Int = 5

    @Flag(help: "Print JSON (checkpoint, model, and per image: logits and top classes) instead of text.")
    var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        do {
            let paths = images.isEmpty ? [try DemoAssets.defaultImage] : images
            let loaded = try model.load()
            let net = try FasterViT(config: loaded.config, weights: loaded.weights)
            let names = Self.classNames(for: loaded)
            var results: [Output.Image] = []
            for path in paths {
                let input = try preprocessImage(path: path, config: loaded.config).tensor   // [1, 3, H, W]
                let logits = try net.forward(input).data                                 // [classes]
                results.append(Output.Image(image: path, logits: logits,
                                            top: Self.ranked(logits, names: names, count: top)))
            }
            let output = Output(checkpoint: loaded.checkpointPath, model: loaded.config.name,
                                classes: loaded.config.numClasses, results: results)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                print(Self.text(output))
            }
        } catch {
            fail(error)
        }
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
        let order = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        return order.prefix(count).map { i in
            Output.Entry(index: i, name: i < names.count ? names[i] : "class \(i)",
                         probability: exps[i] / total, logit: logits[i])
        }
    }

    static func text(_ output: Output) -> String {
        var lines = ["model \(output.model) (\(output.classes) classes) from \(output.checkpoint)"]
        let width = min(40, output.results.flatMap { $0.top.map(\.name.count) }.max() ?? 10)
        for r in output.results {
            lines.append("")
            lines.append(r.image)
            for (rank, e) in r.top.enumerated() {
                let name = e.name.count > width ? String(e.name.prefix(width - 1)) + "…" : e.name
                let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append(String(format: "  %2d. ", rank + 1) + padded
                    + String(format: "  %6.2f%%  (class %d, logit %.4f)", e.probability * 100, e.index, Double(e.logit)))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// What `predict` reports; also its --json schema.
    struct Output: Encodable {
        struct Entry: Encodable {
            let index: Int
            let name: String
            let probability: Double
            let logit: Float
        }
        struct Image: Encodable {
            let image: String
            let logits: [Float]
            let top: [Entry]
        }
        let checkpoint: String
        let model: String
        let classes: Int
        let results: [Image]
    }
}
