// Sixel images through libsixel: the only file that imports CSixel. libsixel builds a palette of
// at most `colors` entries (median cut) for each picture and writes DCS q ... ST; error
// diffusion is left off, so unchanged parts of a picture keep their exact pixels from frame to
// frame and flat heat colours stay flat.
import CSixel
import HatImaging

public struct SixelError: Error, CustomStringConvertible {
    public let description: String
}

public enum SixelEncoder {
    /// The sixel escape string (DCS ... ST) of `image` with at most `colors` (2...256) colours.
    public static func encode(_ image: RGBImage, colors: Int = 256) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else { throw SixelError(description: "sixel: empty image") }
        var out = hs_sixel_buffer(data: nil, size: 0, capacity: 0, failed: 0)
        defer { hs_sixel_free(&out) }
        var pixels = image.pixels   // libsixel takes a mutable pointer; [height, width, 3]
        let status = pixels.withUnsafeMutableBufferPointer { p in
            hs_sixel_encode(p.baseAddress, Int32(image.width), Int32(image.height), Int32(min(256, max(2, colors))),
                            hs_sixel_diffuse_none(), hs_sixel_quality_low(), &out)
        }
        guard status == 0, let data = out.data else { throw SixelError(description: "sixel: libsixel could not encode the picture") }
        return Array(UnsafeBufferPointer(start: data, count: out.size))
    }
}
