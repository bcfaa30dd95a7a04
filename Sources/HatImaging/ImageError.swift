// Typed errors of HatImaging, each one line a person can act on (the CLI prints `hatscope: <it>`).
import HatSystem

/// Why an image could not be read, decoded, or written.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// The bytes are neither PNG nor JPEG (checked by magic bytes).
    case notAnImage(path: String?)
    /// libpng / libjpeg rejected the data (corrupt, truncated, unsupported).
    case corrupt(format: String, message: String)
    /// The header announces zero width or height.
    case empty(format: String, width: Int, height: Int)
    /// The header announces more pixels than allowed; nothing was allocated.
    case tooLarge(format: String, width: Int, height: Int, limits: ImageLimits)
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The output could not be written (folder missing or not writable, disk full...).
    case unwritable(path: String, reason: String)
    /// The image to encode has no pixels or inconsistent size.
    case invalidImage(String)

    public var description: String {
        switch self {
        case .notAnImage(let path):
            return "\(path.map { "\(UserMessage.name($0)) is" } ?? "data is") not a PNG or JPEG image"
        case .corrupt(let format, let message):
            return "corrupt or truncated \(format): \(message)"
        case .empty(let format, let w, let h):
            return "\(format) has an empty size \(w)x\(h)"
        case .tooLarge(let format, let w, let h, let limits):
            return "\(format) is \(w)x\(h), over the limit of \(limits.maxSide) pixels per side "
                + "and \(limits.maxPixels / 1_000_000) megapixels"
        case .unreadable(let path, let reason):
            return "cannot read \(UserMessage.name(path)): \(reason)"
        case .unwritable(let path, let reason):
            return "cannot write \(UserMessage.name(path)): \(reason)"
        case .invalidImage(let why):
            return "invalid image: \(why)"
        }
    }
}

extension ImageError {
    /// The file layer's reasons, as this module's errors.
    init(_ e: FileError) {
        switch e {
        case let .unwritable(path, reason), let .folder(path, reason): self = .unwritable(path: path, reason: reason)
        case let .unreadable(path, reason), let .tooLarge(path, reason), let .unrecognised(path, reason):
            self = .unreadable(path: path, reason: reason)
        case let .empty(path):
            self = .notAnImage(path: path)
        }
    }
}

/// Upper bounds checked against an image's header before any pixel buffer is allocated.
public struct ImageLimits: Sendable, Equatable {
    public var maxSide: Int
    public var maxPixels: Int
    public init(maxSide: Int = 16384, maxPixels: Int = 100_000_000) {
        self.maxSide = maxSide; self.maxPixels = maxPixels
    }
    /// 16384 pixels per side, 100 megapixels.
    public static let standard = ImageLimits()
}

/// The text of a NUL-terminated C message buffer filled by a codec shim.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
