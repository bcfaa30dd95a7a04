// Reading images from files (format sniffed by magic bytes, size limits) and writing PNGs
// atomically (temporary name in the same folder, then rename), so no half-written file is left.
import Foundation

public enum ImageIO {
    /// The image formats HatImaging reads.
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    /// The format of `bytes` judged by their first bytes, or nil.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if PNGCodec.sniff(bytes) { return .png }
        if JPEGCodec.sniff(bytes) { return .jpeg }
        return nil
    }

    /// Reads a PNG or JPEG file to RGB. Errors: unreadable file, not an image, corrupt/truncated,
    /// zero size, or over `limits` (checked from the header, before decoding pixels).
    public static func load(path: String, limits: ImageLimits = .standard) throws -> RGBImage {
        // Sniff the first bytes before reading everything, so a large non-image file is refused
        // without being loaded into memory.
        guard sniff(try readBytes(path: path, limit: 16)) != nil else { throw ImageError.notAnImage(path: path) }
        let bytes = try readBytes(path: path)
        return try decode(bytes, path: path, limits: limits)
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

    /// Encodes `image` as PNG and writes it to `path` atomically: the bytes go to a temporary file
    /// in the same folder which is then renamed over `path`. On failure nothing is left behind.
    public static func writePNG(_ image: RGBImage, to path: String) throws {
        let bytes = try PNGCodec.encode(image)
        try writeAtomically(bytes, to: path)
    }

    /// Writes `bytes` to `path` through a temporary sibling file and rename(2).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw ImageError.unwritable(path: path, reason: "folder '\(folder)' does not exist")
        }
        let temp = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw ImageError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        var written = 0
        var failure: String? = nil
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno)); return
                }
                written += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temp, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temp)
            throw ImageError.unwritable(path: path, reason: failure)
        }
    }

    /// The whole file (or its first `limit` bytes), or `ImageError.unreadable`.
    static func readBytes(path: String, limit: Int? = nil) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImageError.unreadable(path: path, reason: "no such file")
        }
        guard !isDir.boolValue else { throw ImageError.unreadable(path: path, reason: "is a folder") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImageError.unreadable(path: path, reason: "permission denied")
        }
        defer { try? handle.close() }
        do {
            let data = try limit.map { try handle.read(upToCount: $0) } ?? handle.readToEnd()
            return [UInt8](data ?? Data())
        } catch {
            throw ImageError.unreadable(path: path, reason: "read error: \(error.localizedDescription)")
        }
    }
}
