// How much memory a forward pass will take, estimated before anything is allocated, and how much
// the machine can give (available RAM, the cgroup's limit, the address-space limit): an input
// that cannot fit is refused with one line instead of dying in the allocator.
import Foundation
import HatModel
import HatRecording
import HatSystem

public enum MemoryEstimate {
    /// Bytes a forward pass of `config` on an h x w input needs beyond the loaded weights: the
    /// largest stage's working buffers (patch embedding at H/2, each stage's activations with
    /// their convolution or attention scratch) plus, when recording, the kept attention maps.
    public static func forward(_ c: ModelConfig, height h: Int, width w: Int, recording: Bool,
                               attentionBudget: Int = 1 << 30) -> Int {
        let f = 4  // bytes per float
        // Patch embedding: the stride-2 convolution's output at H/2 and its input/column buffers.
        var peak = (h / 2) * (w / 2) * c.inDim * f * 3 + (h / 4) * (w / 4) * 9 * c.inDim * f
        var maps = 0
        for level in 0 ..< 4 {
            let div = 1 << (2 + level)
            let tokens = max(1, h / div) * max(1, w / div)
            let ch = c.stageDim(level)
            if level < 2 {
                // Residual conv blocks: input, output, Winograd transforms (36 per 16 outputs) both ways.
                peak = max(peak, tokens * ch * f * 8)
            } else {
                let window = max(1, c.windowSize[level])
                let padded = ((h / div + window - 1) / window * window) * ((w / div + window - 1) / window * window)
                let ct = c.hat[level] ? c.ctSize * c.ctSize : 0
                let windows = padded / (window * window)
                let t = window * window + ct
                let heads = max(1, c.heads[level])
                // qkv, MLP hidden (mlp_ratio), residual copies; scores and probabilities per block.
                let activations = padded * ch * f * (6 + Int(c.mlpRatio.rounded(.up)))
                let scores = windows * heads * t * t * f * 2
                peak = max(peak, activations + scores)
                if recording { maps += windows * heads * t * t * f * max(1, c.depths[level]) }
            }
        }
        let recorded = recording ? min(maps, attentionBudget) + 3 * h * w * f : 0
        return peak + recorded
    }

    /// Bytes this process can still allocate, as far as the system says: the smaller of the
    /// kernel's MemAvailable, the cgroup's remaining limit and the address-space limit. nil
    /// when none is known.
    public static func available() -> Int? {
        var limits: [Int] = []
        if let text = try? InputFile.readText("/proc/meminfo", limit: 1 << 16),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
            limits.append(kb * 1024)
        }
        if let max = try? InputFile.readText("/sys/fs/cgroup/memory.max", limit: 256),
           let limit = Int(max.trimmingCharacters(in: .whitespacesAndNewlines)),
           let cur = try? InputFile.readText("/sys/fs/cgroup/memory.current", limit: 256),
           let used = Int(cur.trimmingCharacters(in: .whitespacesAndNewlines)) {
            limits.append(Swift.max(0, limit - used))
        }
        var rl = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &rl) == 0, rl.rlim_cur != rlim_t.max {
            // The address space already in use counts against it (VmSize).
            var used = 0
            if let status = try? InputFile.readText("/proc/self/status", limit: 1 << 16),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmSize:") }),
               let kb = Int(line.split(separator: " ").dropFirst().first ?? "") { used = kb * 1024 }
            limits.append(Swift.max(0, Int(rl.rlim_cur) - used))
        }
        return limits.min()
    }

    /// Refuses an input size whose forward pass would not fit in memory; a batch of `images`
    /// needs each image's buffers (and, recording, each image's maps: the budget is per image).
    public static func check(_ c: ModelConfig, height h: Int, width w: Int, recording: Bool,
                             attentionBudget: Int = 1 << 30, images: Int = 1) throws {
        let one = forward(c, height: h, width: w, recording: recording, attentionBudget: attentionBudget)
        let product = one.multipliedReportingOverflow(by: max(1, images))
        let need = product.overflow ? Int.max : product.partialValue
        guard let have = available(), need > have else { return }
        let what = images > 1 ? "a batch of \(images) \(h)x\(w) inputs" : "a \(h)x\(w) input"
        throw PipelineError("\(what) needs about \(gigabytes(need)) of memory for \(c.name), "
                            + "more than the \(gigabytes(have)) available; use \(images > 1 ? "a smaller batch" : "a smaller input size")")
    }

    static func gigabytes(_ n: Int) -> String {
        n >= 1 << 30 ? String(format: "%.1f GB", Double(n) / Double(1 << 30)) : "\(n >> 20) MB"
    }
}

