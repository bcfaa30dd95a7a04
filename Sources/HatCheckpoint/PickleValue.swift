// Values produced by the safe unpickler. Nothing here refers to a Python object that was created:
// globals stay (module, name) pairs, unknown calls stay inert `PickleObject`s, and tensors are
// references into storages (materialised later, only for the state dict actually used).
//
// Containers are reference boxes because pickles mutate them after creation (APPEND, SETITEMS,
// BUILD) and share them through the memo. Every box is registered in the unpickler's arena and
// emptied when loading ends, so hostile nesting or cycles never cause deep recursion on release.

public struct PickleGlobal: Hashable, Sendable, CustomStringConvertible {
    public let module: String
    public let name: String
    public var description: String { "\(module).\(name)" }
}

/// A storage named by a persistent id: its key in the archive, element type and element count.
/// `offset` and `count` select a sub-range (legacy view storages); offset counts elements.
public struct StorageRef: Hashable, Sendable {
    public let key: String
    public let type: ElementType
    public let count: Int
    public var offset: Int = 0
}

/// A tensor as `_rebuild_tensor_v2` describes it: a storage, an element offset, sizes and strides.
public struct TensorRef: Sendable {
    public let storage: StorageRef
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
    /// Element type of the tensor (the storage's, or `_rebuild_tensor_v3`'s explicit dtype).
    public let type: ElementType
}

public final class PickleList {
    public internal(set) var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

public final class PickleDict {
    /// Insertion order kept; a repeated key appears twice and the later one wins on lookup (as in Python).
    public internal(set) var items: [(key: PickleValue, value: PickleValue)] = []
    init() {}

    public subscript(_ key: String) -> PickleValue? {
        items.last { if case .string(key) = $0.key { return true } else { return false } }?.value
    }

    /// String keys in order (non-string keys skipped).
    public var stringKeys: [String] {
        items.compactMap { if case let .string(s) = $0.key { return s } else { return nil } }
    }
}

/// The result of calling or instantiating a global that is not interpreted (argparse.Namespace,
/// numpy scalars, torch.device, ...). Kept as plain data for display.
public final class PickleObject {
    public let type: PickleGlobal
    public internal(set) var args: PickleValue
    public internal(set) var state: PickleValue = .none
    /// Items pickles add to dict- or list-like objects (defaultdict, custom containers).
    public internal(set) var extra: [PickleValue] = []
    init(type: PickleGlobal, args: PickleValue) { self.type = type; self.args = args }
}

public enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits; only its size is kept.
    case bigInt(bytes: Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleList)
    case list(PickleList)
    case set(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case object(PickleObject)
    case storage(StorageRef)
    case tensor(TensorRef)

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .set: return "set"
        case .dict: return "dict"
        case .global(let g): return "global \(g)"
        case .object(let o): return o.type.description
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// A short one-line summary for `hatscope info` (depth-limited; boxes may form cycles).
    public func summary(depth: Int = 0) -> String {
        func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let n): return "int (\(n) bytes)"
        case .float(let d): return String(d)
        case .string(let s): return "'" + clip(s) + "'"
        case .bytes(let b): return "bytes (\(b.count))"
        case .tuple(let l):
            if depth > 1 || l.items.count > 6 { return "tuple (\(l.items.count) items)" }
            return "(" + l.items.map { $0.summary(depth: depth + 1) }.joined(separator: ", ") + ")"
        case .list(let l): return "list (\(l.items.count) items)"
        case .set(let l): return "set (\(l.items.count) items)"
        case .dict(let d):
            let tensors = d.items.filter { if case .tensor = $0.value { return true } else { return false } }.count
            return tensors > 0 ? "dict (\(d.items.count) entries, \(tensors) tensors)" : "dict (\(d.items.count) entries)"
        case .global(let g): return g.description
        case .object(let o):
            switch o.type.description {
            case "argparse.Namespace":
                if case let .dict(d) = o.state { return "argparse.Namespace (\(d.items.count) fields)" }
                return "argparse.Namespace"
            case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar": return numpyScalar(o) ?? "numpy scalar"
            case "__builtin__.set", "builtins.set", "__builtin__.frozenset", "builtins.frozenset":
                if case let .tuple(t) = o.args, case let .list(l)? = t.items.first { return "set (\(l.items.count) items)" }
                return "set"
            case "_codecs.encode":
                if case let .tuple(t) = o.args, case let .string(s)? = t.items.first { return "bytes (\(s.unicodeScalars.count))" }
                return "bytes"
            case "torch.device":
                if case let .tuple(t) = o.args, let f = t.items.first { return "torch.device(\(f.summary(depth: 2)))" }
                return "torch.device"
            default: return o.type.description + " object"
            }
        case .storage(let s): return "storage \(s.key) (\(s.type.rawValue) x \(s.count))"
        case .tensor(let t): return "tensor \(t.type.rawValue) [" + t.shape.map(String.init).joined(separator: ", ") + "]"
        }
    }
}

/// The value of a pickled numpy scalar, `numpy.core.multiarray.scalar(dtype(code, ...), payload)`,
/// read from its little-endian payload bytes (protocol 2 wraps them as `_codecs.encode(str, 'latin1')`).
func numpyScalar(_ o: PickleObject) -> String? {
    guard case let .tuple(t) = o.args, t.items.count >= 2, case let .object(dt) = t.items[0], dt.type.name == "dtype",
          case let .tuple(da) = dt.args, case let .string(code)? = da.items.first else { return nil }
    var bytes: [UInt8] = []
    switch t.items[1] {
    case .bytes(let b): bytes = b
    case .object(let enc) where enc.type.description == "_codecs.encode":
        guard case let .tuple(ea) = enc.args, case let .string(s)? = ea.items.first else { return nil }
        for u in s.unicodeScalars { guard u.value < 256 else { return nil }; bytes.append(UInt8(u.value)) }
    default: return nil
    }
    func le(_ n: Int) -> UInt64? {
        guard bytes.count == n else { return nil }
        return bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
    switch code {
    case "f8": return le(8).map { "numpy float64 \(Double(bitPattern: $0))" }
    case "f4": return le(4).map { "numpy float32 \(Float(bitPattern: UInt32($0)))" }
    case "i8": return le(8).map { "numpy int64 \(Int64(bitPattern: $0))" }
    case "i4": return le(4).map { "numpy int32 \(Int32(truncatingIfNeeded: $0))" }
    case "u1", "b1": return le(1).map { code == "b1" ? "numpy bool \($0 != 0)" : "numpy uint8 \($0)" }
    default: return "numpy scalar (\(code))"
    }
}
