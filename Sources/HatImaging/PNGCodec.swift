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
        var width = 0, height = 0
        var message = [CChar](repeating: 0, count: Int(HAT_PNG_ERR_LEN))
        try bytes.withUnsafeBufferPointer { buf in
            // Header only: dimensions and limits, nothing allocated yet.
            let code = hat_png_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                                      &width, &height, nil, 0, &message)
            try check(Int(code), width: width, height: height, limits: limits, message: message)
        }
        // (height, width, 3) bytes, RGB interleaved, filled by libpng in place.
        var code = Int32(HAT_PNG_ERROR)
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
            var w = 0, h = 0
            code = bytes.withUnsafeBufferPointer { buf in
                hat_png_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                               &w, &h, out.baseAddress, out.count, &message)
            }
            count = Int(code) == HAT_PNG_OK ? out.count : 0
        }
        try check(Int(code), width: width, height: height, limits: limits, message: message)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Turns a shim return code into an `ImageError` (or nothing for success).
    private static func check(_ code: Int, width: Int, height: Int, limits: ImageLimits,
                              message: [CChar]) throws {
        switch code {
        case HAT_PNG_OK: return
        case HAT_PNG_EMPTY: throw ImageError.empty(format: "PNG", width: width, height: height)
        case HAT_PNG_TOO_LARGE:
            throw ImageError.tooLarge(format: "PNG", width: width, height: height, limits: limits)
        default: throw ImageError.corrupt(format: "PNG", message: cString(message))
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
