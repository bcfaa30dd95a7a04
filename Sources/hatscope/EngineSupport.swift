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
        if let t = try tensorFile(path) { return t }
        return try preprocessImage(path: path, config: config).tensor
    }

    /// The tensor of a .npy / .safetensors input, nil for an image (read before the model loads:
    /// its shape can decide the resolution the model is built for).
    static func tensorFile(_ path: String) throws -> Tensor? {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("input \(path) does not exist") }
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return try NPY.read(path: path) }
        if lower.hasSuffix(".safetensors") {
            let all = try SafeTensors.read(path: path)
            if let t = all["input"] { return t }
            if all.count == 1, let t = all.values.first { return t }
            throw CLIError("\(path): expected one tensor or one named 'input' (found \(all.keys.sorted().prefix(5).joined(separator: ", ")))")
        }
        return nil
    }

    /// [H, W] of a [N, C, H, W] tensor, else nil (the model's input check reports the shape).
    static func resolution(of t: Tensor) -> [Int]? {
        t.shape.count == 4 ? [t.shape[2], t.shape[3]] : nil
    }

    /// A fixed pseudo-random standard-normal input at the model's resolution.
    static func pseudoRandom(config: ModelConfig) -> Tensor {
        let h = config.resolution[0], w = config.resolution[1]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        var data = [Float](repeating: 0, count: 3 * h * w)
        for i in 0..<data.count { data[i] = Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) }
        return Tensor(shape: [1, 3, h, w], data: data)
    }
}
