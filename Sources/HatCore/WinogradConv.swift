// Stride-1, padding-1 3x3 convolution by Winograd's minimal filtering F(4x4, 3x3): each 4x4 block
// of outputs takes 36 multiplications per (in, out) channel pair instead of 144, so the GEMM work
// of the convolutional stages drops 4x. Every product is still one cblas_sgemm (through BLAS).
//
// With d a 6x6 input patch and g a 3x3 kernel:  Y[4x4] = A^T [ (G g G^T) (.) (B^T d B) ] A, with
// the interpolation points 0, 1, -1, 2, -2 and infinity:
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;  0 -2 -1 2 1 0;  0 2 -1 -2 1 0;  0 4 0 -5 0 1]
//   G   = [1/4 0 0;  -1/6 -1/6 -1/6;  -1/6 1/6 -1/6;  1/24 1/12 1/6;  1/24 -1/12 1/6;  0 0 1]
//   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
// The sum over input channels of the elementwise product is, for each of the 36 positions e,
//   M[e][cout, tiles] = U[e][cout, cin] * V[e][tiles, cin]^T   (one sgemm per e and band).
// Rounding: about 1e-5 of the output's magnitude in float32 (direct: ~1e-6), far inside the
// parity tolerance (1e-4); checked against the direct convolution in WinogradConvTests and by the
// model fixtures, where logits still agree with PyTorch to ~1e-6 relative.
//
// Layouts. The input is copied once, zero-padded and channels-last: P [ph, pw, cinP] (ph = 4*th+2,
// pw = 4*tw+2 for th x tw tiles, cinP = cin rounded up to 8), so the input transform works on 8
// channels per SIMD8 and every 6x6 patch is in bounds. Tiles are numbered row-major and cut into
// equal bands, one task per band (a map of one band: its steps spread over the cores), each
// band's V [n, 36, cinP] and M [cout, 36, n8] small enough for the core's L2. Position e is the
// middle index of both, so a tile's 36 transformed values (and an output channel's 36 products)
// sit together: the transforms read and write one compact block, and each sgemm addresses
// position e through its leading dimension (36 * cinP, 36 * n8).
// The output transform works on 8 tiles per SIMD8 (n8 = n rounded up to 8), adds the bias,
// applies the activation, and scatters the 4x4 blocks into y, cut at odd edges.
//
// Worked shapes (faster_vit_0 level 0: 64 channels, 56x56): 14x14 = 196 tiles, 4 bands of 49;
// per band V [49, 36, 64] and M [64, 36, 56], ~450-520 KB each; 36 sgemms of 64 x 49 x 64.
// Level 1 (128 channels, 28x28): 7x7 = 49 tiles, one band; 36 sgemms of 128 x 49 x 128.

public struct WinogradConv3x3: Sendable {
    public let inChannels: Int, outChannels: Int
    /// [36, outChannels, inChannels]: U[e] = G g G^T at position e = 6 * row + column.
    let transformed: [Float]
    /// [outChannels]
    let bias: [Float]

    typealias V8 = SIMD8<Float>

