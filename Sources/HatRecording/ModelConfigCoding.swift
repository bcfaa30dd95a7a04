// JSON form of ModelConfig (`--config FILE.json`). Written with hatscope's own field names; read
// with either those or the official FasterViT constructor's keyword names (`in_dim`, `num_heads`,
// `window_size`, `ct_size`, `layer_scale`, `do_propagation`, ...), so a configuration copied from
// a training script works as is. Omitted fields take the official constructor's defaults.
import Foundation

extension ModelConfig {
    private enum Key: String, CodingKey, CaseIterable {
        case name, dim, inDim, depths, heads, windowSize, ctSize, mlpRatio, layerScale, layerScaleConv
        case hat, doPropagation, numClasses, resolution, cropPct, cropMode
        // The official spellings.
        case in_dim, num_heads, window_size, ct_size, mlp_ratio, layer_scale, layer_scale_conv
        case do_propagation, num_classes, crop_pct, crop_mode, arch
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func first<T: Decodable>(_ keys: Key..., as _: T.Type) throws -> T? {
            for k in keys where c.contains(k) {
                if try c.decodeNil(forKey: k) { return nil }
                return try c.decode(T.self, forKey: k)
            }
            return nil
        }
        func required<T: Decodable>(_ keys: Key..., as t: T.Type) throws -> T {
            for k in keys where c.contains(k) { return try c.decode(T.self, forKey: k) }
            throw DecodingError.keyNotFound(keys[0], .init(codingPath: c.codingPath,
                debugDescription: "the configuration needs \(keys.map(\.rawValue).joined(separator: " or "))"))
        }
        /// A per-stage list, also accepted as one number for all four stages (as the official
        /// constructor accepts for some arguments).
        func perStage<T: Decodable>(_ keys: Key..., as _: T.Type) throws -> [T]? {
            for k in keys where c.contains(k) {
                if let v = try? c.decode([T].self, forKey: k) { return v }
                return Array(repeating: try c.decode(T.self, forKey: k), count: 4)
            }
            return nil
        }
        let name = try first(.name, .arch, as: String.self) ?? "custom"
        let dim = try required(.dim, as: Int.self)
        let inDim = try required(.inDim, .in_dim, as: Int.self)
        let depths = try required(.depths, as: [Int].self)
        let heads = try perStage(.heads, .num_heads, as: Int.self)
        let window = try perStage(.windowSize, .window_size, as: Int.self) ?? [7, 7, 7, 7]
        guard let heads else {
            throw DecodingError.keyNotFound(Key.heads, .init(codingPath: c.codingPath, debugDescription: "the configuration needs heads or num_heads"))
        }
        // resolution: [h, w] or one number.
        var resolution = [224, 224]
        for k in [Key.resolution] where c.contains(k) {
            if let r = try? c.decode([Int].self, forKey: k) { resolution = r.count == 1 ? [r[0], r[0]] : r }
            else { let r = try c.decode(Int.self, forKey: k); resolution = [r, r] }
        }
        let layerScale = try first(.layerScale, .layer_scale, as: Float.self)
        self.init(name: name, dim: dim, inDim: inDim, depths: depths, heads: heads, windowSize: window,
                  ctSize: try first(.ctSize, .ct_size, as: Int.self) ?? 2,
                  mlpRatio: try first(.mlpRatio, .mlp_ratio, as: Float.self) ?? 4,
                  layerScale: layerScale,
                  layerScaleConv: try first(.layerScaleConv, .layer_scale_conv, as: Float.self),
                  hat: try first(.hat, as: [Bool].self) ?? [false, false, true, false],
                  doPropagation: try first(.doPropagation, .do_propagation, as: Bool.self) ?? false,
                  numClasses: try first(.numClasses, .num_classes, as: Int.self) ?? 1000,
                  resolution: resolution,
                  cropPct: try first(.cropPct, .crop_pct, as: Float.self) ?? 1.0,
                  cropMode: try first(.cropMode, .crop_mode, as: String.self) ?? "center")
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: .name); try c.encode(dim, forKey: .dim); try c.encode(inDim, forKey: .inDim)
        try c.encode(depths, forKey: .depths); try c.encode(heads, forKey: .heads)
        try c.encode(windowSize, forKey: .windowSize); try c.encode(ctSize, forKey: .ctSize)
        try c.encode(mlpRatio, forKey: .mlpRatio); try c.encode(layerScale, forKey: .layerScale)
        try c.encode(layerScaleConv, forKey: .layerScaleConv); try c.encode(hat, forKey: .hat)
        try c.encode(doPropagation, forKey: .doPropagation); try c.encode(numClasses, forKey: .numClasses)
        try c.encode(resolution, forKey: .resolution); try c.encode(cropPct, forKey: .cropPct)
        try c.encode(cropMode, forKey: .cropMode)
    }

    /// Rejects configurations no FasterViT can have, with the reason.
    public func validate() throws {
        func bad(_ why: String) -> DecodingError {
            DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: why))
        }
        guard dim > 0, inDim > 0 else { throw bad("dim and in_dim must be positive") }
        guard depths.count == 4, heads.count == 4, windowSize.count == 4, hat.count == 4 else {
            throw bad("depths, heads, window_size and hat need one entry per stage (4)")
        }
        guard depths.allSatisfy({ $0 >= 0 }), heads.allSatisfy({ $0 > 0 }), windowSize.allSatisfy({ $0 > 0 }) else {
            throw bad("depths must be >= 0, heads and window sizes > 0")
        }
        for i in 2..<4 where depths[i] > 0 && (dim << i) % heads[i] != 0 {
            throw bad("stage \(i + 1): \(dim << i) channels do not split into \(heads[i]) heads")
        }
        guard ctSize > 0, mlpRatio > 0, numClasses > 0 else { throw bad("ct_size, mlp_ratio and num_classes must be positive") }
        guard resolution.count == 2, resolution.allSatisfy({ $0 > 0 }) else { throw bad("resolution must be [height, width] > 0") }
        guard cropMode == "center" || cropMode == "squash" || cropMode == "border" else {
            throw bad("crop_mode must be center, squash or border")
        }
    }
}

/// A configuration file that cannot be used, with a readable reason.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
}

extension ModelConfig {
    /// Decodes a `--config` JSON file's contents, turning decoding errors into one readable line.
    public static func decodeJSON(_ data: Data) throws -> ModelConfig {
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let e as DecodingError {
            switch e {
            case let .keyNotFound(_, ctx), let .dataCorrupted(ctx):
                throw ConfigError(description: ctx.debugDescription.isEmpty ? "not valid JSON" : ctx.debugDescription)
            case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx):
                let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
                throw ConfigError(description: "field \(path) has the wrong type (\(ctx.debugDescription))")
            @unknown default:
                throw ConfigError(description: "\(e)")
            }
        }
    }
}
