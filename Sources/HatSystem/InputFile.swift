// Reading an input file once, from anything readable: a regular file, a FIFO, `<(cmd)`,
// /dev/stdin, or `-` for standard input. The file is opened once and read once (a FIFO cannot be
// read twice). How much is read is bounded by what the file's own header declares: the caller's
// `bound` looks at the first bytes and says how large a file of that kind can be, so a stream
// that keeps sending after a small header is cut off with one line instead of filling memory.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum InputFile {
    /// What the first bytes of a file say about its size.
    public enum Bound: Equatable, Sendable {
        /// More bytes are needed to tell.
        case needMore
        /// The whole file is at most this many bytes (`why` says where the limit comes from).
        case atMost(Int, why: String)
        /// The bytes are not of a kind the caller reads.
        case invalid(String)
    }

    /// The whole content of `path` (`-` = standard input). `bound` is asked after each chunk until
    /// it decides; at most `headerLimit` bytes are read while it cannot.
    public static func read(_ path: String, headerLimit: Int = 16 << 20,
                            bound: (UnsafeRawBufferPointer) -> Bound) throws -> [UInt8] {
        if path.isEmpty { throw FileError.unreadable(path: path, reason: "empty file name") }
        var fd: Int32 = -1
        if path == "-" {
            fd = 0
        } else {
            var st = stat()
            if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
                throw FileError.unreadable(path: path, reason: "it is a folder")
            }
            repeat { fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) } while fd < 0 && errno == EINTR
            if fd < 0 { throw FileError.unreadable(path: path, reason: FileError.reason()) }
        }
        defer { if fd != 0 { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError.unreadable(path: path, reason: FileError.reason()) }
        if st.st_mode & S_IFMT == S_IFDIR { throw FileError.unreadable(path: path, reason: "it is a folder") }
        let regularSize: Int? = st.st_mode & S_IFMT == S_IFREG ? Int(st.st_size) : nil

        var bytes: [UInt8] = []
        var limit: Int? = nil
        var chunk = 1 << 16
        if let size = regularSize { bytes.reserveCapacity(min(size, 1 << 30)) }
        while true {
            // Never read past the bound (+1 byte, to notice a file that is longer).
            let want = limit.map { max(1, min(chunk, $0 + 1 - bytes.count)) } ?? chunk
            let old = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: want))
            var n: Int
            repeat {
                n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + old, want) }
            } while n < 0 && errno == EINTR
            if n < 0 {
                let why = FileError.reason()
                throw FileError.unreadable(path: path, reason: why)
            }
            bytes.removeLast(want - n)
            if limit == nil {
                switch bytes.withUnsafeBytes({ bound($0) }) {
                case .needMore:
                    if n == 0 { break }
                    if bytes.count >= headerLimit {
                        throw FileError.unrecognised(path: path, reason: "no usable header in its first \(headerLimit >> 20) MB")
                    }
                    chunk = min(chunk * 2, 1 << 24)
                    continue
                case let .invalid(why):
                    throw FileError.unrecognised(path: path, reason: why)
                case let .atMost(max, why):
                    if let size = regularSize, size > max {
                        throw FileError.tooLarge(path: path, reason: "\(size) bytes, larger than \(why) can be (\(max) bytes at most)")
                    }
                    limit = max
                    if let size = regularSize { bytes.reserveCapacity(size) }
                }
            }
            if let max = limit, bytes.count > max {
                throw FileError.tooLarge(path: path, reason: "more than \(max) bytes, larger than \(limitReason(bound, bytes)) can be; reading stopped there")
            }
            if n == 0 { break }
            chunk = min(chunk * 2, 1 << 24)
        }
        if bytes.isEmpty { throw FileError.empty(path: path) }
        if limit == nil, case let .invalid(why) = bytes.withUnsafeBytes({ bound($0) }) {
            throw FileError.unrecognised(path: path, reason: why)
        }
        return bytes
    }

    private static func limitReason(_ bound: (UnsafeRawBufferPointer) -> Bound, _ bytes: [UInt8]) -> String {
        if case let .atMost(_, why) = bytes.withUnsafeBytes({ bound($0) }) { return why }
        return "its header declares"
    }

    /// A small text file (a configuration, a class list), read by the same rules, at most `limit` bytes.
    public static func readText(_ path: String, limit: Int = 1 << 20) throws -> String {
        let bytes = try read(path) { _ in .atMost(limit, why: "a file of this kind") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
