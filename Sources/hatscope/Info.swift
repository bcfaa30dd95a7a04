// `hatscope info`: what a checkpoint holds and how hatscope will run it, without running it.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatPipeline
import HatRecording
import HatSystem

/// Every line `info` prints goes out with its control characters escaped: tensor names, metadata
/// and training extras are the checkpoint author's text, and a terminal must only ever show them.
private func print(_ line: String) {
    Swift.print(UserMessage.escaped(line))
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a checkpoint: inferred FasterViT variant, parameters, per-stage geometry, preprocessing, extras.",
        discussion: """
        Input: a torch.save checkpoint (zip or legacy) or a safetensors file; without one, the \
        embedded demo model. Nothing in the file is executed.
        Output (stdout): file format and SHA-256, where the state dict was found, the inferred variant \
        (or the --model / --config override) with notes on anything the file cannot tell, the \
        parameter count, per-stage geometry (token grid, windows, tokens per window, carrier tokens \
        and the pixels each one summarises), the evaluation preprocessing, the strict weight mapping \
        result, how the stored relative-position buffers compare with the geometry (per buffer \
        kind: how many entries differ and by how much, e.g. an EMA-truncated \
        relative_position_index; relative_bias deploy caches against the position MLPs), and the \
        checkpoint's other entries (epoch, optimizer, args, ...). --ema describes the EMA weights; \
        --resolution the model built for another input size.
        Exit status 1 when the tensors do not match the model (the mismatch is listed in full) or \
        hold NaN or infinite values (listed per tensor; --allow-nonfinite accepts them).

        Example:
          hatscope info fastervit_0_224_1k.pth.tar
          hatscope info --ema --model faster_vit_4_21k_384 model_best.pth.tar
        """)

    @Argument(help: ArgumentHelp("The checkpoint (default: --checkpoint, else the embedded demo).", valueName: "checkpoint"))
    var path: String?

    @OptionGroup var options: ModelOptions

    func run() throws {
        let request = options.request
        let path = try ModelLoader.checkpointPath(request, override: self.path)
        _ = try request.bufferChoice()
        let (sd, sha) = try ModelLoader.readStateDict(request, path: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("checkpoint    \(path)")
        print("              \(sd.format) format, \(megabytes(size)), sha256 \(sha.value)")
        var where_ = sd.source == "(top level)" ? "bare state dict" : sd.source == "(safetensors)" ? "the safetensors file" : "'\(sd.source)'"
        if let m = sd.pickledModule {
            where_ = "a whole pickled \(m) module" + (sd.source == "(top level)" ? "" : " in '\(sd.source)'") + " (read as data, nothing run)"
        }
        if let p = sd.strippedPrefix { where_ += ", '\(p)' prefix removed" }
        if let p = sd.submodule { where_ += ", the FasterViT under '\(p)'" }
        let types = Dictionary(grouping: sd.storedTypes.values, by: { $0 }).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
        print("state dict    \(sd.tensors.count) tensors from \(where_) (\(types.joined(separator: ", ")))")

        var config: ModelConfig, notes: [String]
        do {
            (config, notes) = try ModelLoader.resolveConfig(request, shapes: sd.shapes)
            notes += try ModelLoader.settleResolution(request, &config, shapes: sd.shapes, input: nil, path: path, describing: true)
        } catch {
            printExtras(sd.extras)
            throw error
        }
        let inferredCustom = options.model == nil && options.config == nil && config.name == "custom"
        if inferredCustom {
            // Named like everywhere else (titles, recordings): by the checkpoint's own arch entry.
            let arch = ModelLoader.archName(in: sd.extras)
            print("variant       \(arch ?? "custom") (\(arch == nil ? "" : "the checkpoint's arch; ")a custom configuration "
                  + "inferred from the tensor shapes: no official preset matches)")
        } else {
            let how = options.model != nil ? "(--model)" : options.config != nil ? "(--config)" : "(inferred: matches the official preset)"
            print("variant       \(config.name) \(how)")
        }
        // The inference's own "no preset matches" note would repeat the line above.
        for n in notes where !(inferredCustom && n.hasPrefix("no official preset matches")) { print("              note: \(n)") }
        let expected = FasterViT.parameterShapes(for: config)
        // The official TokenInitializer registers one conv under two names (pos_embed and
        // to_global_feature.pos): count it once, as model.parameters() does.
        let params = expected.filter { !$0.0.hasSuffix(".running_mean") && !$0.0.hasSuffix(".running_var")
            && !$0.0.contains(".global_tokenizer.to_global_feature.pos.") }
            .reduce(0) { $0 + $1.1.reduce(1, *) }
        print("parameters    \(grouped(params)) learned (\(expected.count) tensors read by the model; BatchNorm statistics excluded)")
        let ls = config.layerScale.map { _ in "layer scale (gammas)" } ?? "no layer scale"
        // Stages 1-2 are convolutional: their head counts are in no tensor and never used, so an
        // inferred configuration holds placeholders there; show them as unknown, not as the model's.
        let heads = inferredCustom
            ? "[" + config.heads.enumerated().map { $0.offset < 2 ? "?" : "\($0.element)" }.joined(separator: ", ")
                + "] (stages 1-2 are convolutional: their head count is in no tensor and never used)"
            : "\(config.heads)"
        print("architecture  dim \(config.dim), in_dim \(config.inDim), depths \(config.depths), heads \(heads), "
              + "mlp_ratio \(format(config.mlpRatio)), \(ls), propagation \(config.doPropagation ? "on" : "off"), "
              + "\(config.numClasses) classes")
        print("              windows \(config.windowSize), carrier tokens \(config.ctSize)x\(config.ctSize) per window, "
              + "hierarchical attention \(config.hat.map { $0 ? "T" : "F" }.joined(separator: ","))")
        printStages(config)
        let pct = Double("\(config.cropPct)") ?? Double(config.cropPct)
        let scale = config.resolution.map { Int((Double($0) / pct).rounded(.down)) }
        let resize = config.cropMode == "squash" ? "resize to \(scale[0])x\(scale[1]) (squash)"
            : scale[0] == scale[1] ? "resize shorter side to \(scale[0])" : "resize keeping the aspect ratio to cover \(scale[0])x\(scale[1])"
        print("preprocessing \(resize), bicubic, center crop \(config.resolution[0])x\(config.resolution[1]) "
              + "(crop_pct \(format(config.cropPct)), \(config.cropMode)); /255, mean \(list(ModelConfig.imagenetMean)), "
              + "std \(list(ModelConfig.imagenetStd))")
        var mismatch: String?
        do {
            let optional = WeightMapping.optionalShapes(for: config)
            try WeightMapping.verify(file: sd.shapes, expected: expected, optional: optional)
            let skipped = optional.filter { sd.tensors[$0.0] != nil }.count
            print("mapping       ok: all \(expected.count) learned tensors present with the expected shapes, "
                  + (skipped > 0 ? "\(skipped) not used at \(config.resolution[0])x\(config.resolution[1]) (carrier-token parts this input size skips)" : "none unused"))
            try printBuffers(sd, config: config)
        } catch let e as WeightError {
            // The full list here: the other commands show ten lines and point to this one.
            let lines = WeightMapping.report(e, limit: Int.max)
            mismatch = lines[0]
            print("mapping       MISMATCH")
            for line in lines { print("              \(line)") }
        }
        let nonFinite = NonFiniteReport.scan(sd.tensors.filter { !WeightMapping.isDerived($0.key) })
        if nonFinite.isEmpty {
            print("values        all finite")
        } else {
            print("values        NON-FINITE: \(nonFinite.summary)")
            for line in nonFinite.lines { print("              \(line)") }
        }
        printExtras(sd.extras)
        if let m = mismatch {
            throw CLIError("\(path) does not match \(config.name): \(m)")
        }
        if !nonFinite.isEmpty && !options.allowNonfinite {
            throw CLIError("\(path): \(nonFinite.summary) (listed above; --allow-nonfinite loads it anyway)")
        }
    }

    private func printStages(_ c: ModelConfig) {
        let h = c.resolution[0], w = c.resolution[1]
        let geometry = ModelGeometry(config: c, inputHeight: h, inputWidth: w)
        print("stages        input \(h)x\(w)")
        print("              stage  tokens    channels  blocks  kind")
        for level in 0..<4 {
            let (gh, gw) = level < 2 ? (geometry.convStages[level].height, geometry.convStages[level].width)
                                     : (geometry.stages[level - 2].height, geometry.stages[level - 2].width)
            let grid = "\(gh)x\(gw)".padding(toLength: 9, withPad: " ", startingAt: 0)
            let head = "              \(level + 1)      \(grid) \(String(c.stageDim(level)).padding(toLength: 9, withPad: " ", startingAt: 0)) \(String(c.depths[level]).padding(toLength: 7, withPad: " ", startingAt: 0)) "
            if level < 2 { print(head + "convolution"); continue }
            let L = geometry.stages[level - 2], ww = L.windowSize * L.windowSize
            var kind = "attention, window \(L.windowSize)x\(L.windowSize), \(L.windowRows)x\(L.windowCols) windows"
            if L.windowCount == 1 { kind += " (global)" }
            if L.isPadded { kind += ", padded to \(L.paddedHeight)x\(L.paddedWidth)" }
            if L.hasCarriers {
                let ct = L.carriersPerWindow
                kind += ", \(L.tokensPerWindow) tokens per window (\(ct) carrier + \(ww))"
                print(head + kind)
                print("                                                 carrier tokens \(L.carrierRows)x\(L.carrierCols) = \(L.carrierCount), "
                      + "pool kernel \(L.poolKernelH)x\(L.poolKernelW) stride \(L.poolStrideH)x\(L.poolStrideW): each summarises "
                      + "\(L.poolKernelH * L.stride)x\(L.poolKernelW * L.stride) pixels")
            } else {
                print(head + kind + ", \(ww) tokens per window, no carrier tokens")
            }
        }
    }

    /// How the stored buffers compare with the geometry (BufferAudit) and which ones the model
    /// runs on (--buffers).
    private func printBuffers(_ sd: LoadedStateDict, config: ModelConfig) throws {
        let derived = sd.tensors.filter { WeightMapping.isDerived($0.key) }
        let choice = try options.request.bufferChoice()
        let reads = choice == .stored
            ? "stored (--buffers): the model reads the checkpoint's relative_coords_table and relative_position_index where they fit this input, as the official forward does"
            : "geometry (--buffers): relative_coords_table and relative_position_index recomputed, the checkpoint's ignored"
        print("buffers       \(reads); \(derived.count) derived buffers in the file")
        let audit = BufferAudit(config: config, tensors: sd.tensors, resolution: config.resolution, choice: choice)
        for line in audit.lines(storedTypes: sd.storedTypes.mapValues(\.rawValue)) { print("              \(line)") }
    }

    private func printExtras(_ extras: [String]) {
        guard !extras.isEmpty else { print("extras        none"); return }
        print("extras        \(extras.count) other entr\(extras.count == 1 ? "y" : "ies"):")
        for e in extras.prefix(40) { print("              \(e)") }
        if extras.count > 40 { print("              ... and \(extras.count - 40) more") }
    }

    private func megabytes(_ n: Int) -> String { String(format: "%.1f MB", Double(n) / 1_000_000) }
    private func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.enumerated() { if i > 0 && (s.count - i) % 3 == 0 { out += "," }; out.append(ch) }
        return out
    }
    private func format(_ f: Float) -> String { "\(f)" }
    private func list(_ v: [Float]) -> String { "[" + v.map(format).joined(separator: ", ") + "]" }
}