    /// From a stride-1 `Conv3x3` (BatchNorm already folded in). The kernel transform is done in
    /// Double, so U carries one rounding, like the weight itself.
    public init(_ conv: Conv3x3) {
        precondition(conv.stride == 1, "Winograd F(4x4,3x3) is for stride-1 convolutions")
        let cin = conv.inChannels, cout = conv.outChannels
        inChannels = cin
        outChannels = cout
        bias = conv.bias
        // G [6, 3], row-major.
        let g: [Double] = [1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                           1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1]
        var u = [Float](repeating: 0, count: 36 * cout * cin)
        conv.weight.withUnsafeBufferPointer { wb in
            u.withUnsafeMutableBufferPointer { ub in
                g.withUnsafeBufferPointer { gb in
                    let w = wb.baseAddress!, up = ub.baseAddress!, g = gb.baseAddress!
                    // Output channels spread over the cores: at load, ~1M kernels for a large variant.
                    Parallel.forRanges(cout) { os in
                        withUnsafeTemporaryAllocation(of: Double.self, capacity: 18) { tb in
                            let t = tb.baseAddress!   // G k  [6, 3]
                            for o in os {
                                for i in 0..<cin {
                                    let k = w + (o * cin + i) * 9
                                    for r in 0..<6 { for c in 0..<3 {
                                        t[r * 3 + c] = g[r * 3] * Double(k[c]) + g[r * 3 + 1] * Double(k[3 + c])
                                            + g[r * 3 + 2] * Double(k[6 + c])
                                    } }
                                    for r in 0..<6 { for c in 0..<6 {
                                        let v = t[r * 3] * g[c * 3] + t[r * 3 + 1] * g[c * 3 + 1] + t[r * 3 + 2] * g[c * 3 + 2]
                                        up[((r * 6 + c) * cout + o) * cin + i] = Float(v)
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
        transformed = u
    }

    /// y [images, outChannels, h, w] = act(conv(x [images, inChannels, h, w]) + bias); with
    /// `accumulate`, y += conv(x) + bias (no activation then: a residual add ends a block).
    /// Every image is computed by the same products as at batch 1, so a batch agrees with its
    /// images bitwise. Image by image: one image's padded input and its bands' V and M stay in the
    /// caches, where bands spanning a batch were measured slower per image. In a batch, whole
    /// rounds of images run one image per core, padded and transformed band after band on its
    /// core: no joins between padding, bands and images (two per image when one image is spread
    /// over the cores, and they grew long on a busy machine). The images left over (fewer than
    /// the cores), and a single image, are spread over the cores: band by band when an image
    /// makes several, else step by step within its one band (see `applyOne`).
    public func apply(_ x: UnsafePointer<Float>, images: Int = 1, height h: Int, width w: Int,
                      into y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .none,
                      accumulate: Bool = false) {
        precondition(!(accumulate && epilogue != .none), "an activation after a residual add is not a conv epilogue")
        let cinP = (inChannels + 7) / 8 * 8
        let th = (h + 3) / 4, tw = (w + 3) / 4
        let paddedCount = (4 * th + 2) * (4 * tw + 2) * cinP
        let inSize = inChannels * h * w, outSize = outChannels * h * w
        let cores = Parallel.cores
        let bands = bandsPerImage(tiles: th * tw)
        let rounds = cores > 1 ? images - images % cores : 0
        Parallel.forEach(rounds) { image in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)   // [ph, pw, cinP]
            defer { padded.deallocate() }
            Parallel.serial {
                applyOne(x + image * inSize, height: h, width: w, padded: padded, bands: bands,
                         into: y + image * outSize, epilogue: epilogue, accumulate: accumulate)
            }
        }
        guard rounds < images else { return }
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)           // [ph, pw, cinP]
        defer { padded.deallocate() }
        for image in rounds..<images {
            applyOne(x + image * inSize, height: h, width: w, padded: padded, bands: bands,
                     into: y + image * outSize, epilogue: epilogue, accumulate: accumulate)
        }
    }

    /// Bands of an image of `tiles` tiles, V + M of a band about <= 1 MB so they stay in the
    /// core's L2, and a multiple of the core count when more than one, so that one image keeps
    /// every core busy. (One pass per stage over all tiles, with the products spread by
    /// position, was measured slower: V and M then come from L3.)
    func bandsPerImage(tiles: Int) -> Int {
        let cinP = (inChannels + 7) / 8 * 8
        let perTile = 36 * (cinP + outChannels) * 4
        var bands = max(1, (tiles * perTile + (1 << 20) - 1) >> 20)
        // At least ~32 tiles per band, whatever the cache says: every band packs all of U again
        // (22 MB at 392 channels), and narrow products run the kernel on part-empty tiles.
        // Measured on faster_vit_4_224: 370 -> 345 ms per forward; faster_vit_0 unchanged.
        bands = min(bands, max(1, tiles / 32))
        if bands == 1 { return 1 }
        let cores = Parallel.cores
        return min(tiles, (bands + cores - 1) / cores * cores)
    }

    /// One image in `bands` equal bands of tiles: x [inChannels, h, w] -> y [outChannels, h, w];
    /// `padded` holds (4*th + 2) * (4*tw + 2) * cinP floats of scratch. Several bands: one task
    /// each. One band (a small map: level 1 of faster_vit_0 is 7 x 7 tiles): its three steps,
    /// each spread over the cores (tiles, positions, output channels), rather than cut into a
    /// band per core: one core's products of 25 tiles ran at ~30 GFLOPS, of 49 tiles at ~47,
    /// and every band packs all of U again.
    private func applyOne(_ x: UnsafePointer<Float>, height h: Int, width w: Int, padded: UnsafeMutablePointer<Float>,
                          bands wanted: Int, into y: UnsafeMutablePointer<Float>, epilogue: Epilogue, accumulate: Bool) {
        let cin = inChannels, cout = outChannels
        let cinP = (cin + 7) / 8 * 8
        let th = (h + 3) / 4, tw = (w + 3) / 4, tiles = th * tw
        let ph = 4 * th + 2, pw = 4 * tw + 2
        // padded [ph, pw, cinP]: zero-padded, channels-last (padded row r, column q = x[r - 1, q - 1]).
        Parallel.forRanges(ph, minPerChunk: 4) { rows in
            for r in rows {
                WinogradConv3x3.padRow(x, channels: cin, height: h, width: w, row: r - 1, paddedWidth: pw,
                                       channelStride: cinP, into: padded + r * pw * cinP)
            }
        }
        let perBand = (tiles + wanted - 1) / wanted
        let bands = (tiles + perBand - 1) / perBand
        transformed.withUnsafeBufferPointer { uBuf in
            bias.withUnsafeBufferPointer { bBuf in
                let band = Band(u: uBuf.baseAddress!, bias: bBuf.baseAddress!, padded: padded, paddedWidth: pw,
                                tilesPerRow: tw, height: h, width: w, inChannels: cin, outChannels: cout,
                                epilogue: epilogue, accumulate: accumulate, y: y)
                if bands == 1 {
                    let n8 = (tiles + 7) / 8 * 8
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * tiles * cinP)  // [tiles, 36, cinP]
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * cout * n8)     // [cout, 36, n8]
                    defer { v.deallocate(); m.deallocate() }
                    Parallel.forRanges(tiles) { ts in band.inputs(ts, first: 0, into: v) }
                    Parallel.forRanges(36) { es in band.products(es, tiles: tiles, v, into: m) }
                    Parallel.forRanges(cout) { os in band.outputs(os, first: 0, tiles: tiles, m) }
                    return
                }
                Parallel.forEach(bands) { b in
                    let t0 = b * perBand, n = min(tiles, t0 + perBand) - t0
                    let n8 = (n + 7) / 8 * 8
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * n * cinP)    // [n, 36, cinP]
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * cout * n8)  // [cout, 36, n8]
                    defer { v.deallocate(); m.deallocate() }
                    band.inputs(0..<n, first: t0, into: v)
                    band.products(0..<36, tiles: n, v, into: m)
                    band.outputs(0..<cout, first: t0, tiles: n, m)
                }
            }
        }
    }

    /// The three steps of a band of n tiles (from tile t0, row-major over the image's tiles).
    private struct Band {
        /// U [36, cout, cin]; bias [cout]; padded [ph, pw, cinP]
        let u: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: UnsafeMutablePointer<Float>
        let paddedWidth: Int, tilesPerRow: Int, height: Int, width: Int, inChannels: Int, outChannels: Int
        let epilogue: Epilogue, accumulate: Bool
        /// [cout, h, w]
        let y: UnsafeMutablePointer<Float>

        /// V [n, 36, cinP] rows `ts` (band tiles t0 + t): B^T d B of each tile's 6 x 6 patch.
        func inputs(_ ts: Range<Int>, first t0: Int, into v: UnsafeMutablePointer<Float>) {
            let cinP = (inChannels + 7) / 8 * 8, pw = paddedWidth, tw = tilesPerRow
            for t in ts {
                let ty = (t0 + t) / tw, tx = (t0 + t) % tw
                let patch = padded + (4 * ty * pw + 4 * tx) * cinP
                var c = 0
                while c < cinP {
                    WinogradConv3x3.inputTransform(patch + c, rowStride: pw * cinP, colStride: cinP,
                                                   into: v + t * 36 * cinP + c, positionStride: cinP)
                    c += 8
                }
            }
        }

        /// M[e][cout, n] = U[e][cout, cin] * V[e][n, cin]^T for positions `es`; M [cout, 36, n8]
        /// with the n8 - n padding columns zeroed (the last 8 columns of each row are zeroed
        /// first with one vector store, then the product writes its n: a memset call per row
        /// cost more than the store).
        func products(_ es: Range<Int>, tiles n: Int, _ v: UnsafePointer<Float>, into m: UnsafeMutablePointer<Float>) {
            let cin = inChannels, cout = outChannels, cinP = (cin + 7) / 8 * 8, n8 = (n + 7) / 8 * 8
            for e in es {
                if n8 > n {
                    for o in 0..<cout { WinogradConv3x3.store(V8(), m + (o * 36 + e) * n8 + n8 - 8) }
                }
                BLAS.sgemm(transA: false, transB: true, m: cout, n: n, k: cin,
                           a: u + e * cout * cin, lda: cin, b: v + e * cinP, ldb: 36 * cinP,
                           c: m + e * n8, ldc: 36 * n8)
            }
        }

        /// y (=|+=) A^T M A + bias, activated, for output channels `os`.
        func outputs(_ os: Range<Int>, first t0: Int, tiles n: Int, _ m: UnsafePointer<Float>) {
            let n8 = (n + 7) / 8 * 8
            for o in os {
                var t = 0
                while t < n {
                    WinogradConv3x3.outputTransform(m + o * 36 * n8 + t, positionStride: n8,
                                                    firstTile: t0 + t, lanes: min(8, n - t), tilesPerRow: tilesPerRow,
                                                    bias: bias[o], epilogue: epilogue, height: height, width: width,
                                                    into: y + o * height * width, accumulate: accumulate)
                    t += 8
                }
            }
        }
    }

    /// One row of the zero-padded, channels-last input: dst [pw, cinP] = x[iy, q - 1] of every
    /// channel of x [cin, h, w] (zeros for iy outside 0..<h, columns 0 and w+1..<pw, and channels
    /// cin..<cinP).
    static func padRow(_ x: UnsafePointer<Float>, channels cin: Int, height h: Int, width w: Int, row iy: Int,
                       paddedWidth pw: Int, channelStride cinP: Int, into dst: UnsafeMutablePointer<Float>) {
        guard iy >= 0 && iy < h else { dst.update(repeating: 0, count: pw * cinP); return }
        dst.update(repeating: 0, count: cinP)
        (dst + (w + 1) * cinP).update(repeating: 0, count: (pw - w - 1) * cinP)
        // 8 channels x 8 pixels at a time, transposed in registers; then the rest.
        let plane = h * w, c8 = cin - cin % 8, w8 = w - w % 8
        var c = 0
        while c < c8 {
            let src = x + (c * h + iy) * w
            var ix = 0
            while ix < w8 {
                let p = src + ix
                let t = transpose8(load(p), load(p + plane), load(p + 2 * plane), load(p + 3 * plane),
                                   load(p + 4 * plane), load(p + 5 * plane), load(p + 6 * plane), load(p + 7 * plane))
                let d = dst + (ix + 1) * cinP + c
                store(t.0, d); store(t.1, d + cinP); store(t.2, d + 2 * cinP); store(t.3, d + 3 * cinP)
                store(t.4, d + 4 * cinP); store(t.5, d + 5 * cinP); store(t.6, d + 6 * cinP); store(t.7, d + 7 * cinP)
                ix += 8
            }
            for k in 0..<8 {
                let s = src + k * plane
                var ix = w8
                while ix < w { dst[(ix + 1) * cinP + c + k] = s[ix]; ix += 1 }
            }
            c += 8
        }
        while c < cin {
            let src = x + (c * h + iy) * w
            var ix = 0
            while ix < w { dst[(ix + 1) * cinP + c] = src[ix]; ix += 1 }
            c += 1
        }
        if cinP > cin {
            for ix in 0..<w { (dst + (ix + 1) * cinP + cin).update(repeating: 0, count: cinP - cin) }
        }
    }

    /// (B^T X B) for X = one 6x6 patch of 8 channels: 36 SIMD8 values, each written to
    /// v + e * positionStride.
    @inline(__always)
    static func inputTransform(_ patch: UnsafePointer<Float>, rowStride: Int, colStride: Int,
                               into v: UnsafeMutablePointer<Float>, positionStride s: Int) {
        // Rows: (B^T d)[i][j] for the six columns j, rows 0-2 in `top`, 3-5 in `bottom` (at
        // 6 * (i % 3) + j): two buffers of 576 bytes stay on the stack, where one of 1152 bytes
        // was a malloc and free per call (Swift's limit is 1024 bytes; glibc's thread cache ends
        // at 1032, so each took the arena lock: ~1.5% of a batch-16 forward's CPU time).
        withUnsafeTemporaryAllocation(of: V8.self, capacity: 18) { tb in
            withUnsafeTemporaryAllocation(of: V8.self, capacity: 18) { bb in
                let top = tb.baseAddress!, bottom = bb.baseAddress!
                for j in 0..<6 {
                    let p = patch + j * colStride
                    let (o0, o1, o2, o3, o4, o5) = transformB(load(p), load(p + rowStride), load(p + 2 * rowStride),
                                                              load(p + 3 * rowStride), load(p + 4 * rowStride),
                                                              load(p + 5 * rowStride))
                    top[j] = o0; top[6 + j] = o1; top[12 + j] = o2
                    bottom[j] = o3; bottom[6 + j] = o4; bottom[12 + j] = o5
                }
                // Columns: (. B) on each row i.
                for i in 0..<6 {
                    let q = (i < 3 ? top : bottom) + 6 * (i % 3)
                    let (o0, o1, o2, o3, o4, o5) = transformB(q[0], q[1], q[2], q[3], q[4], q[5])
                    let base = v + 6 * i * s
                    store(o0, base); store(o1, base + s); store(o2, base + 2 * s)
                    store(o3, base + 3 * s); store(o4, base + 4 * s); store(o5, base + 5 * s)
                }
            }
        }
    }

    /// B^T applied to a column of six values.
    @inline(__always)
    static func transformB(_ d0: V8, _ d1: V8, _ d2: V8, _ d3: V8, _ d4: V8, _ d5: V8)
        -> (V8, V8, V8, V8, V8, V8) {
        let a = d4 - d2, b = d3 - d1, c = d3 + d4, e = d1 + d2, f = d4 - d3, g = d1 - d2
        return (4 * d0 - 5 * d2 + d4, c - 4 * e, f + 4 * g, a + 2 * b, a - 2 * b, 4 * d1 - 5 * d3 + d5)
    }

    /// A^T applied to a column of six values.
    @inline(__always)
    static func transformA(_ m0: V8, _ m1: V8, _ m2: V8, _ m3: V8, _ m4: V8, _ m5: V8) -> (V8, V8, V8, V8) {
        let p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4
        return (m0 + p12 + p34, d12 + 2 * d34, p12 + 4 * p34, d12 + 8 * d34 + m5)
    }

    /// The 4x4 output blocks of `lanes` consecutive tiles (from `firstTile`, row-major over
    /// tilesPerRow) for one output channel: A^T M A + bias, then the activation, then y (=|+=)
    /// the block, cut at the bottom and right edges.
    @inline(__always)
    static func outputTransform(_ m: UnsafePointer<Float>, positionStride s: Int, firstTile: Int, lanes: Int,
                                tilesPerRow tw: Int, bias: Float, epilogue: Epilogue,
                                height h: Int, width w: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        // (M A) [6 rows, 4 columns], then A^T M A [4, 4]: 8 tiles per value.
        withUnsafeTemporaryAllocation(of: V8.self, capacity: 24) { cb in
            withUnsafeTemporaryAllocation(of: V8.self, capacity: 16) { ob in
                let cp = cb.baseAddress!, op = ob.baseAddress!
                for i in 0..<6 {
                    let p = m + 6 * i * s
                    let (o0, o1, o2, o3) = transformA(load(p), load(p + s), load(p + 2 * s), load(p + 3 * s),
                                                      load(p + 4 * s), load(p + 5 * s))
                    cp[4 * i] = o0; cp[4 * i + 1] = o1; cp[4 * i + 2] = o2; cp[4 * i + 3] = o3
                }
                let bv = V8(repeating: bias)
                for j in 0..<4 {
                    let (o0, o1, o2, o3) = transformA(cp[j], cp[4 + j], cp[8 + j], cp[12 + j], cp[16 + j], cp[20 + j])
                    op[j] = o0 + bv; op[4 + j] = o1 + bv; op[8 + j] = o2 + bv; op[12 + j] = o3 + bv
                }
                switch epilogue {
                case .none: break
                case .relu: for k in 0..<16 { op[k] = op[k].replacing(with: 0, where: op[k] .< 0) }
                case .gelu: for k in 0..<16 { op[k] = Activations.gelu(op[k]) }
                }
                var ty = firstTile / tw, tx = firstTile % tw
                if w % 4 == 0 && h % 4 == 0 {
                    // Whole 4x4 blocks: the lanes' rows interleaved once into rows [4][32]
                    // (rows[i][4l + j] = op[4i + j][l]), then each run of lanes that sits side by
                    // side in one tile row is a contiguous copy of 4 * run floats per output row.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 128) { rb in
                        let rows = rb.baseAddress!
                        for i in 0..<4 {
                            let a = op[4 * i], b = op[4 * i + 1], c = op[4 * i + 2], d = op[4 * i + 3]
                            let r = rows + 32 * i
                            store(V8(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1]), r)
                            store(V8(a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3]), r + 8)
                            store(V8(a[4], b[4], c[4], d[4], a[5], b[5], c[5], d[5]), r + 16)
                            store(V8(a[6], b[6], c[6], d[6], a[7], b[7], c[7], d[7]), r + 24)
                        }
                        var l = 0
                        while l < lanes {
                            let run = min(lanes - l, tw - tx)
                            for i in 0..<4 {
                                let dst = y + (4 * ty + i) * w + 4 * tx, src = rows + 32 * i + 4 * l
                                if accumulate {
                                    for q in 0..<(4 * run) { dst[q] += src[q] }
                                } else {
                                    dst.update(from: src, count: 4 * run)
                                }
                            }
                            l += run
                            tx += run
                            if tx == tw { tx = 0; ty += 1 }
                        }
                    }
                    return
                }
                // Lane l of value k is the float at k * 8 + l: plain scalar loads through a raw
                // pointer, and the tile position is stepped rather than divided out per lane.
                let raw = UnsafeRawPointer(op)
                for l in 0..<lanes {
                    let rows = min(4, h - 4 * ty), colsHere = min(4, w - 4 * tx)
                    for i in 0..<rows {
                        let dst = y + (4 * ty + i) * w + 4 * tx, src = (32 * i + l) * 4
                        if accumulate {
                            for j in 0..<colsHere { dst[j] += raw.load(fromByteOffset: src + 32 * j, as: Float.self) }
                        } else {
                            for j in 0..<colsHere { dst[j] = raw.load(fromByteOffset: src + 32 * j, as: Float.self) }
                        }
                    }
                    tx += 1
                    if tx == tw { tx = 0; ty += 1 }
                }
            }
        }
    }

