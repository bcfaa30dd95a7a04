// Winograd F(4x4,3x3) against the Double reference convolution and against the im2col path,
// over sizes that cut the 4x4 output blocks, channel counts that are not multiples of 8, several
// bands, each epilogue and the residual accumulate. Tolerance 2e-5 of the output's magnitude
// (the transform's rounding is ~1e-5 of it in float32; the parity tests bound what reaches the
// model's outputs).
import Foundation
@testable import HatCore
import XCTest

final class WinogradConvTests: XCTestCase {
    func conv(_ r: inout OpsTests.Rng, cin: Int, cout: Int) -> (Conv3x3, [Float], [Float]) {
        let wt = r.array(cout * cin * 9), b = r.array(cout)
        return (Conv3x3(weight: Tensor(shape: [cout, cin, 3, 3], data: wt), bias: Tensor(shape: [cout], data: b), stride: 1), wt, b)
    }

    func run(_ wino: WinogradConv3x3, _ x: [Float], h: Int, w: Int, start: [Float]? = nil,
             epilogue: Epilogue = .none, accumulate: Bool = false) -> [Float] {
        var y = start ?? [Float](repeating: .nan, count: wino.outChannels * h * w)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                wino.apply(xb.baseAddress!, height: h, width: w, into: yb.baseAddress!, epilogue: epilogue, accumulate: accumulate)
            }
        }
        return y
    }

    func testMatchesReferenceOnOddAndEvenSizes() {
        var r = OpsTests.Rng(state: 7)
        for (cin, cout, h, w) in [(5, 6, 9, 7), (3, 4, 1, 1), (4, 3, 2, 5), (6, 5, 8, 8), (2, 2, 1, 6), (9, 7, 13, 18), (17, 3, 6, 3)] {
            let (c, wt, b) = conv(&r, cin: cin, cout: cout)
            let x = r.array(cin * h * w)
            let ref = OpsTests.referenceConv(x, cin: cin, h: h, w: w, weight: wt, bias: b, cout: cout, stride: 1)
            OpsTests.assertClose(run(WinogradConv3x3(c), x, h: h, w: w), ref, tol: 2e-5, "winograd \(cin)->\(cout) \(h)x\(w)")
        }
    }

    func testManyBandsMatchIm2col() {
        // 96 channels at 44x36: 99 tiles, about 2.7 MB of V and M, so four bands.
        var r = OpsTests.Rng(state: 11)
        let (c, _, _) = conv(&r, cin: 96, cout: 96)
        let h = 44, w = 35
        let x = r.array(96 * h * w)
        let direct = c(Tensor(shape: [1, 96, h, w], data: x)).data
        let wino = run(WinogradConv3x3(c), x, h: h, w: w)
        OpsTests.assertClose(wino, direct.map(Double.init), tol: 2e-5, "winograd vs im2col 44x35")
    }

    func testEpiloguesAndAccumulate() {
        var r = OpsTests.Rng(state: 3)
        let (c, wt, b) = conv(&r, cin: 4, cout: 5)
        let h = 7, w = 6
        let x = r.array(4 * h * w)
        let ref = OpsTests.referenceConv(x, cin: 4, h: h, w: w, weight: wt, bias: b, cout: 5, stride: 1)
        let wino = WinogradConv3x3(c)
        let gelu = ref.map { v in 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }
        OpsTests.assertClose(run(wino, x, h: h, w: w, epilogue: .gelu), gelu, tol: 2e-5, "gelu epilogue")
        OpsTests.assertClose(run(wino, x, h: h, w: w, epilogue: .relu), ref.map { max(0, $0) }, tol: 2e-5, "relu epilogue")
        let start = r.array(5 * h * w)
        let summed = zip(start, ref).map { Double($0) + $1 }
        OpsTests.assertClose(run(wino, x, h: h, w: w, start: start, accumulate: true), summed, tol: 2e-5, "accumulate")
    }

    func testFoldedBatchNormCarriesOver() {
        // The transform is taken from the weights as they are when it is built (after folding).
        var r = OpsTests.Rng(state: 5)
        var (c, _, _) = conv(&r, cin: 3, cout: 3)
        c.foldBatchNorm(BatchNormParameters(gamma: [2, -1, 0.5], beta: [0.1, 0.2, -0.3], mean: [0.5, -0.5, 0],
                                            variance: [4, 1, 0.25], eps: 1e-5))
        let h = 5, w = 5
        let x = r.array(3 * h * w)
        let direct = c(Tensor(shape: [1, 3, h, w], data: x)).data
        OpsTests.assertClose(run(WinogradConv3x3(c), x, h: h, w: w), direct.map(Double.init), tol: 2e-5, "folded")
    }
}
