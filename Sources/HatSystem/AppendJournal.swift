// A file that only grows, for progress that must survive any kill (SIGKILL included): records are
// appended and flushed to disk (`sync`), and the length known to be complete is stored elsewhere
// by the caller (in a file replaced whole through OutputFile). On restart the journal is cut back
// to that length, so a record half-written when the process died is dropped, never read.
// Used by resumable dataset runs for their per-image rows.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class AppendJournal {
    public let path: String
    private var fd: Int32
    /// Bytes in the file (what is written, synced or not).
    public private(set) var length: Int

    /// Opens (creating if missing) the journal at `path`, cut to `validLength` bytes: what the
    /// caller recorded as complete. A journal shorter than that is an error (it was replaced or
    /// damaged behind the caller's back).
    public init(path: String, validLength: Int) throws {
        self.path = path
        var d: Int32
        repeat { d = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) } while d < 0 && errno == EINTR
        guard d >= 0 else { throw FileError.unwritable(path: path, reason: FileError.reason()) }
        var st = stat()
        guard fstat(d, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(d)
            throw FileError.unwritable(path: path, reason: "it is not a regular file")
        }
        guard Int(st.st_size) >= validLength, validLength >= 0 else {
            Glibc.close(d)
            throw FileError.unreadable(path: path, reason: "it holds \(st.st_size) bytes, fewer than the \(validLength) recorded as written")
        }
        if Int(st.st_size) > validLength, ftruncate(d, off_t(validLength)) != 0 {
            let why = FileError.reason()
            Glibc.close(d)
            throw FileError.unwritable(path: path, reason: why)
        }
        guard lseek(d, off_t(validLength), SEEK_SET) >= 0 else {
            let why = FileError.reason()
            Glibc.close(d)
            throw FileError.unwritable(path: path, reason: why)
        }
        fd = d
        length = validLength
    }

    /// Appends all of `bytes` (not yet synced).
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = write(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError.unwritable(path: path, reason: FileError.reason())
                }
                p += n
                left -= n
                length += n
            }
        }
    }

    /// Flushes what was appended to the disk; after it returns, `length` bytes survive a kill.
    public func sync() throws {
        if fsync(fd) != 0 { throw FileError.unwritable(path: path, reason: FileError.reason()) }
    }

    /// The whole file's bytes from `offset` up to `length` (for reading the records back).
    public func read(from offset: Int = 0) throws -> [UInt8] {
        guard offset <= length else { return [] }
        var out = [UInt8](repeating: 0, count: length - offset)
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.unreadable(path: path, reason: FileError.reason())
            }
            if n == 0 { break }
            done += n
        }
        return Array(out.prefix(done))
    }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
