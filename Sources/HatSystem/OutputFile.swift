// Every file hatscope writes goes through here, with one rule for what the path names:
//   - nothing yet, or a regular file (through symbolic links too): the bytes go to a hidden
//     temporary file in the same folder, which is renamed over the target only when complete, so
//     a failure or a signal never leaves half a file (CleanupRegistry removes the temporary);
//   - a character device or a FIFO (/dev/null, a terminal, `mkfifo`, /dev/stdout on a pipe):
//     the bytes are written into it, like cp and tee do; it is never replaced;
//   - `-`: standard output;
//   - a folder, a block device or a socket: refused with one line.
// OutputBatch commits several files together: all appear, or (on failure or signal) none.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class OutputFile {
    /// The path as the caller gave it (used in messages).
    public let path: String
    private enum Target {
        /// Temporary `temp` renamed over `final` on commit.
        case replace(final: String, temp: String, token: CleanupRegistry.Token)
        /// Written in place; `owned` descriptors are closed at the end.
        case stream(owned: Bool)
    }
    private let target: Target
    private var fd: Int32
    private var state = State.open
    private enum State { case open, closed, done }

    /// True when the bytes go straight into the target (special file or stdout), not through a
    /// temporary file.
    public var isStream: Bool { if case .stream = target { return true } else { return false } }

    public init(path: String) throws {
        self.path = path
        if path.isEmpty { throw FileError.unwritable(path: path, reason: "empty file name") }
        if path == "-" {
            target = .stream(owned: false)
            fd = 1
            return
        }
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                throw FileError.unwritable(path: path, reason: "it is a folder")
            case S_IFREG:
                break
            case S_IFCHR, S_IFIFO:
                let d = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
                if d < 0 { throw FileError.unwritable(path: path, reason: FileError.reason()) }
                target = .stream(owned: true)
                fd = d
                return
            case S_IFBLK:
                throw FileError.unwritable(path: path, reason: "it is a block device (a disk); hatscope does not write to disks")
            default:
                throw FileError.unwritable(path: path, reason: "it is not a regular file, a character device or a FIFO")
            }
        } else if errno != ENOENT {
            throw FileError.unwritable(path: path, reason: FileError.reason())
        }
        // A new or regular file: replaced through a temporary in the folder of the real target,
        // so a symbolic link keeps pointing where it did.
        var final = path
        var lst = stat()
        if lstat(path, &lst) == 0, lst.st_mode & S_IFMT == S_IFLNK {
            guard let real = realpath(path, nil) else {
                throw FileError.unwritable(path: path, reason: "it is a symbolic link to a missing file")
            }
            final = String(cString: real)
            free(real)
        }
        let (folder, base) = OutputFile.split(final)
        var dst = stat()
        guard stat(folder.isEmpty ? "." : folder, &dst) == 0, dst.st_mode & S_IFMT == S_IFDIR else {
            throw FileError.unwritable(path: path, reason: "folder \(folder.isEmpty ? "." : folder) does not exist")
        }
        // An existing file keeps its permission bits.
        let mode: mode_t = stat(final, &dst) == 0 ? dst.st_mode & 0o777 : 0o644
        var d: Int32 = -1
        var temp = ""
        var token: CleanupRegistry.Token?
        for attempt in 0 ..< 100 {
            temp = (folder.isEmpty ? "" : folder + "/") + ".\(base).tmp-\(getpid())-\(OutputFile.nextSerial())-\(attempt)"
            // Registered before it exists: a signal between the open and the registration would
            // otherwise leave the file behind (the name holds this process's id, so an existing
            // one is a dead run's leftover).
            let t = CleanupRegistry.registerTemporaryFile(temp)
            d = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if d >= 0 { token = t; break }
            let why = errno
            CleanupRegistry.unregister(t)
            if why != EEXIST { errno = why; break }
        }
        guard d >= 0, let token else { throw FileError.unwritable(path: path, reason: FileError.reason()) }
        if mode != 0o644 { _ = fchmod(d, mode) }  // the umask applied at creation
        target = .replace(final: final, temp: temp, token: token)
        fd = d
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard state == .open else { throw FileError.unwritable(path: path, reason: "already closed") }
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                let why = FileError.reason()
                discard()
                throw FileError.unwritable(path: path, reason: why)
            }
            p += n
            left -= n
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Makes the file final: flushed, closed and (for a replaced file) renamed into place.
    public func commit() throws {
        try close()
        try CleanupRegistry.finish(tokens) { try renameIntoPlace() }
        state = .done
    }

    /// Drops everything written (the temporary file); a stream is just closed.
    public func discard() {
        guard state != .done else { return }
        if state == .open, fd >= 0, owned { _ = Glibc.close(fd) }
        state = .done
        if case let .replace(_, temp, token) = target {
            unlink(temp)
            CleanupRegistry.unregister(token)
        }
    }

    deinit { discard() }

    // MARK: - Two-step commit (OutputBatch)

    var tokens: [CleanupRegistry.Token] {
        if case let .replace(_, _, token) = target { return [token] }
        return []
    }

    private var owned: Bool {
        if case let .stream(owned) = target { return owned }
        return true
    }

    /// Flushes to disk and closes; the file is complete but not yet in place.
    func close() throws {
        guard state == .open else { return }
        state = .closed
        var failure: String?
        if case .replace = target, fsync(fd) != 0 { failure = FileError.reason() }
        if owned, Glibc.close(fd) != 0, failure == nil { failure = FileError.reason() }
        fd = -1
        if let failure {
            discard()
            throw FileError.unwritable(path: path, reason: failure)
        }
    }

    /// The rename of a closed file (no registry calls: runs inside CleanupRegistry.finish).
    func renameIntoPlace() throws {
        guard case let .replace(final, temp, _) = target else { return }
        if rename(temp, final) != 0 {
            let why = FileError.reason()
            unlink(temp)
            throw FileError.unwritable(path: path, reason: why)
        }
    }

    func markDone() { state = .done }

    /// "dir/name" -> ("dir", "name"); "name" -> ("", "name").
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    nonisolated(unsafe) private static var serial = 0
    private static func nextSerial() -> Int {
        serialLock.lock(); defer { serialLock.unlock() }
        serial += 1
        return serial
    }
    private static let serialLock = PthreadLock()

    // MARK: - Convenience

    /// Checks, before any work, that `path` can be written by these rules (the folder exists, the
    /// path is not a folder, a disk or a socket) without creating anything.
    public static func preflight(_ path: String) throws {
        if path.isEmpty { throw FileError.unwritable(path: path, reason: "empty file name") }
        if path == "-" { return }
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG, S_IFCHR, S_IFIFO: return
            case S_IFDIR: throw FileError.unwritable(path: path, reason: "it is a folder")
            case S_IFBLK: throw FileError.unwritable(path: path, reason: "it is a block device (a disk); hatscope does not write to disks")
            default: throw FileError.unwritable(path: path, reason: "it is not a regular file, a character device or a FIFO")
            }
        }
        let (folder, _) = split(path)
        var dst = stat()
        guard stat(folder.isEmpty ? "." : folder, &dst) == 0, dst.st_mode & S_IFMT == S_IFDIR else {
            throw FileError.unwritable(path: path, reason: "folder \(folder.isEmpty ? "." : folder) does not exist")
        }
    }

    /// Writes `bytes` to `path` by the rules above.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let f = try OutputFile(path: path)
        try f.write(bytes)
        try f.commit()
    }
}

