// A loaded model made ready to run, and its runs: one input -> logits, or a recording of every
// attention map. Before anything large is allocated the memory a run needs is estimated and
// checked (MemoryEstimate); after the run, NaN or infinite values are traced to the first module
// whose output the recording shows them in.
import Foundation
import HatCore
import HatModel
import HatRecording
import HatSystem

public final class ModelRun: @unchecked Sendable {
    public let loaded: LoadedModel
    public let net: FasterViT
    /// Notes for the person (non-finite values allowed by --allow-nonfinite, ...).
    public private(set) var notes: [String] = []
    private let allowNonfinite: Bool
    private let lock = NSLock()

    /// Builds the model (its position tables are sized for the configured resolution, so the
    /// memory check comes first).
    public init(_ loaded: LoadedModel, allowNonfinite: Bool = false) throws {
        let c = loaded.config
        try MemoryEstimate.check(c, height: c.resolution[0], width: c.resolution[1], recording: false)
        self.loaded = loaded
        self.allowNonfinite = allowNonfinite
        net = try FasterViT(config: c, weights: loaded.weights)
        if !loaded.nonFinite.isEmpty { notes.append("the weights hold non-finite values: \(loaded.nonFinite.summary)") }
    }

    /// The loaded model's configuration with other weights (a randomised copy for the sanity
    /// check); notes and the non-finite policy are the loaded model's.
    init(_ loaded: LoadedModel, weights: [String: Tensor]) throws {
        self.loaded = loaded
        allowNonfinite = true
        net = try FasterViT(config: loaded.config, weights: DictionaryWeightSource(weights))
    }

    public var config: ModelConfig { net.config }

    /// The logits [classes] for one input, with `interventions` applied (none: the plain forward).
    public func logits(_ input: NetworkInput, interventions: [Intervention] = []) throws -> [Float] {
        try prepare(input, recording: false)
        let out = try net.forward(input.tensor, interventions: interventions).data
        if !NonFiniteReport.allFinite(out) {
            // Run again with the recorder to say where the values went bad.
            let recorder = AttentionRecorder(options: RecorderOptions(blocks: nil, maxAttentionBytes: 256 << 20))
            _ = try net.forward(input.tensor, recorder: recorder, interventions: interventions)
            try nonFinite(in: try recorder.recording(), input: input)
        }
        return out
    }

    /// One forward pass with the attention recorder and `interventions` (the recording names them
    /// in its provenance).
    public func record(_ input: NetworkInput, options: RecorderOptions = .init(),
                       interventions: [Intervention] = []) throws -> Recording {
        try prepare(input, recording: true, budget: options.maxAttentionBytes)
        let recorder = AttentionRecorder(options: options)
        _ = try net.forward(input.tensor, recorder: recorder, interventions: interventions)
        let recording = try recorder.recording()
        if !NonFiniteReport.allFinite(recording.logits) { try nonFinite(in: recording, input: input) }
        return recording
    }

    /// Records several inputs of one size as one batch ([N, 3, H, W] through the network at once):
    /// per input, its recording or the error that left it out (a wrong shape, NaN in the output).
    /// Each image's recording depends only on its place in the batch and the batch's size, never
    /// on the other images' values or on what else runs at the same time.
    public func record(batch inputs: [NetworkInput], options: RecorderOptions = .init()) -> [Result<Recording, Error>] {
        var results = [Result<Recording, Error>?](repeating: nil, count: inputs.count)
        var ok: [Int] = []
        for (i, x) in inputs.enumerated() {
            do {
                try prepare(x, recording: true, budget: options.maxAttentionBytes)
                if let first = ok.first, inputs[first].tensor.shape != x.tensor.shape {
                    throw PipelineError("\(UserMessage.name(x.path)): \(describe(shape: x.tensor.shape)) in a batch of \(describe(shape: inputs[first].tensor.shape))")
                }
                ok.append(i)
            } catch { results[i] = .failure(error) }
        }
        if !ok.isEmpty {
            do {
                let s = inputs[ok[0]].tensor.shape
                try MemoryEstimate.check(config, height: s[2], width: s[3], recording: true,
                                         attentionBudget: options.maxAttentionBytes, images: ok.count)
                var data: [Float] = []                                       // [N, 3, H, W]
                data.reserveCapacity(ok.count * inputs[ok[0]].tensor.count)
                for i in ok { data += inputs[i].tensor.data }
                let recorder = AttentionRecorder(options: options)
                _ = try net.forward(Tensor(shape: [ok.count] + s.dropFirst(), data: data), recorder: recorder)
                for (i, rec) in zip(ok, try recorder.recordings()) {
                    do {
                        if !NonFiniteReport.allFinite(rec.logits) { try nonFinite(in: rec, input: inputs[i]) }
                        results[i] = .success(rec)
                    } catch { results[i] = .failure(error) }
                }
            } catch {
                for i in ok { results[i] = .failure(error) }
            }
        }
        return results.map { $0 ?? .failure(PipelineError("not run")) }
    }

    private func prepare(_ input: NetworkInput, recording: Bool, budget: Int = 1 << 30) throws {
        let s = input.tensor.shape
        do { try net.validate(input: input.tensor) } catch let e as ModelError {
            throw PipelineError("\(UserMessage.name(input.path)): \(e)")
        }
        try MemoryEstimate.check(config, height: s[2], width: s[3], recording: recording, attentionBudget: budget)
    }

    /// Reports where non-finite values first appear: an error, or a note when allowed.
    private func nonFinite(in recording: Recording, input: NetworkInput) throws {
        let place = NonFiniteTrace.firstModule(recording) ?? "the classification head (norm, head)"
        let message = "the forward pass on \(UserMessage.name(input.label)) produced NaN or infinite values, first seen in \(place)"
        if allowNonfinite || !loaded.nonFinite.isEmpty {
            lock.withLock { if !notes.contains(message) { notes.append(message) } }
            return
        }
        throw PipelineError(message + " (the weights are finite but too large; --allow-nonfinite shows the results anyway)")
    }
}

/// Where in the forward order a recording first holds a NaN or infinite value.
public enum NonFiniteTrace {
    /// The official module name of the first recorded output with a non-finite value, or nil.
    public static func firstModule(_ r: Recording) -> String? {
        if !NonFiniteReport.allFinite(r.input) { return "the input" }
        for conv in r.convStages where !NonFiniteReport.allFinite(conv.energy) {
            return "levels.\(conv.level) (stage \(conv.level + 1), convolution blocks)"
        }
        for stage in r.stages {
            for (j, block) in stage.blocks.enumerated() {
                if let c = block.carrier, !NonFiniteReport.allFinite(c.probs) {
                    return "levels.\(stage.level).blocks.\(j).hat_attn (stage \(stage.level + 1), carrier attention)"
                }
                if let w = block.window, !NonFiniteReport.allFinite(w.probs) {
                    return "levels.\(stage.level).blocks.\(j).attn (stage \(stage.level + 1), window attention)"
                }
            }
            if let p = stage.propagation, !NonFiniteReport.allFinite(p) {
                return "levels.\(stage.level) (stage \(stage.level + 1), carrier propagation)"
            }
        }
        return nil
    }
}

