// safetensors: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// "__metadata__": {str: str}}, then little-endian row-major data. Validation follows the reference
// (safetensors/src/tensor.rs): header size cap, offsets sorted and tiling the buffer exactly, byte
// lengths matching shape x dtype, no duplicate names, checked arithmetic throughout.
import HatCore
import HatSystem

public struct SafeTensorsFile {
    /// Tensors converted to float32, in file (offset) order.
    public var tensors: [(name: String, tensor: Tensor)]
    /// Original element type per name.
    public var types: [String: ElementType]
    public var metadata: [String: String]

    public var dictionary: [String: Tensor] {
        Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }
}

/// A validated safetensors header: what each tensor is and where its bytes lie, nothing read yet.
public struct SafeTensorsHeader: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let type: ElementType
        public let shape: [Int]
        /// Byte range in the whole file (header included).
        public let range: Range<Int>
    }
    /// Tensors in offset order.
    public var entries: [Entry]
    public var metadata: [String: String]
    /// The entry called `name`, or nil.
    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
}

/// One tensor for `SafeTensors.write(streaming:)`: its header fields and a body that writes
/// exactly shape x type.size bytes through the sink it is given.
public struct SafeTensorsOutput {
    public var name: String
    public var type: ElementType
    public var shape: [Int]
    public var body: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    public init(name: String, type: ElementType, shape: [Int],
                body: @escaping (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
        self.name = name; self.type = type; self.shape = shape; self.body = body
    }
}

public enum SafeTensors {
    /// Reference limit on the header length.
    public static let maxHeaderSize = 100_000_000

    static let dtypeNames: [String: ElementType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64,
        "I64": .int64, "I32": .int32, "I16": .int16, "I8": .int8,
        "U8": .uint8, "U16": .uint16, "U32": .uint32, "U64": .uint64, "BOOL": .bool,
    ]

    /// All tensors of the file, as float32, by name.
    public static func read(path: String) throws -> [String: Tensor] {
        try readFile(path: path).dictionary
    }

    /// Tensors (in offset order), their stored element types, and the `__metadata__` map.
    public static func readFile(path: String) throws -> SafeTensorsFile {
        let file = try MappedFile(path: path)
        defer { file.release() }
        return try parse(file.bytes, context: path, dropPages: file.dropPages)
    }

    /// True when `bytes` could start a safetensors file: a little-endian header length within
    /// the limit, then `{`.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 9 else { return false }
        let n = (0 ..< 8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        return n >= 2 && n <= UInt64(maxHeaderSize) && bytes[8] == UInt8(ascii: "{")
    }

