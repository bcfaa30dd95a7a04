// Input loading shared by `record` and `bench` (engine helper).
// Model loading is the checkpoint helper's `ModelOptions`; this file reads the network input.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatRecording

enum EngineInput {
    /// A tensor file [1, 3, H, W] fed as is, or an image through the model's eval transform.
    static func load(_ path: String, config: ModelConfig) throws -> Tensor {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("input \(path) does not exist") }
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return try NPY.read(path: path) }
        if lower.hasSuffix(".safetensors") {
            let all = try SafeTensors.read(path: path)
            if let t = all["input"] { return t }
            if all.count == 1, let t = all.values.first { return t }
            throw CLIError("\(path): expected one tensor or one named 'input' (found \(all.keys.sorted().prefix(5).joined(separator: ", ")))")
        }
        return try preprocessImage(path: path, config: config).tensor
    }

    /// `t` when it holds one image ([1, 3, H, W]); commands that show one image refuse batches.
    static func single(_ t: Tensor, from path: String) throws -> Tensor {
        guard t.shape.count != 4 || t.shape[0] == 1 else {
            throw CLIError("\(path) holds \(t.shape[0]) images \(describe(shape: t.shape)); this command takes one ([1, 3, H, W])")
        }
        return t
    }

    /// A fixed pseudo-random standard-normal input at the model's resolution: `images` different
    /// images [images, 3, H, W] (the first is the same at any count).
    static func pseudoRandom(config: ModelConfig, images: Int = 1) -> Tensor {
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
