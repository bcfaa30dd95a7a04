// Attention probabilities of one attention module, row-major [groups, heads, queries, keys], and
// where they live: in memory (what the engine records), or in bytes someone else owns — a
// memory-mapped recording file — as float32 or float16, converted to float32 when read.
//
// Readers go through `at`, `row` and `withMatrix` (one group's one head, [queries, keys]), never
// through the whole array, so a recording larger than memory can be explored: a matrix of a mapped
// map is converted on access and its file pages are handed back afterwards (`ExternalBytes.done`).
// `probs` materialises everything; it is for writers of small recordings and tests.

/// How attention values are stored.
public enum AttentionElement: String, Sendable, Codable, CaseIterable {
    case float32 = "F32"
    case float16 = "F16"

    /// Bytes per value.
    public var size: Int { self == .float32 ? 4 : 2 }
}

/// Bytes owned outside the recording (a memory-mapped file). `done` is told byte ranges that have
/// just been read in full, so their pages can leave the process's resident memory.
public protocol ExternalBytes: AnyObject, Sendable {
    /// The first byte; valid for as long as the owner lives.
    var base: UnsafeRawPointer { get }
    func done(_ range: Range<Int>)
}

/// Attention probabilities, row-major [groups, heads, queries, keys]; each row sums to 1.
/// Window attention: groups = windows, queries = keys = T. Carrier attention: groups = 1, N x N.
public struct AttentionMaps: Sendable, Equatable {
    public let groups: Int, heads: Int, queries: Int, keys: Int
    private let storage: Storage

    private enum Storage: @unchecked Sendable {
        case memory([Float])
        /// `offset` bytes into `bytes`, `element` per value. (@unchecked: `ExternalBytes` is
        /// immutable, read-only memory.)
        case external(ExternalBytes, offset: Int, element: AttentionElement)
    }

    /// Maps held in memory; `probs.count` must be groups * heads * queries * keys.
    public init(groups: Int, heads: Int, queries: Int, keys: Int, probs: [Float]) {
        precondition(probs.count == groups * heads * queries * keys, "attention maps: size mismatch")
        self.groups = groups; self.heads = heads; self.queries = queries; self.keys = keys
        storage = .memory(probs)
    }

    /// Maps read in place from `bytes` at `offset` (little-endian `element` values); the caller
    /// has checked that groups * heads * queries * keys values fit there.
    public init(groups: Int, heads: Int, queries: Int, keys: Int, bytes: ExternalBytes, offset: Int,
                element: AttentionElement) {
        self.groups = groups; self.heads = heads; self.queries = queries; self.keys = keys
        storage = .external(bytes, offset: offset, element: element)
    }

    /// groups * heads * queries * keys.
    public var count: Int { groups * heads * queries * keys }
    /// How the values are stored (float32 in memory).
    public var element: AttentionElement {
        if case let .external(_, _, e) = storage { return e }
        return .float32
    }
    /// Whether the values are read in place from a file rather than held in memory.
    public var isExternal: Bool {
        if case .external = storage { return true }
        return false
    }

    /// Index of value (g, h, query, key) in the row-major layout.
    func index(_ g: Int, _ h: Int, _ query: Int, _ key: Int) -> Int {
        ((g * heads + h) * queries + query) * keys + key
    }

    /// The probability that `query` gives `key` in group `g`, head `h`.
    public func at(_ g: Int, _ h: Int, _ query: Int, _ key: Int) -> Float {
        let i = index(g, h, query, key)
        switch storage {
        case let .memory(p): return p[i]
        case let .external(b, o, e): return Self.load(b.base + o, e, i)
        }
    }

    /// One row: what `query` gives every key in group `g`, head `h` [keys].
    public func row(_ g: Int, _ h: Int, _ query: Int) -> [Float] {
        let start = index(g, h, query, 0)
        switch storage {
        case let .memory(p): return Array(p[start ..< start + keys])
        case let .external(b, o, e): return Self.convert(b.base + o, e, start, keys)
        }
    }

    /// Calls `body` with group `g`'s head `h` matrix [queries, keys] row-major, as float32. For
    /// mapped maps the matrix is converted (or, float32 and aligned, read in place) and its pages
    /// are returned to the system afterwards.
    public func withMatrix<R>(group g: Int, head h: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let start = index(g, h, 0, 0), n = queries * keys
        switch storage {
        case let .memory(p):
            return try p.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start ..< start + n])) }
        case let .external(b, o, e):
            defer { b.done(o + start * e.size ..< o + (start + n) * e.size) }
            let p = b.base + o + start * e.size
            if e == .float32 && Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 {
                return try body(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: n))
            }
            let m = Self.convert(b.base + o, e, start, n)
            return try m.withUnsafeBufferPointer(body)
        }
    }

    /// Every value, float32, row-major. Copies a mapped map into memory: for writers and tests.
    public var probs: [Float] {
        switch storage {
        case let .memory(p): return p
        case let .external(b, o, e): return Self.convert(b.base + o, e, 0, count)
        }
    }

    /// Calls `body` with the values of groups * heads matrices at a time, in order (at most
    /// `chunk` values per call, whole matrices), as float32: a writer's way through maps that
    /// need not fit in memory twice.
    public func forEachChunk(maxValues chunk: Int = 1 << 22, _ body: (UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        let per = queries * keys
        guard per > 0, groups * heads > 0 else { return }
        let step = max(1, chunk / per)
        var m = 0
        while m < groups * heads {
            let k = min(step, groups * heads - m)
            switch storage {
            case let .memory(p):
                try p.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[m * per ..< (m + k) * per])) }
            case let .external(b, o, e):
                let v = Self.convert(b.base + o, e, m * per, k * per)
                b.done(o + m * per * e.size ..< o + (m + k) * per * e.size)
                try v.withUnsafeBufferPointer(body)
            }
            m += k
        }
    }

    public static func == (a: AttentionMaps, b: AttentionMaps) -> Bool {
        a.groups == b.groups && a.heads == b.heads && a.queries == b.queries && a.keys == b.keys && a.probs == b.probs
    }

    // MARK: - Conversion

    /// Value `i` at `base` (little-endian).
    private static func load(_ base: UnsafeRawPointer, _ e: AttentionElement, _ i: Int) -> Float {
        switch e {
        case .float32: return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        case .float16: return Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
        }
    }

    /// Values start ..< start + n at `base` as float32.
    private static func convert(_ base: UnsafeRawPointer, _ e: AttentionElement, _ start: Int, _ n: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: n) { out, done in
            switch e {
            case .float32:
                let src = base + start * 4
                if Int(bitPattern: src) % MemoryLayout<Float>.alignment == 0 {
                    _ = out.initialize(from: UnsafeBufferPointer(start: src.assumingMemoryBound(to: Float.self), count: n))
                } else {
                    for i in 0 ..< n { out[i] = load(base, e, start + i) }
                }
            case .float16:
                let src = base + start * 2
                for i in 0 ..< n {
                    out[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                }
            }
            done = n
        }
    }
}
