// Op-level tests against straightforward reference loops in Double. Tolerances: 1e-5 relative to
// the output's magnitude for GEMM-based ops (float32 accumulation), 1e-6 for elementwise ops.
import Foundation
@testable import HatCore
import XCTest

final class OpsTests: XCTestCase {
    struct Rng {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000 - 1   // [-1, 1]
        }
        mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    static func assertClose(_ a: [Float], _ b: [Double], tol: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = max(1, b.map(abs).max() ?? 1)
        let d = zip(a, b).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
        XCTAssertLessThanOrEqual(d, tol * scale, "\(what): max diff \(d)", file: file, line: line)
    }

    static func referenceConv(_ x: [Float], cin: Int, h: Int, w: Int, weight: [Float], bias: [Float], cout: Int,
                       stride s: Int, groups: Int = 1) -> [Double] {
        let ho = (h - 1) / s + 1, wo = (w - 1) / s + 1
        let perGroupIn = cin / groups, perGroupOut = cout / groups
        var y = [Double](repeating: 0, count: cout * ho * wo)
        for o in 0..<cout {
            let g = o / perGroupOut
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var acc = Double(bias[o])
                    for ci in 0..<perGroupIn {
                        let c = g * perGroupIn + ci
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = oy * s - 1 + ky, ix = ox * s - 1 + kx
                                if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                                acc += Double(weight[((o * perGroupIn + ci) * 3 + ky) * 3 + kx]) * Double(x[(c * h + iy) * w + ix])
                            }
                        }
                    }
                    y[(o * ho + oy) * wo + ox] = acc
                }
            }
        }
        return y
    }

    func testConv3x3StrideOneAndTwo() {
        var r = Rng(state: 1)
        // Wide rows reach the eight-at-a-time stride-2 gather (every kx, odd and even widths).
        for (s, h, w) in [(1, 9, 7), (2, 9, 7), (2, 8, 8), (1, 1, 1), (2, 6, 40), (2, 5, 37), (2, 4, 34), (2, 3, 17)] {
            let cin = 5, cout = 6
            let x = r.array(cin * h * w), wt = r.array(cout * cin * 9), b = r.array(cout)
            let conv = Conv3x3(weight: Tensor(shape: [cout, cin, 3, 3], data: wt), bias: Tensor(shape: [cout], data: b), stride: s)
            let y = conv(Tensor(shape: [1, cin, h, w], data: x))
            Self.assertClose(y.data, Self.referenceConv(x, cin: cin, h: h, w: w, weight: wt, bias: b, cout: cout, stride: s),
                        tol: 1e-5, "conv stride \(s) \(h)x\(w)")
        }
    }

    /// A strided convolution whose weight outweighs its columns is split by output-channel blocks
    /// (Conv3x3.apply): still the convolution, with bias and activation, and a batch is each
    /// image's, bitwise. 40 channels (not a multiple of the 16-row blocks) over 3 x 3 and 2 x 4
    /// outputs.
    func testStridedConvolutionSplitByChannels() {
        var r = Rng(state: 11)
        let images = 3, cin = 6, cout = 40
        for (h, w) in [(6, 6), (3, 8)] {
            let x = r.array(images * cin * h * w), wt = r.array(cout * cin * 9), b = r.array(cout)
            let conv = Conv3x3(weight: Tensor(shape: [cout, cin, 3, 3], data: wt), bias: Tensor(shape: [cout], data: b), stride: 2)
            let (ho, wo) = conv.outputSize(height: h, width: w)
            XCTAssertGreaterThanOrEqual(cout, 2 * ho * wo, "the case must take the channel split")
            let per = cout * ho * wo
            var all = [Float](repeating: 0, count: images * per), one = all
            x.withUnsafeBufferPointer { xb in
                all.withUnsafeMutableBufferPointer { conv.apply(xb.baseAddress!, images: images, height: h, width: w, into: $0.baseAddress!, epilogue: .relu) }
                one.withUnsafeMutableBufferPointer { ob in
                    for i in 0..<images {
                        conv.apply(xb.baseAddress! + i * cin * h * w, height: h, width: w, into: ob.baseAddress! + i * per, epilogue: .relu)
                    }
                }
            }
            XCTAssertEqual(all, one, "batch \(h)x\(w)")
            for i in 0..<images {
                let ref = Self.referenceConv(Array(x[(i * cin * h * w)..<((i + 1) * cin * h * w)]), cin: cin, h: h, w: w,
                                             weight: wt, bias: b, cout: cout, stride: 2).map { max(0, $0) }
                Self.assertClose(Array(one[(i * per)..<((i + 1) * per)]), ref, tol: 1e-5, "split conv \(h)x\(w) image \(i)")
            }
        }
    }

    /// A batch of images is each image's convolution, bitwise (strided, Winograd, depthwise).
    func testConvolutionsOfABatchAreThoseOfEachImage() {
        var r = Rng(state: 9)
        let images = 3, cin = 8, cout = 16, h = 20, w = 22
        let x = r.array(images * cin * h * w), wt = r.array(cout * cin * 9), b = r.array(cout)
        let strided = Conv3x3(weight: Tensor(shape: [cout, cin, 3, 3], data: wt), bias: Tensor(shape: [cout], data: b), stride: 2)
        let wino = WinogradConv3x3(Conv3x3(weight: Tensor(shape: [cout, cin, 3, 3], data: wt), bias: Tensor(shape: [cout], data: b), stride: 1))
        let dw = DepthwiseConv3x3(weight: Tensor(shape: [cin, 1, 3, 3], data: r.array(cin * 9)), bias: Tensor(shape: [cin], data: r.array(cin)))
        func run(_ f: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void, out per: Int) -> ([Float], [Float]) {
            var all = [Float](repeating: 0, count: images * per), one = [Float](repeating: 0, count: images * per)
            x.withUnsafeBufferPointer { xb in
                all.withUnsafeMutableBufferPointer { f(xb.baseAddress!, images, $0.baseAddress!) }
                one.withUnsafeMutableBufferPointer { ob in
                    for i in 0..<images { f(xb.baseAddress! + i * cin * h * w, 1, ob.baseAddress! + i * per) }
                }
            }
            return (all, one)
        }
        var (a, o) = run({ strided.apply($0, images: $1, height: h, width: w, into: $2, epilogue: .relu) }, out: cout * 10 * 11)
        XCTAssertEqual(a, o, "strided")
        (a, o) = run({ wino.apply($0, images: $1, height: h, width: w, into: $2, epilogue: .gelu) }, out: cout * h * w)
        XCTAssertEqual(a, o, "winograd")
        (a, o) = run({ dw.apply($0, images: $1, height: h, width: w, into: $2) }, out: cin * h * w)
        XCTAssertEqual(a, o, "depthwise")
    }

    func testBatchNormFolding() {
        var r = Rng(state: 2)
        let cin = 3, cout = 4, h = 5, w = 6
        let x = r.array(cin * h * w), wt = r.array(cout * cin * 9), b = r.array(cout)
        let bn = BatchNormParameters(gamma: r.array(cout), beta: r.array(cout), mean: r.array(cout),
                                     variance: r.array(cout).map { $0 + 1.5 }, eps: 1e-4)
        var conv = Conv3x3(weight: Tensor(shape: [cout, cin, 3, 3], data: wt), bias: Tensor(shape: [cout], data: b), stride: 1)
        conv.foldBatchNorm(bn)
        let y = conv(Tensor(shape: [1, cin, h, w], data: x))
        var ref = Self.referenceConv(x, cin: cin, h: h, w: w, weight: wt, bias: b, cout: cout, stride: 1)
        for o in 0..<cout {
            for i in 0..<(h * w) {
                let v = ref[o * h * w + i]
                ref[o * h * w + i] = (v - Double(bn.mean[o])) / (Double(bn.variance[o]) + 1e-4).squareRoot() * Double(bn.gamma[o]) + Double(bn.beta[o])
            }
        }
        Self.assertClose(y.data, ref, tol: 1e-5, "conv + batchnorm")
    }

    func testDepthwiseConv() {
        var r = Rng(state: 3)
        let c = 4, h = 6, w = 5
        let x = r.array(c * h * w), wt = r.array(c * 9), b = r.array(c)
        let conv = DepthwiseConv3x3(weight: Tensor(shape: [c, 1, 3, 3], data: wt), bias: Tensor(shape: [c], data: b))
        var y = [Float](repeating: 0, count: c * h * w)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { conv.apply(xb.baseAddress!, height: h, width: w, into: $0.baseAddress!) } }
        Self.assertClose(y, Self.referenceConv(x, cin: c, h: h, w: w, weight: wt, bias: b, cout: c, stride: 1, groups: c), tol: 1e-6, "depthwise")
    }

    /// Maps wide enough for the eight-pixel interior loop: every output is the float sum of the
    /// scalar loop (ky outer, kx inner, neighbours outside skipped, then the bias), bit for bit.
    func testDepthwiseConvInteriorIsTheScalarSum() {
        var r = Rng(state: 12)
        for (h, w) in [(3, 10), (9, 17), (14, 14), (7, 25)] {
            let c = 3
            let x = r.array(c * h * w).map { $0 * 3 }, wt = r.array(c * 9), b = r.array(c)
            let conv = DepthwiseConv3x3(weight: Tensor(shape: [c, 1, 3, 3], data: wt), bias: Tensor(shape: [c], data: b))
            var y = [Float](repeating: 0, count: c * h * w)
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { conv.apply(xb.baseAddress!, height: h, width: w, into: $0.baseAddress!) } }
            var want = y
            for ch in 0..<c { for oy in 0..<h { for ox in 0..<w {
                var acc: Float = 0
                for ky in 0..<3 { for kx in 0..<3 {
                    let iy = oy - 1 + ky, ix = ox - 1 + kx
                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                    acc += wt[ch * 9 + ky * 3 + kx] * x[(ch * h + iy) * w + ix]
                } }
                want[(ch * h + oy) * w + ox] = acc + b[ch]
            } } }
            XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "\(h) x \(w)")
        }
    }

    /// im2col rows of strides 1 and 2 at every (ky, kx), odd and even widths, whole maps and
    /// row tiles: dst[(oy - oy0) * wo + ox] = x[oy*s - 1 + ky, ox*s - 1 + kx], 0 outside.
    func testIm2colRowsAreTheShiftedInput() {
        var r = Rng(state: 13)
        for (h, w) in [(5, 7), (9, 16), (12, 25), (8, 56), (6, 113)] {
            let x = r.array(h * w)
            for s in [1, 2] {
                let ho = (h - 1) / s + 1, wo = (w - 1) / s + 1
                for (oy0, oy1) in [(0, ho), (1, ho)] where oy1 > oy0 {
                    for ky in 0..<3 { for kx in 0..<3 {
                        var got = [Float](repeating: .nan, count: (oy1 - oy0) * wo)
                        x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer {
                            Conv3x3.im2colRow(xb.baseAddress!, h: h, w: w, stride: s, ky: ky, kx: kx,
                                              oy0: oy0, oy1: oy1, wo: wo, into: $0.baseAddress!)
                        } }
                        var want = got
                        for oy in oy0..<oy1 { for ox in 0..<wo {
                            let iy = oy * s - 1 + ky, ix = ox * s - 1 + kx
                            want[(oy - oy0) * wo + ox] = iy < 0 || iy >= h || ix < 0 || ix >= w ? 0 : x[iy * w + ix]
                        } }
                        XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(h)x\(w) s\(s) ky\(ky) kx\(kx) from \(oy0)")
                    } }
                }
            }
        }
    }

    func testLinearAndGemmTransposes() {
        var r = Rng(state: 4)
        let n = 7, i = 5, o = 3
        let x = r.array(n * i), wt = r.array(o * i), b = r.array(o)
        let y = Linear(weight: Tensor(shape: [o, i], data: wt), bias: Tensor(shape: [o], data: b))(Tensor(shape: [n, i], data: x))
        var ref = [Double](repeating: 0, count: n * o)
        for a in 0..<n { for c in 0..<o {
            var acc = Double(b[c])
            for k in 0..<i { acc += Double(x[a * i + k]) * Double(wt[c * i + k]) }
            ref[a * o + c] = acc
        } }
        Self.assertClose(y.data, ref, tol: 1e-6, "linear")
        // A^T B with strided leading dimensions.
        let m = 4, nn = 3, k = 6
        let at = r.array(k * m), bm = r.array(k * nn)
        var c = [Float](repeating: 0, count: m * nn)
        at.withUnsafeBufferPointer { ab in bm.withUnsafeBufferPointer { bb in c.withUnsafeMutableBufferPointer { cb in
            BLAS.sgemm(transA: true, transB: false, m: m, n: nn, k: k, a: ab.baseAddress!, lda: m, b: bb.baseAddress!, ldb: nn, c: cb.baseAddress!, ldc: nn)
        } } }
        var cref = [Double](repeating: 0, count: m * nn)
        for p in 0..<m { for q in 0..<nn { for t in 0..<k { cref[p * nn + q] += Double(at[t * m + p]) * Double(bm[t * nn + q]) } } }
        Self.assertClose(c, cref, tol: 1e-6, "sgemm transA")
    }

    func testLayerNormRowsAndChannels() {
        var r = Rng(state: 5)
        let rows = 6, c = 10
        let x = r.array(rows * c).map { $0 * 3 + 1 }
        let p = LayerNormParameters(weight: r.array(c), bias: r.array(c), eps: 1e-5)
        var y = [Float](repeating: 0, count: rows * c)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { Normalization.layerNorm(xb.baseAddress!, rows: rows, p, into: $0.baseAddress!) } }
        var ref = [Double](repeating: 0, count: rows * c)
        for i in 0..<rows {
            let row = (0..<c).map { Double(x[i * c + $0]) }
            let mean = row.reduce(0, +) / Double(c)
            let v = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for k in 0..<c { ref[i * c + k] = (row[k] - mean) / (v + 1e-5).squareRoot() * Double(p.weight[k]) + Double(p.bias[k]) }
        }
        Self.assertClose(y, ref, tol: 1e-5, "layernorm")
        // LayerNorm2d on [C, pixels] equals row LayerNorm of the transpose.
        let xt = (0..<(c * rows)).map { x[($0 % rows) * c + $0 / rows] }  // [c, rows]
        var y2 = [Float](repeating: 0, count: rows * c)
        xt.withUnsafeBufferPointer { xb in y2.withUnsafeMutableBufferPointer { Normalization.layerNorm2d(xb.baseAddress!, pixels: rows, p, into: $0.baseAddress!) } }
        let ref2 = (0..<(c * rows)).map { ref[($0 % rows) * c + $0 / rows] }
        Self.assertClose(y2, ref2, tol: 1e-5, "layernorm2d")
    }

    /// softmaxRow computes the last n % 8 values of a row in one vector; each must be exactly what
    /// an element-by-element pass gives (FastMath.exp of one value, added to the sum in order).
    func testSoftmaxRowTailIsElementwise() {
        var r = Rng(state: 11)
        for n in 1...27 {
            let row = r.array(n).map { $0 * 9 }
            var got = row
            got.withUnsafeMutableBufferPointer { Activations.softmaxRow($0.baseAddress!, n) }
            // Reference: vector body as in softmaxRow, then the tail one value at a time.
            typealias V = SIMD8<Float>
            var m = -Float.infinity
            var mv = V(repeating: -.infinity)
            let body = n - n % 8
            for i in stride(from: 0, to: body, by: 8) { mv = FastMath.max(mv, V(row[i..<(i + 8)])) }
            m = mv.max()
            for i in body..<n { m = max(m, row[i]) }
            var e = row, sv = V(repeating: 0)
            for i in stride(from: 0, to: body, by: 8) {
                let v = FastMath.exp(V(row[i..<(i + 8)]) - V(repeating: m))
                for j in 0..<8 { e[i + j] = v[j] }
                sv += v
            }
            var sum = sv.sum()
            for i in body..<n { e[i] = FastMath.exp(row[i] - m); sum += e[i] }
            let inv = 1 / sum
            let want = e.map { $0 * inv }
            XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "n = \(n)")
        }
    }

    func testGeluReluSoftmax() {
        var r = Rng(state: 6)
        var x = r.array(1000).map { $0 * 6 }
        let orig = x
        x.withUnsafeMutableBufferPointer { Activations.gelu($0.baseAddress!, count: $0.count) }
        Self.assertClose(x, orig.map { 0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot())) }, tol: 1e-6, "gelu")
        var y = orig
        y.withUnsafeMutableBufferPointer { Activations.relu($0.baseAddress!, count: $0.count) }
        Self.assertClose(y, orig.map { max(0, Double($0)) }, tol: 0, "relu")
        var s = Array(orig.prefix(40))
        s.withUnsafeMutableBufferPointer { b in for i in 0..<4 { Activations.softmaxRow(b.baseAddress! + i * 10, 10) } }
        var ref: [Double] = []
        for i in 0..<4 {
            let row = (0..<10).map { Double(orig[i * 10 + $0]) }
            let m = row.max()!, e = row.map { exp($0 - m) }, z = e.reduce(0, +)
            ref += e.map { $0 / z }
        }
        Self.assertClose(s, ref, tol: 1e-6, "softmax")
    }

    func testPadPartitionReverseRoundTrip() {
        var r = Rng(state: 7)
        let c = 3, h = 5, w = 7, win = 4, lead = 2
        let hp = 8, wp = 8
        let x = r.array(c * h * w)
        var padded = [Float](repeating: -1, count: c * hp * wp)
        x.withUnsafeBufferPointer { xb in padded.withUnsafeMutableBufferPointer {
            Windows.pad(xb.baseAddress!, channels: c, height: h, width: w, toHeight: hp, width: wp, into: $0.baseAddress!)
        } }
        for ch in 0..<c { for i in 0..<hp { for j in 0..<wp {
            XCTAssertEqual(padded[(ch * hp + i) * wp + j], (i < h && j < w) ? x[(ch * h + i) * w + j] : 0)
        } } }
        let windows = (hp / win) * (wp / win), t = lead + win * win
        var tokens = [Float](repeating: 99, count: windows * t * c)
        padded.withUnsafeBufferPointer { pb in tokens.withUnsafeMutableBufferPointer {
            Windows.partition(pb.baseAddress!, channels: c, height: hp, width: wp, window: win, lead: lead, into: $0.baseAddress!)
        } }
        // Official window_partition: window k = a*(wp/win)+b, token p*win+q, channel ch.
        for k in 0..<windows {
            let a = k / (wp / win), b = k % (wp / win)
            for tk in 0..<(win * win) { for ch in 0..<c {
                let p = tk / win, q = tk % win
                XCTAssertEqual(tokens[(k * t + lead + tk) * c + ch], padded[(ch * hp + a * win + p) * wp + b * win + q])
            } }
            for l in 0..<lead { XCTAssertEqual(tokens[(k * t + l) * c], 99) }   // lead rows untouched
        }
        var back = [Float](repeating: 0, count: c * h * w)
        tokens.withUnsafeBufferPointer { tb in back.withUnsafeMutableBufferPointer {
            Windows.reverse(tb.baseAddress!, channels: c, paddedHeight: hp, paddedWidth: wp, window: win, lead: lead, height: h, width: w, into: $0.baseAddress!)
        } }
        XCTAssertEqual(back, x)
    }

    func testPoolingAndNearest() {
        var r = Rng(state: 8)
        let c = 2, h = 7, w = 9, kh = 3, kw = 4, sh = 2, sw = 3
        let x = r.array(c * h * w)
        let oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1
        var y = [Float](repeating: 0, count: c * oh * ow)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer {
            Pooling.average(xb.baseAddress!, channels: c, height: h, width: w, kernel: kh, kw, stride: sh, sw, into: $0.baseAddress!)
        } }
        var ref: [Double] = []
        for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
            var acc = 0.0
            for a in 0..<kh { for b in 0..<kw { acc += Double(x[(ch * h + i * sh + a) * w + j * sw + b]) } }
            ref.append(acc / Double(kh * kw))
        } } }
        Self.assertClose(y, ref, tol: 1e-6, "avg pool")
        XCTAssertEqual((0..<7).map { Pooling.nearestSource($0, inSize: 2, outSize: 7) }, [0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual((0..<4).map { Pooling.nearestSource($0, inSize: 2, outSize: 4) }, [0, 0, 1, 1])
        var g = [Float](repeating: 0, count: 2)
        x.withUnsafeBufferPointer { xb in g.withUnsafeMutableBufferPointer { Pooling.globalAverage(xb.baseAddress!, channels: 2, pixels: h * w, into: $0.baseAddress!) } }
        Self.assertClose(g, (0..<2).map { ch in (0..<(h * w)).map { Double(x[ch * h * w + $0]) }.reduce(0, +) / Double(h * w) }, tol: 1e-6, "global pool")
    }
}
