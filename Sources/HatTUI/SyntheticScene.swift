// A synthetic recording for `hatscope explore --synthetic` and the tests: the real geometry of a
// preset (from HatViews' SyntheticRecording) with attention that has visible structure (each
// head looks at a neighbourhood of a different size) over a drawn scene (sky, sun, ground), so a
// frame shows something recognisable without a model.
import Foundation
import HatRecording
import HatViews

public enum SyntheticScene {
    public static func recording(config: ModelConfig? = nil) -> Recording {
        let cfg = config ?? ModelConfig.presets[0]
        var rec = SyntheticRecording.make(config: cfg, fill: weight)
        rec.input = image(width: rec.inputWidth, height: rec.inputHeight)
        rec.notes = ["synthetic recording: drawn scene, made-up attention (no model ran)"]
        return rec
    }

    /// Window attention: carriers get a head-dependent share; tokens fall off with distance from
    /// the query, faster for low heads. Carrier attention falls off with index distance.
    static func weight(_ e: SyntheticRecording.Entry) -> Float {
        let spread = Float(e.head + 1) * 0.8
        switch e.attention {
        case .carrier:
            return expf(-Float(abs(e.query - e.key)) / spread)
        default:
            let cc = e.carrierKeys
            let w = Int(Float(e.keys - cc).squareRoot().rounded())
            if e.key < cc { return 0.05 * Float(e.head + 1) + (e.query == e.key ? 1 : 0) }
            let k = e.key - cc
            let q = e.query < cc ? (w / 2) * w + w / 2 : e.query - cc
            let dr = Float(k / max(1, w) - q / max(1, w)), dc = Float(k % max(1, w) - q % max(1, w))
            return expf(-(dr * dr + dc * dc).squareRoot() / spread) + Float(e.block) * 0.01
        }
    }

    /// [3, height, width] normalised like the network input (ImageNet mean / std).
    static func image(width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * width * height)
        let plane = width * height
        for y in 0..<height {
            for x in 0..<width {
                let fy = Float(y) / Float(max(1, height - 1)), fx = Float(x) / Float(max(1, width - 1))
                var rgb: (Float, Float, Float)
                if fy > 0.7 {
                    rgb = (0.25 + 0.2 * fx, 0.55 - 0.2 * (fy - 0.7), 0.2)        // ground
                } else {
                    rgb = (0.35 + 0.3 * fy, 0.55 + 0.3 * fy, 0.95)                 // sky
                }
                let dx = fx - 0.68, dy = fy - 0.3
                if dx * dx + dy * dy < 0.018 { rgb = (1.0, 0.85, 0.25) }           // sun
                let hx = fx - 0.28, hy = fy - 0.62
                if abs(hx) < 0.12 && hy > -0.08 && hy < 0.1 { rgb = (0.7, 0.25, 0.2) }  // house
                let c = [rgb.0, rgb.1, rgb.2]
                for k in 0..<3 {
                    out[k * plane + y * width + x] = (c[k] - ModelConfig.imagenetMean[k]) / ModelConfig.imagenetStd[k]
                }
            }
        }
        return out
    }
}
