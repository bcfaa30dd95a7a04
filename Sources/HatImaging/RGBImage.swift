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
        var p = [UInt8](repeating: 0, count: width * height * 3)
        var i = 0
        while i < p.count { p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2; i += 3 }
        self.init(width: width, height: height, pixels: p)
    }
}
