// `hatscope occlude`: occlusion-sensitivity maps. The work is HatPipeline's OcclusionSensitivity
// (copies through the network in batches) and OcclusionOutputs (figures, JSON, CSV).
import ArgumentParser
import Foundation
import HatImaging
import HatPipeline
import HatSystem
import HatViews

struct Occlude: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "occlude",
        abstract: "Occlusion sensitivity: how much each patch of a stage's tokens matters for a class.",
        discussion: """
        Input: a checkpoint (--checkpoint, default the embedded demo model) and one input \
        (--image / --input, default the demo image). An occluding patch slides over stage \
        --stage's tokens with a stride of its own size (--patch tokens: one token; windows: one \
        attention window of the stage; N: N x N tokens); under the patch the input pixels are \
        set to 0 after normalisation (the dataset mean colour). The clean input and every \
        occluded copy go through the network in batches of --batch.

        Output, in --out (created if missing; all files appear together): \
        occlusion_class_<K>.png per class (the image, the drop of the class's probability \
        painted over the tokens, the stage's window grid, a colour bar in probability units), \
        occlusion.json (every position with its tokens and pixels, every probability, logit and \
        drop, the definitions) and occlusion.csv (one row per class and position). Classes: \
        --class K (repeatable) or the --top N classes of the clean input (default 1).

        Examples:
          hatscope occlude --out occ
          hatscope occlude --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg --out occ --top 3
          hatscope occlude --image demo.png --out occ --stage 4 --patch tokens --class 1
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Stage whose tokens the patch covers (1-4; stage 3 = levels.2).")
    var stage: Int = 3

    @Option(help: ArgumentHelp("Patch: one token, one attention window of the stage, or N x N tokens.", valueName: "tokens|windows|N"))
    var patch: String = "tokens"

    @Option(name: .customLong("class"), help: "Class index to map (repeatable).")
    var classes: [Int] = []

    @Option(help: "Map the N most probable classes of the clean input (when no --class is given).")
    var top: Int = 1

    @Option(help: "Copies per forward pass (1-256).")
    var batch: Int = 32

    @Option(help: "Integer enlargement of the figures (1-8).")
    var scale: Int = 2

    @Option(help: "Colour map: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    @Option(help: "Opacity of the map over the image (0-1).")
    var opacity: Float = 0.7

    func validate() throws {
        guard (1 ... 4).contains(stage) else { throw ValidationError("--stage must be 1-4 (got \(stage))") }
        _ = try OcclusionSensitivity.Patch(parsing: patch)
        guard (1 ... 1000).contains(top) else { throw ValidationError("--top must be 1-1000 (got \(top))") }
        guard (1 ... 256).contains(batch) else { throw ValidationError("--batch must be 1-256 (got \(batch))") }
        guard (1 ... 8).contains(scale) else { throw ValidationError("--scale must be 1-8 (got \(scale))") }
        guard (0 ... 1).contains(opacity) else { throw ValidationError("--opacity must be 0-1 (got \(opacity))") }
        guard Colormap(rawValue: colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !classes.isEmpty && top != 1 { throw ValidationError("give either --class or --top, not both") }
        // A class twice would write its figure and its rows twice.
        if let twice = classes.indices.first(where: { classes[..<$0].contains(classes[$0]) }) {
            throw ValidationError("--class \(classes[twice]) is given twice")
        }
    }

    func run() throws {
        let path = try input.path()
        let file = try NetworkInputReader.open(path)
        let run = try model.run(inputResolution: file.resolution)
        let x = try file.input(for: run.config)
        let h = x.tensor.shape[2], w = x.tensor.shape[3]
        for k in classes where k < 0 || k >= run.config.numClasses {
            throw CLIError("--class \(k): \(run.config.name) has classes 0-\(run.config.numClasses - 1)")
        }
        if classes.isEmpty && top > run.config.numClasses {
            note("--top \(top): \(run.config.name) has \(run.config.numClasses) classes; mapping all \(run.config.numClasses)")
        }
        let sensitivity = try OcclusionSensitivity(config: run.config, height: h, width: w, stage: stage,
                                                   patch: try OcclusionSensitivity.Patch(parsing: patch))
        let outFolder = try OutputFolder(out, option: "--out")
        let bar = ProgressLine(label: "occlude", total: sensitivity.positions.count + 1)
        let t0 = Date()
        let maps = try sensitivity.run(run, input: x.tensor, classes: classes.isEmpty ? nil : classes, top: top, batch: batch) { done, _ in
            bar?.update(done, item: "copy \(done)")
        }
        bar?.finish()
        let seconds = Date().timeIntervalSince(t0)
        let names = Predict.classNames(for: run.loaded)
        let context = OcclusionOutputs.Context(model: run.config.name, checkpoint: String(run.loaded.checkpointPath.split(separator: "/").last ?? ""),
                                               input: x.label, inputHeight: h, inputWidth: w, patch: patch, classNames: names)
        let image = x.preprocessed?.image ?? FigureRenderer.inputImage(x.tensor.data, height: h, width: w)
        let batchFiles = OutputBatch()
        let written = try OcclusionOutputs.write(maps, sensitivity: sensitivity, context: context, image: image,
                                                 options: FigureOptions(colormap: Colormap(rawValue: colormap) ?? .default,
                                                                        opacity: opacity, scale: scale),
                                                 into: outFolder, batch: batchFiles)
        try batchFiles.commit()
        outFolder.finish()
        for m in maps {
            let top = m.dropMap.indices.filter { m.dropMap[$0].isFinite }.max { m.dropMap[$0] < m.dropMap[$1] }
            print(String(format: "class %d (%@): clean probability %.4f; largest drop %+.4f", m.classIndex,
                         m.classIndex < names.count ? names[m.classIndex] : "?", m.cleanProbability,
                         Double(top.map { m.dropMap[$0] } ?? 0))
                  + (top.map { " at stage-\(stage) token r\($0 / sensitivity.cols) c\($0 % sensitivity.cols)" } ?? ""))
        }
        print(String(format: "%d occluded copies (+1 clean) of %dx%d in batches of %d: %.2f s", sensitivity.positions.count, h, w, batch, seconds))
        print("wrote \(written.joined(separator: ", ")) to \(out)")
        for n in run.loaded.notes + run.notes { note(n) }
    }
}
