// Stride-1, padding-1 3x3 convolution by Winograd's minimal filtering F(2x2, 3x3): each 2x2 block
// of outputs takes 16 multiplications per (in, out) channel pair instead of 36, so the GEMM work of
// the convolutional stages drops 2.25x. Every product is still one cblas_sgemm (through BLAS).
//
// With d a 4x4 input patch, g a 3x3 kernel:  Y[2x2] = A^T [ (G g G^T) (.) (B^T d B) ] A, where
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// The sum over input channels of the elementwise product is, for each of the 16 positions e,
//   M[e][cout, tiles] = U[e][cout, cin] * V[e][cin, tiles]   (one sgemm per e).
// The transforms use only +, - and halves, so results agree with the direct convolution to
// float rounding (checked against it in HatCoreTests.WinogradConvTests and by the model fixtures).
//
// Worked shapes (faster_vit_0 level 0, 56x56, 64 channels): 28x28 = 784 tiles, cut into bands
// of whole tile rows, one task per band (a multiple of the core count). For a band of 7 tile rows
// (196 tiles): V [16, 64, 196] and M [16, 64, 196], 800 KB each, stay in the core's L2.

public struct WinogradConv3x3: Sendable {
    public let inChannels: Int, outChannels: Int
    /// [16, outChannels, inChannels]: U[e] = G g G^T at position e = 4 * row + column.
    let transformed: [Float]
    /// [outChannels]
    let bias: [Float]

    /// From a stride-1 `Conv3x3` (BatchNorm already folded in). The kernel transform is done in
    /// Double so U carries one rounding, like the weight itself.
    public init(_ conv: Conv3x3) {
        precondition(conv.stride == 1, "Winograd F(2x2,3x3) is for stride-1 convolutions")
        let cin = conv.inChannels, cout = conv.outChannels
        inChannels = cin
        outChannels = cout
        bias = conv.bias
        var u = [Float](repeating: 0, count: 16 * cout * cin)
        let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        conv.weight.withUnsafeBufferPointer { w in
            for o in 0..<cout {
                for i in 0..<cin {
                    let k = w.baseAddress! + (o * cin + i) * 9
                    // t = G k  [4, 3], then U = t G^T  [4, 4]
                    var t = [Double](repeating: 0, count: 12)
                    for r in 0..<4 { for c in 0..<3 {
                        t[r * 3 + c] = g[r][0] * Double(k[c]) + g[r][1] * Double(k[3 + c]) + g[r][2] * Double(k[6 + c])
                    } }
                    for r in 0..<4 { for c in 0..<4 {
                        let v = t[r * 3] * g[c][0] + t[r * 3 + 1] * g[c][1] + t[r * 3 + 2] * g[c][2]
                        u[((r * 4 + c) * cout + o) * cin + i] = Float(v)
                    } }
                }
            }
        }
        transformed = u
    }