    /// The size a safetensors file declares (header + the end of its last tensor), from its first
    /// bytes; more than `maxBytes` of data is refused.
    public static func sizeBound(_ prefix: UnsafeRawBufferPointer, maxBytes: Int) -> InputFile.Bound {
        guard prefix.count >= 9 else { return .needMore }
        guard sniff(prefix) else { return .invalid("not a safetensors file") }
        let n = Int((0 ..< 8).reduce(UInt64(0)) { $0 | UInt64(prefix[$1]) << (8 * UInt64($1)) })
        guard prefix.count >= 8 + n else { return .needMore }
        guard case let .object(items)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: prefix[8 ..< 8 + n]), context: "header") else {
            return .invalid("malformed safetensors header")
        }
        var end = 0
        for (name, value) in items where name != "__metadata__" {
            guard case let .object(fields) = value else { continue }
            for (k, v) in fields where k == "data_offsets" {
                if case let .array(a) = v, a.count == 2, case let .integer(e) = a[1] { end = max(end, e) }
            }
        }
        guard end <= maxBytes else { return .invalid("it declares \(end >> 20) MB of tensors, over the \(maxBytes >> 20) MB limit") }
        return .atMost(8 + n + end, why: "a safetensors file with this header")
    }

    /// Parses a complete safetensors image in memory. `dropPages` is told the byte range of each
    /// tensor once converted (MappedFile.dropPages keeps peak memory at one float32 copy).
    public static func parse(_ bytes: UnsafeRawBufferPointer, context: String,
                             dropPages: ((Range<Int>) -> Void)? = nil) throws -> SafeTensorsFile {
        let h = try header(bytes, context: context)
        var tensors: [(name: String, tensor: Tensor)] = []
        var types: [String: ElementType] = [:]
        tensors.reserveCapacity(h.entries.count)
        for e in h.entries {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[e.range])
            let strides = rowMajorStrides(e.shape)
            let t = try ElementConversion.gather(storage: raw, type: e.type, bigEndian: false, offset: 0,
                                                 shape: e.shape, strides: strides, name: e.name)
            tensors.append((e.name, t))
            types[e.name] = e.type
            dropPages?(e.range)
        }
        return SafeTensorsFile(tensors: tensors, types: types, metadata: h.metadata)
    }

    /// Reads and validates the header of a complete safetensors image (`bytes` is the whole
    /// file): names, types, shapes, and offsets that tile the data exactly. No tensor is read.
    public static func header(_ bytes: UnsafeRawBufferPointer, context: String) throws -> SafeTensorsHeader {
        var r = ByteReader(bytes, context: context)
        guard bytes.count >= 8 else { throw CheckpointError.malformed("\(context): \(bytes.count) bytes, too short for a safetensors header") }
        let n64 = try r.le(UInt64.self)
        guard n64 <= UInt64(maxHeaderSize) else {
            throw CheckpointError.limit("\(context): safetensors header of \(n64) bytes (limit \(maxHeaderSize))")
        }
        let n = Int(n64)
        guard 8 + n <= bytes.count else {
            throw CheckpointError.malformed("\(context): safetensors header length \(n) exceeds the file (\(bytes.count) bytes)")
        }
        let headerBytes = try r.take(n)
        guard n > 0, headerBytes[0] == UInt8(ascii: "{") else {
            throw CheckpointError.malformed("\(context): safetensors header does not start with '{'")
        }
        guard case let .object(items) = try JSONParser.parse(headerBytes, context: context + " header") else {
            throw CheckpointError.malformed("\(context): safetensors header is not a JSON object")
        }
        struct Entry { let name: String; let type: ElementType; let shape: [Int]; let begin: Int; let end: Int }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in items {
            if name == "__metadata__" {
                guard case let .object(meta) = value else { throw CheckpointError.malformed("\(context): __metadata__ is not an object") }
                for (k, v) in meta {
                    guard case let .string(s) = v else { throw CheckpointError.malformed("\(context): __metadata__[\(k)] is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard case let .object(fields) = value else { throw CheckpointError.malformed("\(context): entry \(name) is not an object") }
            var dtype: ElementType?, shape: [Int]?, offsets: [Int]?
            for (k, v) in fields {
                switch (k, v) {
                case ("dtype", .string(let s)):
                    guard let t = dtypeNames[s] else { throw CheckpointError.unsupported("\(context): tensor \(name) has dtype \(s)") }
                    dtype = t
                case ("shape", .array(let a)):
                    shape = try a.map {
                        guard case let .integer(d) = $0, d >= 0 else { throw CheckpointError.malformed("\(context): tensor \(name) has a bad shape") }
                        return d
                    }
                case ("data_offsets", .array(let a)):
                    offsets = try a.map {
                        guard case let .integer(d) = $0, d >= 0 else { throw CheckpointError.malformed("\(context): tensor \(name) has bad data_offsets") }
                        return d
                    }
                default:
                    throw CheckpointError.malformed("\(context): tensor \(name) has an unexpected field \(k)")
                }
            }
            guard let t = dtype, let s = shape, let o = offsets, o.count == 2 else {
                throw CheckpointError.malformed("\(context): tensor \(name) needs dtype, shape and two data_offsets")
            }
            entries.append(Entry(name: name, type: t, shape: s, begin: o[0], end: o[1]))
        }
        // Sorted by offset, the tensors must tile the data buffer exactly.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        let dataStart = 8 + n
        let dataLength = bytes.count - dataStart
        var cursor = 0
        for e in entries {
            guard e.begin == cursor, e.end >= e.begin else {
                throw CheckpointError.malformed("\(context): tensor \(e.name) data_offsets [\(e.begin), \(e.end)] leave a gap or overlap (expected start \(cursor))")
            }
            let count = try checkedCount(e.shape, "shape of \(e.name)")
            let bytesNeeded = try checkedMul(count, e.type.size, "size of \(e.name)")
            guard e.end - e.begin == bytesNeeded else {
                throw CheckpointError.malformed("\(context): tensor \(e.name) \(describe(shape: e.shape)) needs \(bytesNeeded) bytes, data_offsets give \(e.end - e.begin)")
            }
            cursor = e.end
        }
        guard cursor == dataLength else {
            throw CheckpointError.malformed("\(context): tensor data covers \(cursor) bytes but the file holds \(dataLength) after the header")
        }
        return SafeTensorsHeader(entries: entries.map {
            SafeTensorsHeader.Entry(name: $0.name, type: $0.type, shape: $0.shape, range: dataStart + $0.begin ..< dataStart + $0.end)
        }, metadata: metadata)
    }

    /// Writes float32 tensors (in the given order) with `metadata`, atomically (temp name + rename).
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                             to path: String) throws {
        try write(streaming: tensors.map { item in
            SafeTensorsOutput(name: item.name, type: .float32, shape: item.tensor.shape) { sink in
                // Float32 little-endian host layout is the file layout.
                try item.tensor.data.withUnsafeBytes { try sink($0) }
            }
        }, metadata: metadata, to: path)
    }

    /// Writes tensors whose bytes come from their bodies, in the given order, with `metadata`,
    /// atomically (temp name + rename): nothing needs to be in memory all at once. A body that
    /// writes another number of bytes than its shape and type need fails the write.
    public static func write(streaming tensors: [SafeTensorsOutput], metadata: [String: String], to path: String) throws {
        var seen = Set<String>()
        for t in tensors where !seen.insert(t.name).inserted || t.name == "__metadata__" {
            throw CheckpointError.malformed("\(path): duplicate or reserved tensor name \(t.name)")
        }
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.sorted { $0.key < $1.key }.map { jsonQuoted($0.key) + ":" + jsonQuoted($0.value) }
            parts.append("\"__metadata__\":{" + m.joined(separator: ",") + "}")
        }
        let names = Dictionary(uniqueKeysWithValues: dtypeNames.map { ($0.value, $0.key) })
        var offset = 0
        var sizes: [Int] = []
        for t in tensors {
            let bytes = try checkedMul(try checkedCount(t.shape, "shape of \(t.name)"), t.type.size, "size of \(t.name)")
            sizes.append(bytes)
            parts.append(jsonQuoted(t.name) + ":{\"dtype\":\"" + (names[t.type] ?? "F32") + "\",\"shape\":["
                         + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (header.count % 8) != 0 { header.append(0x20) }
        let out = try OutputFile(path: path)
        do {
            var len = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &len) { try out.write($0) }
            try out.write(header)
            for (t, size) in zip(tensors, sizes) {
                var written = 0
                try t.body { chunk in
                    written += chunk.count
                    guard written <= size else { throw CheckpointError.malformed("\(path): tensor \(t.name) body wrote more than \(size) bytes") }
                    try out.write(chunk)
                }
                guard written == size else { throw CheckpointError.malformed("\(path): tensor \(t.name) body wrote \(written) of \(size) bytes") }
            }
            try out.commit()
        } catch {
            out.discard()
            throw error
        }
    }
}

/// Row-major strides in elements for `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc = acc &* max(shape[i], 1) }
    return s
}
