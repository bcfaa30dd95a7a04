// The torch functions a state dict pickle calls, interpreted instead of executed:
//   torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata])
//   torch._utils._rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
//   torch._utils._rebuild_tensor(storage, offset, size, stride)                 (older writers)
//   torch._utils._rebuild_parameter(data, requires_grad, hooks)
//   torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state)
//   torch._tensor._rebuild_from_type_v2(func, new_type, args, state)
// Offsets and strides count elements. The result is a TensorRef; bytes are read later.

enum TorchRebuild {
    static let maxRank = 32

    /// The value of calling `g` with `args`, or nil when `g` is not interpreted (caller keeps it inert).
    static func call(_ g: PickleGlobal, _ args: [PickleValue], context: String, depth: Int = 0) throws -> PickleValue? {
        func bad(_ m: String) -> CheckpointError { .malformed("\(context): \(g): \(m)") }
        switch (g.module, g.name) {
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v3"):
            guard args.count >= 4 else { throw bad("\(args.count) arguments") }
            guard case let .storage(storage) = args[0] else { throw bad("first argument is \(args[0].typeName), expected a storage") }
            guard case let .int(offset) = args[1], offset >= 0 else { throw bad("bad storage offset") }
            let shape = try ints(args[2], bad("size is not a tuple of ints"))
            let strides = try ints(args[3], bad("stride is not a tuple of ints"))
            guard shape.count == strides.count, shape.count <= maxRank else { throw bad("\(shape.count) sizes, \(strides.count) strides") }
            var type = storage.type
            if g.name == "_rebuild_tensor_v3" {
                guard args.count >= 7, case let .global(d) = args[6], d.module == "torch",
                      let t = PickleSafety.dtypes[d.name] else { throw bad("missing or unsupported dtype") }
                type = t
            }
            return .tensor(TensorRef(storage: storage, offset: offset, shape: shape, strides: strides, type: type))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = args.first else { throw bad("no arguments") }
            guard case .tensor = data else { throw bad("data is \(data.typeName), expected a tensor") }
            return data
        case ("torch._tensor", "_rebuild_from_type_v2"):
            guard args.count >= 3, case let .global(f) = args[0], case let .tuple(inner) = args[2] else { throw bad("bad arguments") }
            guard depth < 4 else { throw bad("nested too deeply") }
            // Only torch's own rebuild functions are followed; the subclass type (args[1]) is ignored.
            guard let v = try call(f, inner.items, context: context, depth: depth + 1) else { return nil }
            return v
        default:
            return nil
        }
    }

    private static func ints(_ v: PickleValue, _ error: CheckpointError) throws -> [Int] {
        guard case let .tuple(t) = v else { throw error }
        return try t.items.map { guard case let .int(i) = $0 else { throw error }; return i }
    }
}