    /// y [outChannels, h, w] = act(conv(x [inChannels, h, w]) + bias); with `accumulate`,
    /// y += conv(x) + bias (then the activation is not applied: a residual add ends a block).
    public func apply(_ x: UnsafePointer<Float>, height h: Int, width w: Int,
                      into y: UnsafeMutablePointer<Float>, epilogue: Conv3x3.Epilogue = .none,
                      accumulate: Bool = false) {
        precondition(!(accumulate && epilogue != .none), "an activation after a residual add is not a conv epilogue")
        let cin = inChannels, cout = outChannels
        let th = (h + 1) / 2, tw = (w + 1) / 2
        // Zero-padded copy of x: [cin, ph, pw] with ph = 2*th + 2, pw = 2*tw + 2 (one ring of
        // zeros, plus one more row/column when h or w is odd), so every 4x4 patch is in bounds.
        let ph = 2 * th + 2, pw = 2 * tw + 2
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: cin * ph * pw)
        defer { padded.deallocate() }
        Parallel.forRanges(cin, minPerChunk: max(1, 16384 / max(1, h * w))) { chans in
            for c in chans {
                let dst = padded + c * ph * pw, src = x + c * h * w
                dst.update(repeating: 0, count: pw)
                for r in 0..<h {
                    let d = dst + (r + 1) * pw
                    d[0] = 0
                    (d + 1).update(from: src + r * w, count: w)
                    (d + 1 + w).update(repeating: 0, count: pw - 1 - w)
                }
                (dst + (h + 1) * pw).update(repeating: 0, count: (ph - h - 1) * pw)
            }
        }
        // Bands of whole tile rows, V and M for one band about <= 1 MB each.
        let perTileRow = 16 * max(cin, cout) * tw * 4
        let maxRows = max(1, min(th, (1 << 20) / max(1, perTileRow)))
        let cores = Parallel.cores
        var bands = (th + maxRows - 1) / maxRows
        bands = min(th, (bands + cores - 1) / cores * cores)
        let rowsPerBand = (th + bands - 1) / bands
        bands = (th + rowsPerBand - 1) / rowsPerBand
        transformed.withUnsafeBufferPointer { uBuf in
            bias.withUnsafeBufferPointer { bBuf in
                let up = uBuf.baseAddress!, bp = bBuf.baseAddress!
                Parallel.forEach(bands) { band in
                    let ty0 = band * rowsPerBand, ty1 = min(th, ty0 + rowsPerBand)
                    let n = (ty1 - ty0) * tw
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cin * n)  // [16, cin, n]
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cout * n) // [16, cout, n]
                    defer { v.deallocate(); m.deallocate() }
                    for c in 0..<cin {
                        WinogradConv3x3.inputTransform(padded + c * ph * pw, pw: pw, ty0: ty0, ty1: ty1, tw: tw,
                                                       into: v + c * n, positionStride: cin * n)
                    }
                    for e in 0..<16 {
                        BLAS.sgemm(transA: false, transB: false, m: cout, n: n, k: cin,
                                   a: up + e * cout * cin, lda: cin, b: v + e * cin * n, ldb: n,
                                   c: m + e * cout * n, ldc: n)
                    }
                    let oy0 = 2 * ty0, oy1 = min(h, 2 * ty1)
                    for o in 0..<cout {
                        WinogradConv3x3.outputTransform(m + o * n, positionStride: cout * n, ty0: ty0, ty1: ty1,
                                                        tw: tw, bias: bp[o], height: h, width: w,
                                                        into: y + o * h * w, accumulate: accumulate)
                        let band = y + o * h * w + oy0 * w, count = (oy1 - oy0) * w
                        switch epilogue {
                        case .none: break
                        case .relu: Activations.reluSerial(band, count: count)
                        case .gelu: Activations.geluSerial(band, count: count)
                        }
                    }
                }
            }
        }
    }

    /// V[e][t] = (B^T d B)[e] for the tiles of tile rows ty0..<ty1 of one channel, t counted from
    /// the band's first tile; `positionStride` separates the 16 positions in V.
    @inline(__always)
    static func inputTransform(_ src: UnsafePointer<Float>, pw: Int, ty0: Int, ty1: Int, tw: Int,
                               into v: UnsafeMutablePointer<Float>, positionStride s: Int) {
        var t = 0
        for ty in ty0..<ty1 {
            let r0 = src + 2 * ty * pw, r1 = r0 + pw, r2 = r1 + pw, r3 = r2 + pw
            for tx in 0..<tw {
                let c = 2 * tx
                // Rows first: (B^T d) row i = combination of patch rows.
                var a = (r0[c] - r2[c], r0[c + 1] - r2[c + 1], r0[c + 2] - r2[c + 2], r0[c + 3] - r2[c + 3])
                var b = (r1[c] + r2[c], r1[c + 1] + r2[c + 1], r1[c + 2] + r2[c + 2], r1[c + 3] + r2[c + 3])
                var d = (r2[c] - r1[c], r2[c + 1] - r1[c + 1], r2[c + 2] - r1[c + 2], r2[c + 3] - r1[c + 3])
                var f = (r1[c] - r3[c], r1[c + 1] - r3[c + 1], r1[c + 2] - r3[c + 2], r1[c + 3] - r3[c + 3])
                // Then columns: (. B) on each of the four rows.
                a = (a.0 - a.2, a.1 + a.2, a.2 - a.1, a.1 - a.3)
                b = (b.0 - b.2, b.1 + b.2, b.2 - b.1, b.1 - b.3)
                d = (d.0 - d.2, d.1 + d.2, d.2 - d.1, d.1 - d.3)
                f = (f.0 - f.2, f.1 + f.2, f.2 - f.1, f.1 - f.3)
                let p = v + t
                p[0] = a.0; p[s] = a.1; p[2 * s] = a.2; p[3 * s] = a.3
                p[4 * s] = b.0; p[5 * s] = b.1; p[6 * s] = b.2; p[7 * s] = b.3
                p[8 * s] = d.0; p[9 * s] = d.1; p[10 * s] = d.2; p[11 * s] = d.3
                p[12 * s] = f.0; p[13 * s] = f.1; p[14 * s] = f.2; p[15 * s] = f.3
                t += 1
            }
        }
    }

    /// y[2x2 block of each tile] (=|+=) A^T M A + bias for one output channel; blocks that hang
    /// over an odd height or width are cut.
    @inline(__always)
    static func outputTransform(_ m: UnsafePointer<Float>, positionStride s: Int, ty0: Int, ty1: Int, tw: Int,
                                bias: Float, height h: Int, width w: Int,
                                into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        var t = 0
        for ty in ty0..<ty1 {
            let oy = 2 * ty
            let row0 = y + oy * w, row1 = row0 + w
            let hasRow1 = oy + 1 < h
            for tx in 0..<tw {
                let p = m + t
                // Columns first: (M A) row i = (m_i0 + m_i1 + m_i2, m_i1 - m_i2 - m_i3).
                let a0 = p[0] + p[s] + p[2 * s], a1 = p[s] - p[2 * s] - p[3 * s]
                let b0 = p[4 * s] + p[5 * s] + p[6 * s], b1 = p[5 * s] - p[6 * s] - p[7 * s]
                let c0 = p[8 * s] + p[9 * s] + p[10 * s], c1 = p[9 * s] - p[10 * s] - p[11 * s]
                let d0 = p[12 * s] + p[13 * s] + p[14 * s], d1 = p[13 * s] - p[14 * s] - p[15 * s]
                // Then rows: A^T (.)
                let y00 = a0 + b0 + c0 + bias, y01 = a1 + b1 + c1 + bias
                let y10 = b0 - c0 - d0 + bias, y11 = b1 - c1 - d1 + bias
                let ox = 2 * tx
                let hasCol1 = ox + 1 < w
                if accumulate {
                    row0[ox] += y00
                    if hasCol1 { row0[ox + 1] += y01 }
                    if hasRow1 { row1[ox] += y10; if hasCol1 { row1[ox + 1] += y11 } }
                } else {
                    row0[ox] = y00
                    if hasCol1 { row0[ox + 1] = y01 }
                    if hasRow1 { row1[ox] = y10; if hasCol1 { row1[ox + 1] = y11 } }
                }
                t += 1
            }
        }
    }
}
