// `--recording R`, the third way in next to an image and a tensor: explore, export, stats and tour
// draw a recording file (from `hatscope record` or tools/record_torch.py) instead of running the
// model. With it no checkpoint is opened and no forward pass runs, so the model and input options
// are refused beside it. Also: the provenance `record` writes into a recording.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatRecording
import HatRecordingFile

struct RecordingOptions: ParsableArguments {
    @Option(name: .customLong("recording"), help: ArgumentHelp(
        "A recording file (hatscope record, tools/record_torch.py): draw it; the model does not run.",
        valueName: "file"))
    var paths: [String] = []

    var isGiven: Bool { !paths.isEmpty }

    /// Refuses options that only make sense when the model runs (`given`: option name -> whether
    /// it was given).
    func checkAlone(_ given: [(option: String, present: Bool)]) throws {
        guard isGiven else { return }
        if let clash = given.first(where: \.present) {
            throw CLIError("--recording draws a recorded run without the model: leave out \(clash.option)")
        }
    }

    /// The one recording of a command that shows one.
    func single(for command: String) throws -> (path: String, recording: Recording) {
        guard paths.count == 1 else { throw CLIError("\(command) shows one recording; --recording was given \(paths.count) times") }
        return (paths[0], try RecordingReader.read(path: paths[0]))
    }

    /// Every recording, in order.
    func all() throws -> [(path: String, recording: Recording)] {
        try paths.map { ($0, try RecordingReader.read(path: $0)) }
    }
}

/// What `record` writes beside the numbers: checkpoint, input, preprocessing, class names, ...
enum RunProvenance {
    /// Hashes the input file (small); the checkpoint's hash is given when asked for.
    static func make(loaded: LoadedModel, isDemo: Bool, inputPath: String, isImage: Bool, buffers: String,
                     checkpointSHA256: String?) -> Provenance {
        let lower = inputPath.lowercased()
        let kind = isImage ? "image" : lower.hasSuffix(".npy") ? "npy" : "safetensors"
        let config = loaded.config
        let names: [String]
        if isDemo { names = (try? DemoAssets.classNames).flatMap { $0.count == config.numClasses ? $0 : nil } ?? [] }
        else { names = DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: config.numClasses) ?? [] }
        return Provenance(
            producer: "hatscope \(HatScopeVersion.string)",
            checkpoint: .init(path: loaded.checkpointPath, sha256: checkpointSHA256.flatMap { $0.count == 64 ? $0 : nil }, demo: isDemo),
            input: .init(kind: kind, path: inputPath, sha256: try? SHA256.hex(ofFile: inputPath)),
            preprocessing: isImage ? InputPreprocessing(height: config.resolution[0], width: config.resolution[1],
                                                        cropPct: config.cropPct, cropMode: config.cropMode) : nil,
            classNames: names,
            // Filled when the engine's interventions reach the command line; until then every
            // forward pass is the plain one.
            interventions: [],
            buffers: buffers)
    }
}
