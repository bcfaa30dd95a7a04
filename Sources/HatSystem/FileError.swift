// Why a file could not be read or written, in words a person can act on (strerror, never
// "NSCocoaErrorDomain error 512"). The CLI prints `hatscope: <description>`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileError: Error, Equatable, CustomStringConvertible {
    /// Reading failed: no such file, permission, a folder, a read error.
    case unreadable(path: String, reason: String)
    /// The input holds no bytes at all.
    case empty(path: String)
    /// The input is larger than its own header (or the limits) allow.
    case tooLarge(path: String, reason: String)
    /// The input does not start like any format the reader takes.
    case unrecognised(path: String, reason: String)
    /// Writing failed: folder missing, permission, disk full, a folder in the way.
    case unwritable(path: String, reason: String)
    /// An output folder could not be made or used.
    case folder(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(UserMessage.name(path)): \(reason)"
        case let .empty(path): return "\(path == "-" ? "standard input" : UserMessage.name(path)) is empty"
        case let .tooLarge(path, reason): return "\(UserMessage.name(path)): \(reason)"
        case let .unrecognised(path, reason): return "\(UserMessage.name(path)): \(reason)"
        case let .unwritable(path, reason): return "cannot write \(UserMessage.name(path)): \(reason)"
        case let .folder(path, reason): return "output folder \(UserMessage.name(path)): \(reason)"
        }
    }

    /// The C library's words for `errno` (or `code`), lower-cased at the start like the rest.
    public static func reason(_ code: Int32 = errno) -> String {
        let text = String(cString: strerror(code))
        guard let first = text.first else { return "error \(code)" }
        return first.lowercased() + text.dropFirst()
    }
}
