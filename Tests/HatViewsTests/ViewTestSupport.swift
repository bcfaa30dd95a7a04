// Recordings with known attention for the view tests. The geometry is the real one
// (ModelGeometry, through SyntheticRecording) for a tiny configuration; attention rows come from
// closures and are normalised to sum 1.
import HatImaging
import HatRecording
@testable import HatViews

enum ViewFixture {
    /// Attention fill: (block, window or 0 for carriers, head, query, key) -> weight >= 0.
    typealias Fill = (_ block: Int, _ group: Int, _ head: Int, _ query: Int, _ key: Int) -> Float

    /// A tiny FasterViT: windows of `window` tokens, `ctSize` carriers per window side; stage 3 has
    /// 2 blocks, stage 4 one, 2 heads each; 32 / 64 channels.
    static func config(hat: [Bool] = [false, false, true, false], propagation: Bool = true,
                       window: Int = 2, ctSize: Int = 1) -> ModelConfig {
        ModelConfig(name: "tiny_test", dim: 8, inDim: 8, depths: [1, 1, 2, 1], heads: [1, 1, 2, 2],
                    windowSize: Array(repeating: window, count: 4), ctSize: ctSize, layerScale: nil, hat: hat,
                    doPropagation: propagation, resolution: [64, 64], cropPct: 1, cropMode: "center")
    }

    /// The standard test recording of `config` (default `config()`) at side x side pixels. With
    /// the defaults: level 2 is 4 x 4 tokens at stride 16 in 2 x 2 windows of 2 x 2 with one
    /// carrier each (T = 5, N = 4, boxes 2 x 2 tokens, no overlap); level 3 is 2 x 2 tokens, one
    /// window, no carriers. Conv-stage energies are ramps; `propagation` (level 2, [16, 32] at the
    /// defaults) is nil unless given; logits [0, 1, 2].
    static func recording(window: @escaping Fill = { _, _, _, _, _ in 1 },
                          carrier: @escaping Fill = { _, _, _, _, _ in 1 },
                          propagation: [Float]? = nil, config: ModelConfig? = nil, side: Int = 64,
                          inputPixel: (Int, Int, Int) -> UInt8 = { c, y, x in UInt8((x * 3 + y * 5 + c * 70) % 256) })
        -> Recording {
        let cfg = config ?? self.config()
        var rec = SyntheticRecording.make(config: cfg, resolution: [side, side], logits: [0, 1, 2]) { e in
            e.attention == .window ? window(e.block, e.group, e.head, e.query, e.key)
                : carrier(e.block, 0, e.head, e.query, e.key)
        }
        rec.notes = []
        for i in rec.stages.indices { rec.stages[i].propagation = i == 0 ? propagation : nil }
        rec.convStages[0].energy = (0 ..< rec.convStages[0].energy.count).map { Float($0) / 255 }
        rec.convStages[1].energy = (0 ..< rec.convStages[1].energy.count).map { Float($0 % 8) }
        let h = side, w = side
        for c in 0 ..< 3 {
            for y in 0 ..< h {
                for x in 0 ..< w {
                    let v = Float(inputPixel(c, y, x)) / 255
                    rec.input[(c * h + y) * w + x] = (v - ModelConfig.imagenetMean[c]) / ModelConfig.imagenetStd[c]
                }
            }
        }
        return rec
    }

    static func pixel(_ img: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * img.width + x) * 3
        return [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]]
    }

    static func rgb(_ c: (UInt8, UInt8, UInt8)) -> [UInt8] { [c.0, c.1, c.2] }
}
