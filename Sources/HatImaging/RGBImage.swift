// An 8-bit RGB raster: the currency between decoders, preprocessing, figures and encoders.

public struct RGBImage: Sendable, Equatable {
    public var width: Int, height: Int
    /// width * height * 3 bytes, RGB interleaved, row-major, top row first.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3, "RGBImage: size mismatch")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// A canvas filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var p = [UInt8](repeating: fill.0, count: width * height * 3)
        if fill.0 != fill.1 || fill.0 != fill.2, !p.isEmpty {
            // The first row pixel by pixel, then copies of it (a screen picture's background: the
            // per-byte loop took ~15% of a kitty frame's own time).
            p.withUnsafeMutableBufferPointer { b in
                let row = width * 3
                for i in stride(from: 0, to: row, by: 3) { b[i] = fill.0; b[i + 1] = fill.1; b[i + 2] = fill.2 }
                for y in 1 ..< height { (b.baseAddress! + y * row).update(from: b.baseAddress!, count: row) }
            }
        }
        self.init(width: width, height: height, pixels: p)
    }
}
