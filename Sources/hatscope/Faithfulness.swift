// `hatscope faithfulness`: deletion and insertion curves, pointing game and the randomisation
// sanity check for six saliency sources over a folder of images; sharded, resumable, mergeable.
// The work is HatPipeline's (FaithfulnessJob on DatasetRunner, FaithfulnessOutputs).
import ArgumentParser
import Foundation
import HatPipeline
import HatSystem
import HatViews

struct Faithfulness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faithfulness",
        abstract: "How faithful are attention maps? Deletion/insertion curves, pointing game and a sanity check per saliency source.",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and images: --image \
        (repeatable) and/or --images DIR (sorted by the bytes of the name; --recursive for \
        subfolders). Object boxes for the pointing game come from DIR/labels.json when it exists \
        ({"images": {name: {"objects": [{"x", "y", "r"} or {"box": [x0, y0, x1, y1]}]}}}, in the \
        image file's pixels), as the demo images have it.

        For every image, six saliency maps over stage 3's tokens: occlusion (the drop of the \
        top-1 probability when one token is hidden), rollout, carrier (carrier attention \
        received, spread over pooling boxes), last_block_stage3, last_block_stage4 (attention \
        received in the stage's last block, mean over heads) and random (seeded); each exact \
        definition is in faithfulness.json. Per map: the deletion and insertion curves (tokens \
        removed / revealed most salient first in --steps steps; removed = set to the mean colour, \
        0 after normalisation; class = the clean image's top-1) and their areas, the pointing \
        game, and for --sanity images spread over the list the Spearman correlation with the \
        maps of cascadingly randomised models (head, then stage by stage down); a source whose \
        map does not change is flagged.

        Output, in --out (all files appear together): faithfulness.csv and faithfulness.json \
        (per image and averaged, with the definitions), curves.png, sanity.png and partial.json. \
        --shard K/N does part K of N (one image per block) and writes only partial.json; \
        `hatscope merge OUT PARTS...` combines the parts. A run saves its progress in \
        OUT/.hatscope-progress: killed, the same command continues where it stopped.

        Examples:
          hatscope faithfulness --images assets/demo/images --out faith
          hatscope faithfulness --checkpoint C --images val/ --recursive --sanity 100 --shard 2/8 --out parts/2
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup var dataset: DatasetOptions

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Deletion / insertion steps over the stage-3 tokens (2-1024).")
    var steps: Int = 28

    @Option(help: "Images of the sanity check, spread evenly over the list (0 = none).")
    var sanity: Int = 16

    @Option(help: "Seed of the random map and of the randomised weights.")
    var seed: UInt64 = 0

    @Option(help: "Copies per forward pass (1-256). Part of a run's identity.")
    var batch: Int = 32

    @Option(help: ArgumentHelp("Saliency sources to score, comma-separated (default all: \(SaliencySource.allCases.map(\.rawValue).joined(separator: ","))); occlusion costs one forward pass per stage-3 token.",
                               valueName: "list"))
    var sources: String?

    /// --sources as sources.
    func chosenSources() throws -> [SaliencySource] {
        guard let text = sources else { return SaliencySource.allCases }
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [SaliencySource] = []
        for n in names {
            guard let s = SaliencySource(rawValue: n) else {
                throw ValidationError("--sources: unknown source '\(n)' (choose from \(SaliencySource.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            out.append(s)
        }
        if out.isEmpty { throw ValidationError("--sources: give at least one source") }
        return out
    }

    @Option(help: "Integer enlargement of the figures (1-8).")
    var scale: Int = 2

    func validate() throws {
        if input.inputs.isEmpty && dataset.folder == nil {
            throw ValidationError("give --image FILE (or --input), or --images DIR")
        }
        guard (2 ... 1024).contains(steps) else { throw ValidationError("--steps must be 2-1024 (got \(steps))") }
        guard sanity >= 0 else { throw ValidationError("--sanity must be 0 or more (got \(sanity))") }
        guard (1 ... 256).contains(batch) else { throw ValidationError("--batch must be 1-256 (got \(batch))") }
        guard (1 ... 8).contains(scale) else { throw ValidationError("--scale must be 1-8 (got \(scale))") }
        _ = try chosenSources()
    }

    func run() throws {
        let list = try dataset.list(inputs: input.inputs, blockSize: 1)
        let shard = dataset.shardSpec
        let labels = try dataset.folder.flatMap { try ObjectLabels.read(folder: $0) }
        let outFolder = try OutputFolder(out, option: "--out", resumable: true)
        let model = try self.model.run()
        let settings = FaithfulnessSettings(steps: steps, seed: seed, batch: batch, sanityImages: sanity, sources: try chosenSources())
        let fingerprint = RunFingerprint(tool: "hatscope \(HatScopeVersion.string)", kind: "faithfulness", model: model.loaded,
                                         request: self.model.request, settings: settings.fingerprint)
        let shardImages = list.range(ofBlocks: shard.blocks(of: list.blockCount)).count
        let bar = ProgressLine(label: shard.isWhole ? "faithfulness" : "faithfulness \(shard)", total: shardImages)
        let job = FaithfulnessJob(model: model, settings: settings, labels: labels, listCount: list.count,
                                  classNames: Predict.classNames(for: model.loaded))
        let t0 = Date()
        let (partial, progress) = try DatasetRunner.runShard(
            job, list: list, shard: shard, outFolder: out, fingerprint: fingerprint, model: model,
            jobs: DatasetRunner.defaultJobs(requested: dataset.jobs), decoders: DatasetRunner.defaultDecoders,
            events: dataset.events(bar, label: "faithfulness", noteSkips: list.count > 1))
        bar?.finish()
        let seconds = Date().timeIntervalSince(t0)
        let files = OutputBatch()
        if shard.isWhole {
            guard let report = FaithfulnessOutputs.report(partial) else {
                progress.remove()
                if list.count == 1, let only = partial.skipped.first { throw CLIError("\(only.name): \(only.reason)") }
                throw CLIError("no input could be used (\(partial.skipped.count) skipped, each named above)")
            }
            let written = try FaithfulnessOutputs.write(partial, report: report, into: outFolder, batch: files, scale: scale)
            try files.commit()
            for line in report.textSummary() { print(line) }
            print("wrote \(written.joined(separator: ", ")) to \(out)"
                  + (partial.skipped.isEmpty ? "" : " (\(partial.covered.count) of \(list.count) images; \(partial.skipped.count) skipped, listed in faithfulness.json)"))
        } else {
            try FaithfulnessOutputs.write(partial, report: nil, into: outFolder, batch: files, scale: scale)
            try files.commit()
            print("wrote partial.json to \(out): shard \(shard) of \(list.count) images, \(shardImages) in this shard, "
                  + "\(partial.covered.count) used, \(partial.skipped.count) skipped; combine the shards with `hatscope merge OUT PARTS...`")
        }
        progress.remove()
        outFolder.finish()
        for n in model.loaded.notes + model.notes { note(n) }
        if DeveloperSwitches.timing {
            StandardStreams.error(String(format: "timing: %d image(s): %.1f s, %.2f s per image\n", shardImages, seconds,
                                         seconds / Double(max(1, shardImages))))
        }
    }
}
