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
        let codes = ShimCodes(ok: Int(HAT_JPEG_OK), empty: Int(HAT_JPEG_EMPTY), tooLarge: Int(HAT_JPEG_TOO_LARGE),
                              messageLength: Int(HAT_JPEG_ERR_LEN))
        return try decodeWithShim(format: "JPEG", codes: codes, limits: limits) { out, capacity, w, h, message in
            bytes.withUnsafeBufferPointer { buf in
                Int(hat_jpeg_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                                 &w, &h, out, capacity, &message))
            }
        }
    }

    /// PIL's cmyk2rgb for one channel, given PIL's ink (255 - stored) and nk = 255 - black:
    /// clip(nk - MULDIV255(ink, nk)). The decoder uses the C twin in the shim; this one is for tests.
    static func cmykChannelToRGB(_ ink: Int, nk: Int) -> UInt8 {
        hat_jpeg_cmyk_channel(Int32(255 - ink), Int32(nk))
    }
}
