// The pseudo-random input `bench` uses when none is given.
import Foundation
import HatCore
import HatModel
import HatRecording

enum PseudoRandomInput {
    /// A fixed pseudo-random standard-normal input at the model's resolution: `images` different
    /// images [images, 3, H, W] (the first is the same at any count).
    static func make(config: ModelConfig, images: Int = 1) -> Tensor {
        let h = config.resolution[0], w = config.resolution[1]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        var data = [Float](repeating: 0, count: images * 3 * h * w)
        for i in 0..<data.count { data[i] = Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) }
        return Tensor(shape: [images, 3, h, w], data: data)
    }
}
