// JPEG through libjpeg-turbo, decoded to 8-bit RGB the way PIL's Image.open(...).convert("RGB")
// does. The only file importing CJPEG; libjpeg's error exits longjmp inside the C shim, never exit().
import CJPEG

public enum JPEGCodec {
    /// True when `bytes` starts with a JPEG start-of-image marker followed by another marker.
    public static func sniff(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    /// Decodes baseline, progressive, grayscale and CMYK/YCCK JPEGs to RGB with libjpeg's defaults
    /// (ISLOW inverse DCT, fancy upsampling), the same settings PIL uses. Grayscale is replicated
    /// to R=G=B; CMYK is converted with PIL's formula. Throws `ImageError` for corrupt or truncated
    /// data and for sizes outside `limits` (checked from the header before allocating pixels).
    public static func decode(_ bytes: [UInt8], limits: ImageLimits = .standard) throws -> RGBImage {
        guard sniff(bytes) else { throw ImageError.corrupt(format: "JPEG", message: "missing JPEG start marker") }
        var width = 0, height = 0
        var message = [CChar](repeating: 0, count: Int(HAT_JPEG_ERR_LEN))
        try bytes.withUnsafeBufferPointer { buf in
            // Header only: dimensions and limits, nothing allocated yet.
            let code = hat_jpeg_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                                       &width, &height, nil, 0, &message)
            try check(Int(code), width: width, height: height, limits: limits, message: message)
        }
        // (height, width, 3) bytes, RGB interleaved, filled by libjpeg in place.
        var code = Int32(HAT_JPEG_ERROR)
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
            var w = 0, h = 0
            code = bytes.withUnsafeBufferPointer { buf in
                hat_jpeg_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                                &w, &h, out.baseAddress, out.count, &message)
            }
            count = Int(code) == HAT_JPEG_OK ? out.count : 0
        }
        try check(Int(code), width: width, height: height, limits: limits, message: message)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Turns a shim return code into an `ImageError` (or nothing for success).
    private static func check(_ code: Int, width: Int, height: Int, limits: ImageLimits,
                              message: [CChar]) throws {
        switch code {
        case HAT_JPEG_OK: return
        case HAT_JPEG_EMPTY: throw ImageError.empty(format: "JPEG", width: width, height: height)
        case HAT_JPEG_TOO_LARGE:
            throw ImageError.tooLarge(format: "JPEG", width: width, height: height, limits: limits)
        default: throw ImageError.corrupt(format: "JPEG", message: cString(message))
        }
    }

    /// PIL's cmyk2rgb for one channel, given PIL's ink (255 - stored) and nk = 255 - black:
    /// clip(nk - MULDIV255(ink, nk)). The decoder uses the C twin in the shim; this one is for tests.
    static func cmykChannelToRGB(_ ink: Int, nk: Int) -> UInt8 {
        hat_jpeg_cmyk_channel(Int32(255 - ink), Int32(nk))
    }
}
