// Pillow's resampling (libImaging/Resample.c) for 8-bit RGB, reproduced step for step so resized
// pixels match PIL's Image.resize(size, BICUBIC) exactly:
//  - separable: a horizontal pass (only if the width changes) into an 8-bit intermediate image,
//    then a vertical pass (only if the height changes);
//  - per output pixel a window of input pixels with filter weights computed in double, the filter
//    stretched by the shrink factor when downscaling (antialiasing), weights normalised to sum 1;
//  - weights converted to fixed point with PRECISION_BITS = 22 (rounded half away from zero),
//    accumulated in integers starting from 1 << 21 (rounding), then >> 22 and clipped to 0...255.

enum PillowResample {
    /// Fixed-point fraction bits of the weights: 32 - 8 - 2, as in Pillow.
    static let precisionBits = 22

    /// Pillow's bicubic kernel (a = -0.5), support 2.
    static func bicubicKernel(_ xIn: Double) -> Double {
        let a = -0.5
        let x = abs(xIn)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }
    static let bicubicSupport = 2.0

    /// Window and fixed-point weights for each output position along one axis.
    struct Coefficients {
        /// Taps per output position (weights beyond `count[i]` are zero).
        var ksize: Int
        /// First input index of each output position's window, (outSize).
        var start: [Int]
        /// Number of input pixels in each window, (outSize).
        var count: [Int]
        /// Fixed-point weights, (outSize, ksize).
        var weights: [Int32]
    }

    /// Pillow's precompute_coeffs + normalize_coeffs_8bpc for resizing inSize -> outSize (box = whole axis).
    static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = bicubicSupport * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var start = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterScale
        let one = Double(1 << precisionBits)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            // C's (int) truncates toward zero, as Pillow's "round the value".
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var ww = 0.0
            for x in 0..<max(xmax, 0) {
                let w = bicubicKernel((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<max(xmax, 0) {
                let v = ww != 0 ? k[x] / ww : k[x]
                // (int)(±0.5 + v * 2^22): rounds half away from zero.
                weights[xx * ksize + x] = Int32(v < 0 ? (-0.5 + v * one).rounded(.towardZero)
                                                      : (0.5 + v * one).rounded(.towardZero))
            }
            start[xx] = xmin
            count[xx] = max(xmax, 0)
        }
        return Coefficients(ksize: ksize, start: start, count: count, weights: weights)
    }

    /// Pillow's clip8: accumulated fixed-point value -> byte.
    @inline(__always)
    static func clip8(_ v: Int) -> UInt8 {
        let s = v >> precisionBits
        return s < 0 ? 0 : (s > 255 ? 255 : UInt8(s))
    }

    /// PIL's image.resize((width, height), Image.BICUBIC) for an RGB image.
    static func bicubic(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        if width == image.width && height == image.height { return image }
        var current = image
        if width != image.width {
            current = horizontal(current, to: width)
        }
        if height != image.height {
            current = vertical(current, to: height)
        }
        return current
    }

    /// Horizontal pass: (h, w_in, 3) -> (h, w_out, 3).
    static func horizontal(_ image: RGBImage, to outW: Int) -> RGBImage {
        let co = coefficients(inSize: image.width, outSize: outW)
        let h = image.height, inW = image.width
        let half = 1 << (precisionBits - 1)
        var out = [UInt8](repeating: 0, count: outW * h * 3)
        image.pixels.withUnsafeBufferPointer { src in
            co.weights.withUnsafeBufferPointer { wts in
                out.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<h {
                        let row = y * inW * 3
                        for xx in 0..<outW {
                            var s0 = half, s1 = half, s2 = half
                            let base = row + co.start[xx] * 3
                            let kb = xx * co.ksize
                            for x in 0..<co.count[xx] {
                                let w = Int(wts[kb + x])
                                s0 += Int(src[base + 3 * x]) * w
                                s1 += Int(src[base + 3 * x + 1]) * w
                                s2 += Int(src[base + 3 * x + 2]) * w
                            }
                            let o = (y * outW + xx) * 3
                            dst[o] = clip8(s0); dst[o + 1] = clip8(s1); dst[o + 2] = clip8(s2)
                        }
                    }
                }
            }
        }
        return RGBImage(width: outW, height: h, pixels: out)
    }

    /// Vertical pass: (h_in, w, 3) -> (h_out, w, 3).
    static func vertical(_ image: RGBImage, to outH: Int) -> RGBImage {
        let co = coefficients(inSize: image.height, outSize: outH)
        let w = image.width, rowLen = w * 3
        let half = 1 << (precisionBits - 1)
        var out = [UInt8](repeating: 0, count: w * outH * 3)
        var acc = [Int](repeating: 0, count: rowLen)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for yy in 0..<outH {
                    for i in 0..<rowLen { acc[i] = half }
                    let kb = yy * co.ksize
                    for y in 0..<co.count[yy] {
                        let wgt = Int(co.weights[kb + y])
                        let row = (co.start[yy] + y) * rowLen
                        for i in 0..<rowLen { acc[i] += Int(src[row + i]) * wgt }
                    }
                    let o = yy * rowLen
                    for i in 0..<rowLen { dst[o + i] = clip8(acc[i]) }
                }
            }
        }
        return RGBImage(width: w, height: outH, pixels: out)
    }
}
