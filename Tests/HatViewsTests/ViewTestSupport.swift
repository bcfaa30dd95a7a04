// Hand-built recordings with known attention for the view tests. The geometry follows the official
// rules (fastervit.md): a stage of r x r tokens cut into w x w windows; carriers pooled with
// out = int(c*r/w), stride = int(r/out), kernel = r - (out-1)*stride; each window receives the
// carriers pooled from it. Attention rows come from closures and are normalised to sum 1.
import HatImaging
@testable import HatModel
@testable import HatViews

enum ViewFixture {
    /// Attention fill: (block, window or 0 for carriers, head, query, key) -> weight >= 0.
    typealias Fill = (_ block: Int, _ group: Int, _ head: Int, _ query: Int, _ key: Int) -> Float

    static func config(hat: [Bool] = [false, false, true, false], propagation: Bool = true) -> ModelConfig {
        ModelConfig(name: "tiny_test", dim: 8, inDim: 8, depths: [1, 1, 2, 1], heads: [1, 1, 2, 2],
                    windowSize: [2, 2, 2, 2], ctSize: 1, layerScale: nil, hat: hat, doPropagation: propagation,
                    resolution: [64, 64], cropPct: 1, cropMode: "center")
    }

    /// A transformer stage of r x r tokens at `stride` pixels per token.
    static func stage(level: Int, r: Int, w: Int, c: Int, stride: Int, heads: Int, blocks: Int, channels: Int = 3,
                      window: Fill, carrier: Fill, propagation: [Float]? = nil) -> TransformerStageRecord {
        let nw = r / w
        let hasCT = c > 0 && nw > 1
        let cc = hasCT ? c * c : 0
        let t = cc + w * w
        var windowRects: [PixelRect] = []
        for i in 0 ..< nw * nw {
            windowRects.append(PixelRect(x0: (i % nw) * w * stride, y0: (i / nw) * w * stride,
                                         width: w * stride, height: w * stride))
        }
        var carriers: [CarrierGeometry] = []
        var windowCarriers = [[Int]](repeating: [], count: nw * nw)
        var out = 0
        if hasCT {
            out = c * r / w
            let ps = r / out, k = r - (out - 1) * ps
            for gr in 0 ..< out {
                for gc in 0 ..< out {
                    let win = (gr / c) * nw + gc / c
                    carriers.append(CarrierGeometry(row: gr, col: gc, window: win,
                        box: PixelRect(x0: gc * ps * stride, y0: gr * ps * stride, width: k * stride, height: k * stride)))
                    windowCarriers[win].append(gr * out + gc)
                }
            }
        }
        var blockRecords: [BlockRecord] = []
        for b in 0 ..< blocks {
            let wm = maps(groups: nw * nw, heads: heads, n: t) { g, h, q, k in window(b, g, h, q, k) }
            let cm = hasCT ? maps(groups: 1, heads: heads, n: out * out) { _, h, q, k in carrier(b, 0, h, q, k) } : nil
            blockRecords.append(BlockRecord(window: wm, carrier: cm))
        }
        return TransformerStageRecord(level: level, stride: stride, height: r, width: r, paddedHeight: r, paddedWidth: r,
                                      windowSize: w, windowRows: nw, windowCols: nw, heads: heads, ctSize: hasCT ? c : 0,
                                      carrierRows: out, carrierCols: out, windowRects: windowRects, carriers: carriers,
                                      windowCarriers: windowCarriers, blocks: blockRecords, propagation: propagation,
                                      channels: channels)
    }

    static func maps(groups: Int, heads: Int, n: Int, _ f: (Int, Int, Int, Int) -> Float) -> AttentionMaps {
        var p = [Float](repeating: 0, count: groups * heads * n * n)
        for g in 0 ..< groups {
            for h in 0 ..< heads {
                for q in 0 ..< n {
                    let o = ((g * heads + h) * n + q) * n
                    var s: Float = 0
                    for k in 0 ..< n { p[o + k] = f(g, h, q, k); s += p[o + k] }
                    for k in 0 ..< n { p[o + k] = s > 0 ? p[o + k] / s : 1 / Float(n) }
                }
            }
        }
        return AttentionMaps(groups: groups, heads: heads, queries: n, keys: n, probs: p)
    }

    /// The standard test recording: 64 x 64 input; level 2 is 4 x 4 tokens at stride 16 in 2 x 2
    /// windows of 2 x 2 with one carrier each (T = 5, N = 4, boxes 2 x 2 tokens, no overlap);
    /// level 3 is 2 x 2 tokens, one window, no carriers. Two conv stages with energy ramps.
    static func recording(window: @escaping Fill = { _, _, _, _, _ in 1 },
                          carrier: @escaping Fill = { _, _, _, _, _ in 1 },
                          propagation: [Float]? = nil, config: ModelConfig? = nil,
                          inputPixel: (Int, Int, Int) -> UInt8 = { c, y, x in UInt8((x * 3 + y * 5 + c * 70) % 256) })
        -> Recording {
        let cfg = config ?? self.config()
        let s2 = stage(level: 2, r: 4, w: 2, c: cfg.hat[2] ? 1 : 0, stride: 16, heads: 2, blocks: 2,
                       window: window, carrier: carrier, propagation: propagation)
        let s3 = stage(level: 3, r: 2, w: 2, c: cfg.hat[3] ? 1 : 0, stride: 32, heads: 2, blocks: 1,
                       window: window, carrier: carrier)
        let conv = [
            ConvStageRecord(level: 0, stride: 4, height: 16, width: 16, channels: 8,
                            energy: (0 ..< 256).map { Float($0) / 255 }),
            ConvStageRecord(level: 1, stride: 8, height: 8, width: 8, channels: 16,
                            energy: (0 ..< 64).map { Float($0 % 8) }),
        ]
        let h = 64, w = 64
        var input = [Float](repeating: 0, count: 3 * h * w)
        for c in 0 ..< 3 {
            for y in 0 ..< h {
                for x in 0 ..< w {
                    let v = Float(inputPixel(c, y, x)) / 255
                    input[(c * h + y) * w + x] = (v - ModelConfig.imagenetMean[c]) / ModelConfig.imagenetStd[c]
                }
            }
        }
        return Recording(config: cfg, inputHeight: h, inputWidth: w, input: input, convStages: conv,
                         stages: [s2, s3], logits: [0, 1, 2])
    }

    static func pixel(_ img: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * img.width + x) * 3
        return [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]]
    }

    static func rgb(_ c: (UInt8, UInt8, UInt8)) -> [UInt8] { [c.0, c.1, c.2] }
}
