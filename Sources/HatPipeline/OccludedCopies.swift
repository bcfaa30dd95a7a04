// Copies of one network input with different parts occluded, through the network in batches:
// the work behind `hatscope occlude` (one copy per patch position) and `hatscope faithfulness`
// (deletion and insertion steps, the occlusion map). Occluded input pixels are set to 0 after
// normalisation, all three channels: the dataset mean colour, as the engine's --occlude does.
import Foundation
import HatCore
import HatModel
import HatRecording

/// Which input pixels of a copy are occluded: [height * width] row-major, true = occluded.
public struct OcclusionMask: Sendable, Equatable {
    public var height: Int, width: Int
    public var bits: [Bool]
    public init(height: Int, width: Int, bits: [Bool]) {
        precondition(bits.count == height * width)
        self.height = height; self.width = width; self.bits = bits
    }

    /// The input pixels under the tokens `tokens` (row-major indices) of a grid of `stride`-pixel
    /// cells with `cols` columns, clipped to the input.
    public init(height: Int, width: Int, tokens: [Int], cols: Int, stride: Int) {
        var bits = [Bool](repeating: false, count: height * width)
        for t in tokens {
            let r0 = (t / cols) * stride, c0 = (t % cols) * stride
            for r in r0 ..< min(height, r0 + stride) {
                for c in c0 ..< min(width, c0 + stride) { bits[r * width + c] = true }
            }
        }
        self.init(height: height, width: width, bits: bits)
    }

    /// Every pixel but those under `tokens` (insertion: the baseline with tokens revealed).
    public func inverted() -> OcclusionMask { OcclusionMask(height: height, width: width, bits: bits.map { !$0 }) }

    public var count: Int { bits.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

extension ModelRun {
    /// The logits [copies][classes] of `input` ([1, 3, H, W]) with each copy's mask applied (nil:
    /// the input as it is), `batch` copies per forward pass. Copy i's logits depend only on its
    /// mask, its place in its batch and the batch's size, so the same call gives the same bits.
    /// `progress(done)` after each batch.
    public func logits(copiesOf input: Tensor, masks: [OcclusionMask?], batch: Int,
                       progress: ((Int) -> Void)? = nil) throws -> [[Float]] {
        let s = input.shape
        guard s.count == 4, s[0] == 1 else { throw PipelineError("occluded copies need one input [1, 3, H, W], got \(describe(shape: s))") }
        let h = s[2], w = s[3], plane = h * w
        try net.validate(input: input)
        var out: [[Float]] = []
        out.reserveCapacity(masks.count)
        var start = 0
        while start < masks.count {
            let end = min(masks.count, start + max(1, batch))
            // One image at a time until the engine's batch forward lands.
            for mask in masks[start ..< end] {
                var data = input.data  // [1, 3, H, W]
                if let m = mask {
                    precondition(m.height == h && m.width == w, "mask size")
                    for ch in 0 ..< 3 {
                        let base = ch * plane
                        for i in 0 ..< plane where m.bits[i] { data[base + i] = 0 }
                    }
                }
                out.append(try net.forward(Tensor(shape: s, data: data)).data)
            }
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
