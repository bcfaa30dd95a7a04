// A whole nn.Module saved with `torch.save(model)` (or under a wrapper key): the state dict
// `model.state_dict()` would return, read from the pickled attributes of the inert object the
// safe unpickler built. Nothing is executed: the module's class stays a name, and only its
// `__dict__` as pickled is read:
//   _parameters   name -> Parameter (None entries skipped, as state_dict skips them)
//   _buffers      name -> tensor, minus the names in _non_persistent_buffers_set
//   _modules      name -> submodule, recursively, keys prefixed "name."
// in that order per module, which is state_dict's order. Modules that override
// `_save_to_state_dict` or register state-dict hooks would save differently; FasterViT, timm's
// layers and torch's wrappers (DataParallel, torch.compile's OptimizedModule: their prefixes are
// stripped later like any other) do not.
enum PickledModule {
    /// Submodules deeper than this are refused (a real FasterViT nests about 8 deep).
    static let maxDepth = 64
    /// Entries and module visits in all: a module shared under several names is saved under each
    /// (as state_dict does), so a hostile file sharing children level after level would otherwise
    /// take exponential time.
    static let maxEntries = 100_000

    /// The state dict of `object` as a dict of tensors, or nil when `object` is not a pickled
    /// module (its state has no `_modules` dict).
    static func stateDict(of object: PickleObject) throws -> PickleDict? {
        guard attributes(object)?["_modules"].flatMap(dictionary) != nil else { return nil }
        let out = PickleDict()
        var entries = 0
        var path: Set<ObjectIdentifier> = []
        try collect(object, prefix: "", depth: 0, path: &path, entries: &entries, into: out)
        return out
    }

    private static func attributes(_ o: PickleObject) -> PickleDict? {
        if case let .dict(d) = o.state { return d }
        // setstate with (dict, slots) tuples
        if case let .tuple(t) = o.state, case let .dict(d)? = t.items.first { return d }
        return nil
    }

    private static func dictionary(_ v: PickleValue) -> PickleDict? {
        if case let .dict(d) = v { return d }
        return nil
    }

    /// Names in `_non_persistent_buffers_set`: a set in protocol 4 (EMPTY_SET), builtins.set([...])
    /// in protocol 2.
    private static func names(_ v: PickleValue?) -> Set<String> {
        var items: [PickleValue] = []
        switch v {
        case .set(let l)?, .list(let l)?: items = l.items
        case .object(let o)?:
            if case let .tuple(t) = o.args, case let .list(l)? = t.items.first { items = l.items }
            items += o.extra
        default: break
        }
        return Set(items.compactMap { if case let .string(s) = $0 { return s } else { return nil } })
    }

    private static func collect(_ module: PickleObject, prefix: String, depth: Int, path: inout Set<ObjectIdentifier>,
                                entries: inout Int, into out: PickleDict) throws {
        guard depth <= maxDepth else {
            throw CheckpointError.limit("pickled module nested deeper than \(maxDepth) levels at '\(prefix)'")
        }
        // A module that contains itself (a cycle through _modules) cannot come from torch.save of
        // a real model; refuse rather than loop.
        let id = ObjectIdentifier(module)
        guard path.insert(id).inserted else {
            throw CheckpointError.malformed("pickled module '\(prefix)' contains itself")
        }
        defer { path.remove(id) }
        guard let attrs = attributes(module) else {
            throw CheckpointError.malformed("pickled module '\(prefix)' (\(module.type)) has no attributes")
        }
        func count() throws {
            entries += 1
            guard entries <= maxEntries else {
                throw CheckpointError.limit("pickled module holds more than \(maxEntries) tensors and submodules")
            }
        }
        try count()
        func add(_ name: String, _ value: PickleValue) throws {
            try count()
            out.items.append((key: .string(prefix + name), value: value))
        }
        for (k, v) in attrs["_parameters"].flatMap(dictionary)?.items ?? [] {
            guard case let .string(name) = k else { continue }
            if case .none = v { continue }
            try add(name, v)
        }
        let transient = names(attrs["_non_persistent_buffers_set"])
        for (k, v) in attrs["_buffers"].flatMap(dictionary)?.items ?? [] {
            guard case let .string(name) = k, !transient.contains(name) else { continue }
            if case .none = v { continue }
            try add(name, v)
        }
        for (k, v) in attrs["_modules"].flatMap(dictionary)?.items ?? [] {
            guard case let .string(name) = k else { continue }
            switch v {
            case .none: continue
            case .object(let child):
                try collect(child, prefix: prefix + name + ".", depth: depth + 1, path: &path, entries: &entries, into: out)
            default:
                throw CheckpointError.malformed("pickled module '\(prefix + name)' is \(v.summary()), not a module")
            }
        }
    }
}
