// PNG through libpng: decode any PNG to 8-bit RGB the way PIL's convert("RGB") does, encode RGB.
// The only file importing CPNG; libpng's longjmp error handling stays inside the C shim.
import CPNG

public enum PNGCodec {
    /// The 8 bytes every PNG starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// True when `bytes` starts with the PNG signature.
    public static func sniff(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 8 && Array(bytes[0..<8]) == signature
    }

    /// Decodes gray, gray+alpha, RGB, RGBA and palette PNGs of 1/2/4/8/16 bits, interlaced or not,
    /// to RGB: palette expanded (tRNS ignored), gray replicated to R=G=B, low bit depths scaled to
    /// 0...255, 16-bit samples reduced to their high byte, alpha dropped (not composited).
    /// Throws `ImageError` for corrupt or truncated data and for sizes outside `limits`; the size is
    /// checked from the header before pixels are allocated.
    public static func decode(_ bytes: [UInt8], limits: ImageLimits = .standard) throws -> RGBImage {
        guard sniff(bytes) else { throw ImageError.corrupt(format: "PNG", message: "missing PNG signature") }
        // libpng calls a zero dimension "Invalid IHDR data"; say what is wrong instead.
        if bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8) {
            let w = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let h = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            if w == 0 || h == 0 { throw ImageError.empty(format: "PNG", width: w, height: h) }
        }
        let codes = ShimCodes(ok: Int(HAT_PNG_OK), empty: Int(HAT_PNG_EMPTY), tooLarge: Int(HAT_PNG_TOO_LARGE),
                              messageLength: Int(HAT_PNG_ERR_LEN))
        return try decodeWithShim(format: "PNG", codes: codes, limits: limits) { out, capacity, w, h, message in
            bytes.withUnsafeBufferPointer { buf in
                Int(hat_png_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                                &w, &h, out, capacity, &message))
            }
        }
    }

    /// zlib level for figures. Measured on a 740x820 montage-like figure (photo under heat
    /// overlays): level 2 takes ~25 ms CPU and 617 kB, the zlib default 6 ~125 ms and 566 kB.
    /// Figures must be written quickly (montage budget 150 ms), so speed wins over 8% size.
    public static let defaultCompressionLevel = 2

    /// Encodes an RGB image as an 8-bit, non-interlaced PNG (compression 0 = none ... 9 = smallest).
    public static func encode(_ image: RGBImage, compressionLevel: Int = defaultCompressionLevel) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw ImageError.invalidImage("cannot encode an empty \(image.width)x\(image.height) image")
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: Int(HAT_PNG_ERR_LEN))
        let code = image.pixels.withUnsafeBufferPointer { buf in
            hat_png_encode(buf.baseAddress, image.width, image.height, Int32(min(max(compressionLevel, 0), 9)),
                           &out, &size, &message)
        }
        defer { free(out) }
        guard Int(code) == HAT_PNG_OK, let out else {
            throw ImageError.invalidImage("PNG encoding failed: \(cString(message))")
        }
        return [UInt8](UnsafeBufferPointer(start: out, count: size))
    }
}