    /// The 8 x 8 transpose of rows r0...r7 (result k holds element k of every row), in the three
    /// shuffle stages of AVX (unpack, shuffle, 128-bit permute): the element patterns below are
    /// the ones the compiler lowers to one instruction each.
    @inline(__always)
    static func transpose8(_ r0: V8, _ r1: V8, _ r2: V8, _ r3: V8, _ r4: V8, _ r5: V8, _ r6: V8, _ r7: V8)
        -> (V8, V8, V8, V8, V8, V8, V8, V8) {
        func lo(_ a: V8, _ b: V8) -> V8 { V8(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
        func hi(_ a: V8, _ b: V8) -> V8 { V8(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
        func even(_ a: V8, _ b: V8) -> V8 { V8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
        func odd(_ a: V8, _ b: V8) -> V8 { V8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
        func low(_ a: V8, _ b: V8) -> V8 { V8(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]) }
        func high(_ a: V8, _ b: V8) -> V8 { V8(a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7]) }
        let t0 = lo(r0, r1), t1 = hi(r0, r1), t2 = lo(r2, r3), t3 = hi(r2, r3)
        let t4 = lo(r4, r5), t5 = hi(r4, r5), t6 = lo(r6, r7), t7 = hi(r6, r7)
        let u0 = even(t0, t2), u1 = odd(t0, t2), u2 = even(t1, t3), u3 = odd(t1, t3)
        let u4 = even(t4, t6), u5 = odd(t4, t6), u6 = even(t5, t7), u7 = odd(t5, t7)
        return (low(u0, u4), low(u1, u5), low(u2, u6), low(u3, u7),
                high(u0, u4), high(u1, u5), high(u2, u6), high(u3, u7))
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }

    @inline(__always)
    static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }
}
