// Read-only memory map of a whole file. Checkpoint bytes are converted to float32 straight from the
// mapping, so a load holds at most the mapping (page cache, droppable) plus one float32 copy.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Length of the file in bytes.
    public let count: Int
    private var base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw CheckpointError.io("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw CheckpointError.io("\(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw CheckpointError.io("\(path): not a regular file") }
        count = Int(st.st_size)
        if count == 0 { base = nil; return }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CheckpointError.io("\(path): cannot map file: \(String(cString: strerror(errno)))")
        }
        base = p
        // Weights are read front to back once.
        _ = madvise(p, count, MADV_SEQUENTIAL)
    }

    /// Wraps bytes already in memory (tests, in-memory pickles). The buffer is copied.
    public init(bytes: [UInt8], name: String = "<memory>") {
        path = name
        count = bytes.count
        if bytes.isEmpty { base = nil; return }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        base = p
        owned = true
    }
    private var owned = false

    /// The whole file. Valid until `release()` or deinit.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: base == nil ? 0 : count)
    }

    /// Tells the kernel the pages of `range` are no longer needed: after a storage is converted to
    /// float32 its file pages leave our resident set, so peak memory holds one copy, not two.
    public func dropPages(_ range: Range<Int>) {
        guard let p = base, !owned else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (range.lowerBound + page - 1) / page * page
        let hi = range.upperBound / page * page
        if hi > lo, hi <= count { _ = madvise(p + lo, hi - lo, MADV_DONTNEED) }
    }

    /// Unmaps the file early (after the float32 copies are made) so peak memory stays at one copy.
    public func release() {
        guard let p = base else { return }
        if owned { p.deallocate() } else { _ = munmap(p, count) }
        base = nil
    }

    deinit { release() }
}

/// Bounds-checked little/big-endian reads from a byte buffer. Every read throws on a short buffer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int
    let context: String

    init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil, context: String) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
        self.context = context
    }

    var remaining: Int { end - position }

    mutating func need(_ n: Int) throws {
        if n < 0 || n > end - position {
            throw CheckpointError.malformed("\(context): unexpected end of data at byte \(position) (need \(n) more)")
        }
    }

    mutating func u8() throws -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func le<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        defer { position += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    mutating func be<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        defer { position += MemoryLayout<T>.size }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    /// `n` raw bytes as a slice of the underlying buffer (no copy).
    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        try need(n)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position ..< position + n])
    }

    mutating func skip(_ n: Int) throws { try need(n); position += n }

    /// Bytes up to and excluding the next `\n`, which is consumed.
    mutating func line(limit: Int) throws -> UnsafeRawBufferPointer {
        var i = position
        let stop = min(end, position + limit)
        while i < stop {
            if bytes[i] == 0x0A {
                let r = UnsafeRawBufferPointer(rebasing: bytes[position ..< i])
                position = i + 1
                return r
            }
            i += 1
        }
        throw CheckpointError.malformed("\(context): unterminated line at byte \(position)")
    }
}