/// Files that become final together: each is written and closed on its own, then `commit()`
/// renames them all while signal handlers wait. On failure or discard none of them appears.
public final class OutputBatch {
    private var files: [OutputFile] = []
    private let lock = PthreadLock()

    public init() {}

    /// Starts a file of the batch.
    public func file(_ path: String) throws -> OutputFile {
        let f = try OutputFile(path: path)
        lock.lock(); files.append(f); lock.unlock()
        return f
    }

    /// Writes a whole file into the batch (closed, not yet in place).
    public func write(_ bytes: [UInt8], to path: String) throws {
        let f = try file(path)
        try f.write(bytes)
        try f.close()
    }

    /// Puts every file in place.
    public func commit() throws {
        lock.lock(); defer { lock.unlock() }
        for f in files { try f.close() }
        let tokens = files.flatMap(\.tokens)
        try CleanupRegistry.finish(tokens) {
            var failure: Error?
            for f in files {
                if failure == nil {
                    do { try f.renameIntoPlace() } catch { failure = error }
                } else if case .some = f.tokens.first {
                    f.discardWithoutRegistry()
                }
            }
            if let failure { throw failure }
        }
        for f in files { f.markDone() }
        files.removeAll()
    }

    /// Drops every file of the batch.
    public func discard() {
        lock.lock(); defer { lock.unlock() }
        for f in files { f.discard() }
        files.removeAll()
    }

    deinit { discard() }
}

extension OutputFile {
    /// Unlinks the temporary without touching the registry (inside CleanupRegistry.finish).
    fileprivate func discardWithoutRegistry() {
        if case let .replace(_, temp, _) = target { unlink(temp) }
        markDone()
    }
}

/// A plain pthread mutex (Foundation-free).
final class PthreadLock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func lock() { pthread_mutex_lock(&m) }
    func unlock() { pthread_mutex_unlock(&m) }
}
