// The zip container of torch.save (>= 1.6): stored (uncompressed) entries, usually ZIP64, sizes
// possibly only in data descriptors. Sizes come from the central directory; the data start is
// computed from each entry's LOCAL header (its extra field pads data to 64 bytes and may differ
// from the central copy). Every range is checked against the file. CRC checking is optional
// because writers may omit it.

public struct ZipEntry: Sendable {
    public let name: String
    /// Absolute byte range of the entry's stored data in the file.
    public let dataStart: Int
    public let size: Int
    public let crc32: UInt32
    public let method: UInt16
}

public struct ZipArchive {
    public let entries: [ZipEntry]
    private let index: [String: Int]

    static let maxEntries = 1_000_000

    public func entry(_ name: String) -> ZipEntry? { index[name].map { entries[$0] } }

    public init(_ bytes: UnsafeRawBufferPointer, context: String, verifyCRC: Bool = false) throws {
        func bad(_ m: String) -> CheckpointError { .malformed("\(context): zip: \(m)") }
        // End of central directory: 22 bytes + comment (<= 65535) at the end of the file.
        let n = bytes.count
        guard n >= 22 else { throw bad("file too short (\(n) bytes)") }
        var eocd = -1
        var p = n - 22
        let lowest = max(0, n - 22 - 65535)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4B, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record") }
        var r = ByteReader(bytes, from: eocd + 4, context: context + " zip end record")
        let disk = try r.le(UInt16.self), cdDisk = try r.le(UInt16.self)
        _ = try r.le(UInt16.self)
        var count = Int(try r.le(UInt16.self))
        var cdSize = Int(try r.le(UInt32.self))
        var cdOffset = Int(try r.le(UInt32.self))
        guard disk == 0 || disk == 0xFFFF, cdDisk == 0 || cdDisk == 0xFFFF else { throw bad("multi-disk archives are not supported") }
        // ZIP64: a locator sits just before the end record and points to the ZIP64 end record.
        if eocd >= 20, bytes.loadUnaligned(fromByteOffset: eocd - 20, as: UInt32.self) == UInt32(0x07064B50).littleEndian {
            var l = ByteReader(bytes, from: eocd - 20 + 8, context: context + " zip64 locator")
            let z = try l.le(UInt64.self)
            guard n >= 56, z <= UInt64(n - 56) else { throw bad("ZIP64 end record offset \(z) outside the file") }
            var e = ByteReader(bytes, from: Int(z), context: context + " zip64 end record")
            guard try e.le(UInt32.self) == 0x06064B50 else { throw bad("bad ZIP64 end record signature") }
            try e.skip(8 + 2 + 2 + 4 + 4 + 8)
            let c64 = try e.le(UInt64.self), s64 = try e.le(UInt64.self), o64 = try e.le(UInt64.self)
            guard c64 <= UInt64(ZipArchive.maxEntries), s64 <= UInt64(n), o64 <= UInt64(n) else { throw bad("ZIP64 sizes outside the file") }
            count = Int(c64); cdSize = Int(s64); cdOffset = Int(o64)
        }
        guard count <= ZipArchive.maxEntries else { throw bad("\(count) entries") }
        guard cdOffset <= n, cdSize <= n - cdOffset else { throw bad("central directory outside the file") }

        var entries: [ZipEntry] = []
        var index: [String: Int] = [:]
        var c = ByteReader(bytes, from: cdOffset, to: cdOffset + cdSize, context: context + " zip central directory")
        for _ in 0 ..< count {
            guard try c.le(UInt32.self) == 0x02014B50 else { throw bad("bad central directory signature") }
            try c.skip(4) // version made by, version needed
            let flags = try c.le(UInt16.self)
            let method = try c.le(UInt16.self)
            try c.skip(4) // time, date
            let crc = try c.le(UInt32.self)
            var compressed = UInt64(try c.le(UInt32.self))
            var uncompressed = UInt64(try c.le(UInt32.self))
            let nameLength = Int(try c.le(UInt16.self))
            let extraLength = Int(try c.le(UInt16.self))
            let commentLength = Int(try c.le(UInt16.self))
            try c.skip(8) // disk start, internal attrs, external attrs
            var localOffset = UInt64(try c.le(UInt32.self))
            let nameBytes = try c.take(nameLength)
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw bad("entry name is not UTF-8") }
            // ZIP64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF, in order.
            var x = ByteReader(try c.take(extraLength), context: context + " zip extra field")
            while x.remaining >= 4 {
                let id = try x.le(UInt16.self), len = Int(try x.le(UInt16.self))
                var f = ByteReader(try x.take(len), context: context + " zip64 extra")
                if id == 0x0001 {
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try f.le(UInt64.self) }
                    if compressed == 0xFFFF_FFFF { compressed = try f.le(UInt64.self) }
                    if localOffset == 0xFFFF_FFFF { localOffset = try f.le(UInt64.self) }
                }
            }
            try c.skip(commentLength)
            _ = flags
            guard method == 0 else {
                throw CheckpointError.unsupported("\(context): zip entry \(name) is compressed (method \(method)); torch.save stores entries uncompressed")
            }
            guard compressed == uncompressed, compressed <= UInt64(n), localOffset <= UInt64(n) else {
                throw bad("entry \(name) has inconsistent sizes")
            }
            // Local header: 30 bytes + name + local extra; its extra length decides the data start.
            var l = ByteReader(bytes, from: Int(localOffset), context: context + " zip local header of \(name)")
            guard try l.le(UInt32.self) == 0x04034B50 else { throw bad("bad local header signature for \(name)") }
            try l.skip(22)
            let localName = Int(try l.le(UInt16.self)), localExtra = Int(try l.le(UInt16.self))
            let start = Int(localOffset) + 30 + localName + localExtra
            let size = Int(compressed)
            guard start <= n, size <= n - start else { throw bad("data of \(name) (\(size) bytes at \(start)) outside the file") }
            if index[name] != nil { throw bad("duplicate entry \(name)") }
            index[name] = entries.count
            entries.append(ZipEntry(name: name, dataStart: start, size: size, crc32: crc, method: method))
        }
        if verifyCRC {
            for e in entries where e.crc32 != 0 {
                let got = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[e.dataStart ..< e.dataStart + e.size]))
                if got != e.crc32 { throw bad("CRC mismatch in \(e.name)") }
            }
        }
        self.entries = entries
        self.index = index
    }
}

/// CRC-32 (IEEE, reflected, as zip uses), table-driven.
enum CRC32 {
    static let table: [UInt32] = (0 ..< 256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0 ..< 8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ b: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for byte in b { c = t[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
