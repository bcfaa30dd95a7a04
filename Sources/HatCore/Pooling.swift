// Average pooling (the carrier-token initializer), global average pooling (the head) and the
// nearest-neighbour source index of nn.Upsample(mode='nearest').
import Foundation

public enum Pooling {
    /// AvgPool2d without padding: x [C, h, w] -> y [C, oh, ow], oh = (h - kh)/sh + 1.
    public static func average(_ x: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                               kernel kh: Int, _ kw: Int, stride sh: Int, _ sw: Int,
                               into y: UnsafeMutablePointer<Float>) {
        let oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1
        let area = Float(kh * kw)
        Parallel.forRanges(channels, minPerChunk: 8) { chans in
            for c in chans {
                let src = x + c * h * w, dst = y + c * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc: Float = 0
                        for ky in 0..<kh {
                            let row = src + (oy * sh + ky) * w + ox * sw
                            for kx in 0..<kw { acc += row[kx] }
                        }
                        dst[oy * ow + ox] = acc / area
                    }
                }
            }
        }
    }

    /// Mean over pixels of x [C, pixels] -> y [C], summed in Double.
    public static func globalAverage(_ x: UnsafePointer<Float>, channels: Int, pixels: Int,
                                     into y: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            var acc: Double = 0
            let r = x + c * pixels
            for i in 0..<pixels { acc += Double(r[i]) }
            y[c] = Float(acc / Double(pixels))
        }
    }

    /// Source index of output index `dst` for nearest upsampling from `inSize` to `outSize`,
    /// computed as PyTorch does: min(floor(dst * (float)in/out), in - 1).
    @inline(__always)
    public static func nearestSource(_ dst: Int, inSize: Int, outSize: Int) -> Int {
        if inSize == outSize { return dst }
        if outSize == 2 * inSize { return dst >> 1 }
        let scale = Float(inSize) / Float(outSize)
        return min(Int(floorf(Float(dst) * scale)), inSize - 1)
    }
}
