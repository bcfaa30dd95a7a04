// Writes a file under a temporary name in the destination folder and renames it into place only
// when every byte is written and flushed: a failure never leaves a half-written output.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class AtomicFile {
    public let path: String
    private let tempPath: String
    private var fd: Int32
    private var done = false

    public init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var fd: Int32 = -1
        var temp = ""
        for attempt in 0 ..< 100 {
            temp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())-\(attempt)"
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 { throw CheckpointError.io("\(path): cannot create \(temp): \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.tempPath = temp
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                let m = String(cString: strerror(errno))
                discard()
                throw CheckpointError.io("\(path): write failed: \(m)")
            }
            off += n
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Flushes, closes and renames into place.
    public func commit() throws {
        guard !done else { return }
        done = true
        if fsync(fd) != 0 || close(fd) != 0 {
            let m = String(cString: strerror(errno)); unlink(tempPath)
            throw CheckpointError.io("\(path): \(m)")
        }
        fd = -1
        if rename(tempPath, path) != 0 {
            let m = String(cString: strerror(errno)); unlink(tempPath)
            throw CheckpointError.io("\(path): cannot rename into place: \(m)")
        }
    }

    /// Drops the temporary file.
    public func discard() {
        guard !done else { return }
        done = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }

    deinit { discard() }
}
