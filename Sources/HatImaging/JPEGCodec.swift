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
        var components: Int32 = 0
        var out: UnsafeMutablePointer<UInt8>? = nil
        var message = [CChar](repeating: 0, count: Int(HAT_JPEG_ERR_LEN))
        let code = bytes.withUnsafeBufferPointer { buf in
            hat_jpeg_decode(buf.baseAddress, buf.count, limits.maxSide, limits.maxPixels,
                            &width, &height, &components, &out, &message)
        }
        defer { free(out) }
        switch Int(code) {
        case HAT_JPEG_OK:
            guard let out else { throw ImageError.corrupt(format: "JPEG", message: "no pixels") }
            // (height, width, components) bytes as libjpeg produced them.
            let raw = UnsafeBufferPointer(start: out, count: width * height * Int(components))
            return RGBImage(width: width, height: height,
                            pixels: toRGB(raw, pixelCount: width * height, components: Int(components)))
        case HAT_JPEG_EMPTY:
            throw ImageError.empty(format: "JPEG", width: width, height: height)
        case HAT_JPEG_TOO_LARGE:
            throw ImageError.tooLarge(format: "JPEG", width: width, height: height, limits: limits)
        default:
            throw ImageError.corrupt(format: "JPEG", message: cString(message))
        }
    }

    /// Interleaved 1, 3 or 4 component samples -> (pixelCount, 3) RGB bytes.
    static func toRGB(_ raw: UnsafeBufferPointer<UInt8>, pixelCount: Int, components: Int) -> [UInt8] {
        switch components {
        case 3:
            return [UInt8](raw)
        case 1:
            return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { dst, count in
                for i in 0..<pixelCount {
                    let v = raw[i]
                    dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                }
                count = pixelCount * 3
            }
        default:
            return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { dst, count in
                for i in 0..<pixelCount {
                    // PIL reads JPEG CMYK as "CMYK;I" (Adobe's inverted storage) for every file:
                    // ink = 255 - stored, and nk = 255 - black = the stored K byte.
                    let nk = Int(raw[4 * i + 3])
                    for c in 0..<3 {
                        dst[3 * i + c] = cmykChannelToRGB(255 - Int(raw[4 * i + c]), nk: nk)
                    }
                }
                count = pixelCount * 3
            }
        }
    }

    /// PIL's cmyk2rgb for one channel: clip(nk - round(ink * nk / 255)), nk = 255 - black,
    /// with its integer MULDIV255 rounding.
    static func cmykChannelToRGB(_ ink: Int, nk: Int) -> UInt8 {
        let tmp = ink * nk + 128
        let scaled = ((tmp >> 8) + tmp) >> 8
        return UInt8(clamping: nk - scaled)
    }
}
