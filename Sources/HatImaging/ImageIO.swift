// Reading images from files (format sniffed by magic bytes, size limits, read once and bounded by
// the declared size) and writing PNGs through OutputFile (never half a file, never a replaced device).
import HatSystem

public enum ImageIO {
    /// The image formats HatImaging reads.
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    /// The format of `bytes` judged by their first bytes, or nil.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if PNGCodec.sniff(bytes) { return .png }
        if JPEGCodec.sniff(bytes) { return .jpeg }
        return nil
    }

    /// Reads a PNG or JPEG file (or `-`, standard input; any readable stream, read once) to RGB.
    /// Errors: unreadable file, not an image, corrupt/truncated, zero size, over `limits` (checked
    /// from the header, before the pixels are read), more data than the header's size allows.
    public static func load(path: String, limits: ImageLimits = .standard) throws -> RGBImage {
        var headerError: ImageError?
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path) { prefix in
                let bound = sizeBound(prefix, limits: limits, error: &headerError)
                if case .notAnImage? = headerError { headerError = .notAnImage(path: path) }
                return bound
            }
        } catch let e as FileError {
            if let headerError { throw headerError }
            throw ImageError(e)
        }
        return try decode(bytes, path: path, limits: limits)
    }

    /// Throws the ImageError a header prefix has (too large, empty, corrupt, not an image), if any.
    public static func checkHeader(_ prefix: UnsafeRawBufferPointer, limits: ImageLimits = .standard) throws {
        var error: ImageError?
        _ = sizeBound(prefix, limits: limits, error: &error)
        if let error { throw error }
    }

    /// `sizeBound` for callers that only need the bound.
    public static func sizeBound(_ prefix: UnsafeRawBufferPointer, limits: ImageLimits = .standard) -> InputFile.Bound {
        var ignored: ImageError?
        return sizeBound(prefix, limits: limits, error: &ignored)
    }

    /// How large a PNG or JPEG starting with `prefix` can be: its declared width and height
    /// (checked against `limits`) times the largest bytes per pixel the format can store, plus
    /// room for metadata. Needs the PNG header chunk or the JPEG frame header.
    static func sizeBound(_ prefix: UnsafeRawBufferPointer, limits: ImageLimits,
                          error: inout ImageError?) -> InputFile.Bound {
        let metadata = 16 << 20
        func checked(_ format: String, _ w: Int, _ h: Int, bytesPerPixel: Int) -> InputFile.Bound {
            if w == 0 || h == 0 { error = .empty(format: format, width: w, height: h) }
            if w > limits.maxSide || h > limits.maxSide || w * h > limits.maxPixels {
                error = .tooLarge(format: format, width: w, height: h, limits: limits)
            }
            if let error { return .invalid(error.description) }
            return .atMost(2 * h * (1 + w * bytesPerPixel) + metadata, why: "a \(w)x\(h) \(format)")
        }
        let b = [UInt8](prefix.prefix(1 << 20))
        if b.count < 8 && PNGCodec.signature.starts(with: b) { return .needMore }
        if PNGCodec.sniff(b) {
            guard b.count >= 24 else { return .needMore }
            guard Array(b[12 ..< 16]) == Array("IHDR".utf8) else {
                error = .corrupt(format: "PNG", message: "the first chunk is not IHDR")
                return .invalid(error!.description)
            }
            let w = b[16 ..< 20].reduce(0) { $0 << 8 | Int($1) }, h = b[20 ..< 24].reduce(0) { $0 << 8 | Int($1) }
            return checked("PNG", w, h, bytesPerPixel: 8)   // 16-bit RGBA is the widest pixel
        }
        func corrupt(_ m: String) -> InputFile.Bound {
            error = .corrupt(format: "JPEG", message: m)
            return .invalid(error!.description)
        }
        guard JPEGCodec.sniff(b) else {
            if b.count < 3 && (b.isEmpty || b[0] == 0xFF) && (b.count < 2 || b[1] == 0xD8) { return .needMore }
            error = .notAnImage(path: nil)
            return .invalid(error!.description)
        }
        // Walk the marker segments up to the frame header (SOFn) that holds the size.
        var i = 2
        while true {
            while i < b.count && b[i] == 0xFF && i + 1 < b.count && b[i + 1] == 0xFF { i += 1 }
            guard i + 4 <= b.count else { return prefix.count > b.count ? corrupt("no frame header in its first MB") : .needMore }
            guard b[i] == 0xFF else { return corrupt("bad marker") }
            let m = b[i + 1]
            if m == 0x01 || (0xD0 ... 0xD7).contains(m) { i += 2; continue }
            if m == 0xDA || m == 0xD9 { return corrupt("image data before the frame header") }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if (0xC0 ... 0xCF).contains(m) && m != 0xC4 && m != 0xC8 && m != 0xCC {
                guard i + 10 <= b.count else { return .needMore }
                let h = Int(b[i + 5]) << 8 | Int(b[i + 6]), w = Int(b[i + 7]) << 8 | Int(b[i + 8])
                let components = max(1, Int(b[i + 9]))
                // A height of 0 is given later (DNL; libjpeg refuses it): bound by the limits instead.
                if h == 0 {
                    return w == 0 ? checked("JPEG", w, h, bytesPerPixel: components)
                        : .atMost(2 * limits.maxPixels * components + metadata, why: "a JPEG within the size limits")
                }
                return checked("JPEG", w, h, bytesPerPixel: components)
            }
            guard length >= 2 else { return corrupt("bad segment length") }
            i += 2 + length
        }
    }

    /// Decodes PNG or JPEG bytes; `path` only names the source in error messages.
    public static func decode(_ bytes: [UInt8], path: String? = nil,
                              limits: ImageLimits = .standard) throws -> RGBImage {
        switch sniff(bytes) {
        case .png?: return try PNGCodec.decode(bytes, limits: limits)
        case .jpeg?: return try JPEGCodec.decode(bytes, limits: limits)
        case nil: throw ImageError.notAnImage(path: path)
        }
    }

    /// Encodes `image` as PNG and writes it to `path` (OutputFile's rules: a new or regular file
    /// is replaced whole through a temporary file, a device or FIFO is written into).
    public static func writePNG(_ image: RGBImage, to path: String) throws {
        let bytes = try PNGCodec.encode(image)
        do { try OutputFile.write(bytes, to: path) } catch let e as FileError { throw ImageError(e) }
    }

    /// The same into a batch of files that become final together.
    public static func writePNG(_ image: RGBImage, to path: String, batch: OutputBatch) throws {
        let bytes = try PNGCodec.encode(image)
        do { try batch.write(bytes, to: path) } catch let e as FileError { throw ImageError(e) }
    }
}
