// Model + one input -> one recorded forward pass, with the labels the explorer and the tour show
// (model name, checkpoint, input file, class names). Shared by `explore`, `tour` and the
// developer tool so they all load the same way.
import HatModel
import HatRecording
import HatSystem

public struct RecordedRun: Sendable {
    public var recording: Recording
    public var modelName: String
    public var checkpointFile: String
    public var isDemo: Bool
    public var inputLabel: String
    public var classNames: [String]
    /// Notes for the person (non-finite values allowed, ...).
    public var notes: [String]
    public let digest: BackgroundDigest

    /// Loads the model and records one forward pass on `inputPath` (nil: the demo image). Every
    /// block's attention is kept while it fits the recorder's budget (all official variants at
    /// 224); otherwise the recorder keeps the last block per stage and says so.
    public static func make(_ request: ModelRequest, input inputPath: String?) throws -> RecordedRun {
        let path = try inputPath ?? DemoAssets.defaultImage
        let file = try NetworkInputReader.open(path)
        let model = try ModelRun(try ModelLoader.load(request, inputResolution: file.resolution),
                                 allowNonfinite: request.allowNonfinite)
        let input = try file.input(for: model.config)
        var recording = try model.record(input)
        let loaded = model.loaded
        // Said in the Notes panel when it matters: stored buffers that differ, or --buffers geometry.
        let audit = loaded.bufferAudit(resolution: [input.tensor.shape[2], input.tensor.shape[3]])
        if audit.forwardBuffersDiffer || loaded.buffers == .geometry { recording.notes.append(audit.summary()) }
        let names = loaded.isDemo ? ((try? DemoAssets.classNames) ?? [])
            : DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: recording.logits.count) ?? []
        return RecordedRun(recording: recording, modelName: loaded.config.name,
                           checkpointFile: String(loaded.checkpointPath.split(separator: "/").last ?? ""),
                           isDemo: loaded.isDemo, inputLabel: input.label, classNames: names,
                           notes: loaded.notes + model.notes, digest: loaded.digest)
    }

    /// "demo (fastervit_demo.pth.tar)" or the checkpoint's file name.
    public var checkpointLabel: String { isDemo ? "demo (\(checkpointFile))" : checkpointFile }
}
