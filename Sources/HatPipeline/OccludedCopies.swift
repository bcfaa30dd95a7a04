// Copies of one network input with different parts occluded, through the network in batches:
// the work behind `hatscope occlude` (one copy per patch position, each an `--occlude-box`) and
// `hatscope faithfulness` (deletion and insertion steps, the occlusion map: pixel masks). The
// engine applies each copy's interventions to that copy only (FasterViT.forward(perImage:)):
// occluded input pixels are set to 0 after normalisation, all three channels, the dataset mean
// colour.
import Foundation
import HatCore
import HatModel
import HatRecording

extension PixelMask {
    /// The input pixels under the tokens `tokens` (row-major indices) of a grid of `stride`-pixel
    /// cells with `cols` columns, clipped to the input.
    public init(height: Int, width: Int, tokens: [Int], cols: Int, stride: Int, label: String = "tokens") {
        var bits = [Bool](repeating: false, count: height * width)
        for t in tokens {
            let r0 = (t / cols) * stride, c0 = (t % cols) * stride
            for r in r0 ..< min(height, r0 + stride) {
                for c in c0 ..< min(width, c0 + stride) { bits[r * width + c] = true }
            }
        }
        self.init(height: height, width: width, bits: bits, label: label)
    }
}

extension ModelRun {
    /// The logits [copies][classes] of `input` ([1, 3, H, W]) with each copy's interventions
    /// applied (an empty list: the input as it is), `batch` copies per forward pass. Copy i's
    /// logits depend only on its interventions, its place in its batch and the batch's size, so
    /// the same call gives the same bits. `progress(done)` after each batch.
    public func logits(copiesOf input: Tensor, interventions: [[Intervention]], batch: Int,
                       progress: ((Int) -> Void)? = nil) throws -> [[Float]] {
        let s = input.shape
        guard s.count == 4, s[0] == 1 else { throw PipelineError("occluded copies need one input [1, 3, H, W], got \(describe(shape: s))") }
        try net.validate(input: input)
        let size = max(1, min(batch, interventions.count))
        try MemoryEstimate.check(config, height: s[2], width: s[3], recording: false, images: size)
        var out: [[Float]] = []
        out.reserveCapacity(interventions.count)
        var start = 0
        while start < interventions.count {
            let end = min(interventions.count, start + size)
            let n = end - start
            var data: [Float] = []                                       // [n, 3, H, W]
            data.reserveCapacity(n * input.count)
            for _ in 0 ..< n { data += input.data }
            let logits = try net.forward(Tensor(shape: [n] + s.dropFirst(), data: data),
                                         perImage: Array(interventions[start ..< end])).data   // [n, classes]
            let classes = logits.count / n
            for i in 0 ..< n { out.append(Array(logits[i * classes ..< (i + 1) * classes])) }
            start = end
            progress?(start)
        }
        return out
    }
}

/// Softmax probabilities of logits, in Double (accumulated in Double for the sums of many images).
public func softmax(_ logits: [Float]) -> [Double] {
    guard let m = logits.max() else { return [] }
    let e = logits.map { Foundation.exp(Double($0 - m)) }
    let z = e.reduce(0, +)
    return e.map { $0 / z }
}
