// Model + one input -> one recorded forward pass, with the labels the explorer and the tour show
// (model name, checkpoint, input file, class names), and the model kept ready to run again on the
// same input with other interventions (the explorer's live mode, the tour's carrier step). Shared
// by `explore`, `tour` and the developer tool so they all load the same way.
import Foundation
import HatModel
import HatRecording
import HatSystem

public struct RecordedRun: Sendable {
    /// The forward pass with `interventions` (the plain one when there are none).
    public var recording: Recording
    /// The interventions `recording` was run with (from the command line).
    public var interventions: [Intervention]
    /// The plain forward pass, when `interventions` is not empty (nil: `recording` is the plain one).
    public var plain: Recording?
    public var modelName: String
    public var checkpointFile: String
    public var isDemo: Bool
    public var inputLabel: String
    public var classNames: [String]
    /// Notes for the person (non-finite values allowed, ...).
    public var notes: [String]
    public let digest: BackgroundDigest
    private let model: ModelRun
    private let input: NetworkInput
    /// Said in every recording's notes when it matters (buffers that differ from the geometry).
    private let auditNote: String?
    /// One forward at a time on this model (the explorer's background runs and the tour's step
    /// may ask at once; the engine's threads are shared anyway).
    private let gate: ForwardGate

    /// Loads the model and records one forward pass on `inputPath` (nil: the demo image), with
    /// the interventions `resolve` gives for the model's configuration and the input's height and
    /// width (it checks them: one that does not apply throws before anything runs). Every block's
    /// attention is kept while it fits the recorder's budget (all official variants at 224);
    /// otherwise the recorder keeps the last block per stage and says so.
    public static func make(_ request: ModelRequest, input inputPath: String?,
                            interventions resolve: (ModelConfig, Int, Int) throws -> [Intervention] = { _, _, _ in [] })
        throws -> RecordedRun {
        let path = try inputPath ?? DemoAssets.defaultImage
        let file = try NetworkInputReader.open(path)
        let model = try ModelRun(try ModelLoader.load(request, inputResolution: file.resolution),
                                 allowNonfinite: request.allowNonfinite)
        let input = try file.input(for: model.config)
        let size = (input.tensor.shape[2], input.tensor.shape[3])
        let list = try resolve(model.config, size.0, size.1)
        let loaded = model.loaded
        // Said in the Notes panel when it matters: stored buffers that differ, or --buffers geometry.
        let audit = loaded.bufferAudit(resolution: [size.0, size.1])
        let note = audit.forwardBuffersDiffer || loaded.buffers == .geometry ? audit.summary() : nil
        let names = loaded.isDemo ? ((try? DemoAssets.classNames) ?? [])
            : DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: model.config.numClasses) ?? []
        let gate = ForwardGate()
        let plain = try record(model, input, list: [], note: note, gate: gate)
        let recording = list.isEmpty ? plain : try record(model, input, list: list, note: note, gate: gate)
        return RecordedRun(recording: recording, interventions: list, plain: list.isEmpty ? nil : plain,
                           modelName: loaded.config.name,
                           checkpointFile: String(loaded.checkpointPath.split(separator: "/").last ?? ""),
                           isDemo: loaded.isDemo, inputLabel: input.label, classNames: names,
                           notes: loaded.notes + model.notes, digest: loaded.digest, model: model, input: input,
                           auditNote: note, gate: gate)
    }

    /// The model run again on the same input with `interventions` (the whole list; none = the
    /// plain forward). Safe to call from any thread; forwards run one at a time.
    public func run(_ interventions: [Intervention]) throws -> Recording {
        try Self.record(model, input, list: interventions, note: auditNote, gate: gate)
    }

    /// The logits of a forward pass without the recorder (benchmarks compare with it).
    public func logits(_ interventions: [Intervention] = []) throws -> [Float] {
        try gate.lock.withLock { try model.logits(input, interventions: interventions) }
    }

    private static func record(_ model: ModelRun, _ input: NetworkInput, list: [Intervention], note: String?,
                               gate: ForwardGate) throws -> Recording {
        var r = try gate.lock.withLock { try model.record(input, interventions: list) }
        if let note { r.notes.append(note) }
        return r
    }

    /// "demo (fastervit_demo.pth.tar)" or the checkpoint's file name.
    public var checkpointLabel: String { isDemo ? "demo (\(checkpointFile))" : checkpointFile }
}

/// The lock that keeps forwards of one RecordedRun one at a time.
private final class ForwardGate: Sendable {
    let lock = NSLock()
}
