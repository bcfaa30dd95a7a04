// From any supported file to a clean state dict: pick the wrapper entry (bare dict, `state_dict`,
// `model`, or `state_dict_ema` on request), strip wrapper prefixes (`module.` of DataParallel/DDP,
// `_orig_mod.` of torch.compile), convert only the selected tensors to float32 in file order
// (dropping each storage's file pages once converted, so peak memory holds one float32 copy), and
// summarise everything else as extras.
import HatCore

public struct LoadedStateDict {
    /// Tensors by sanitised key, float32.
    public var tensors: [String: Tensor]
    /// Keys in the order the file lists them.
    public var order: [String]
    /// Stored element type per key (before conversion).
    public var storedTypes: [String: ElementType]
    /// Where the tensors came from: "state_dict", "model", "state_dict_ema", ... or "(top level)".
    public var source: String
    /// Prefixes removed from every key that had them ("module.", "_orig_mod.module."), or nil.
    public var strippedPrefix: String?
    /// The class of a whole pickled module the tensors were read from (`torch.save(model)`), or nil.
    public var pickledModule: String? = nil
    /// The prefix of the network inside a larger model's state dict ("model." of a Lightning
    /// module), removed from its keys, or nil (set by the model loader, which knows the network).
    public var submodule: String? = nil
    /// Other top-level entries, one line each ("epoch: 309", "args: argparse.Namespace (52 fields)").
    public var extras: [String]
    /// "zip", "legacy" or "safetensors".
    public var format: String

    /// Key -> shape, for variant inference and strict mapping.
    public var shapes: [String: [Int]] { tensors.mapValues { $0.shape } }

    /// The same tensors under new names, in the same order: `rename` gives a key's new name, or
    /// nil to leave the tensor out. Throws when two keys get one name.
    public func renamed(_ rename: (String) -> String?) throws -> LoadedStateDict {
        var out = self
        out.tensors = [:]; out.storedTypes = [:]; out.order = []
        for k in order {
            guard let n = rename(k) else { continue }
            if out.tensors[n] != nil { throw CheckpointError.malformed("\(k) and another key both become \(n)") }
            out.tensors[n] = tensors[k]
            out.storedTypes[n] = storedTypes[k]
            out.order.append(n)
        }
        return out
    }
}

public enum StateDictLoader {
    /// Wrapper entries tried in order.
    public static let standardKeys = ["state_dict", "model", "model_state_dict", "net"]
    public static let emaKeys = ["state_dict_ema", "model_ema", "ema", "ema_state_dict"]

    /// Loads `path` (torch.save zip/legacy, or .safetensors by content).
    public static func load(path: String, ema: Bool = false) throws -> LoadedStateDict {
        let file = try MappedFile(path: path)
        defer { file.release() }
        return try load(file: file, ema: ema)
    }

    /// Loads from an already mapped (or in-memory) file.
    public static func load(file: MappedFile, ema: Bool = false) throws -> LoadedStateDict {
        let path = file.path
        let b = file.bytes
        // safetensors starts with a u64 header length followed by '{'.
        if b.count >= 9, b[8] == UInt8(ascii: "{") {
            if ema { throw CheckpointError.noStateDict("\(path): --ema needs a torch checkpoint with state_dict_ema; a safetensors file holds one set of weights") }
            let f = try SafeTensors.parse(b, context: path, dropPages: file.dropPages)
            var d = LoadedStateDict(tensors: [:], order: [], storedTypes: f.types, source: "(safetensors)",
                                    strippedPrefix: nil, extras: f.metadata.sorted { $0.key < $1.key }.map { "metadata \($0.key): \($0.value)" },
                                    format: "safetensors")
            for (name, t) in f.tensors { d.tensors[name] = t; d.order.append(name) }
            return try sanitize(d)
        }
        let ckpt = try TorchCheckpoint(file: file)
        defer { ckpt.close() }
        return try select(ckpt, ema: ema)
    }

    /// Chooses the state dict inside an opened checkpoint and converts its tensors.
    public static func select(_ ckpt: TorchCheckpoint, ema: Bool) throws -> LoadedStateDict {
        let ctx = ckpt.path
        if case let .object(o) = ckpt.root, !ema, let d = try PickledModule.stateDict(of: o) {
            return try convert(ckpt, dict: d, source: "(top level)", module: o.type.description, extras: [])
        }
        guard case let .dict(top) = ckpt.root else {
            throw CheckpointError.noStateDict("\(ctx): the checkpoint holds a \(ckpt.root.summary()), not a dict of tensors")
        }
        let keys = top.stringKeys
        let wanted = ema ? emaKeys : standardKeys
        var chosen: (String, PickleDict)?
        var module: String?
        // The first wrapper key holding a dict wins; a wrapper key holding something else (a
        // pickled nn.Module, an architecture name) is remembered to explain a failure.
        var rejected: CheckpointError?
        for k in wanted {
            guard let v = top[k] else { continue }
            switch v {
            case .dict(let d): chosen = (k, d)
            case .object(let o):
                // A whole module (torch.save({"model": model})): its state dict, read inertly.
                if let d = try PickledModule.stateDict(of: o) {
                    chosen = (k, d)
                    module = o.type.description
                } else {
                    rejected = rejected ?? .noStateDict("\(ctx): '\(k)' holds a pickled \(o.type) object, not a state dict or a module")
                }
            default:
                rejected = rejected ?? .noStateDict("\(ctx): '\(k)' holds \(v.summary()), not a state dict")
            }
            if chosen != nil { break }
        }
        if chosen == nil {
            if ema {
                if let r = rejected { throw r }
                throw CheckpointError.noStateDict("\(ctx): --ema asked for EMA weights but none of \(emaKeys.joined(separator: ", ")) is present (top-level keys: \(keyList(keys)))")
            }
            let tensorCount = top.items.filter { if case .tensor = $0.value { return true } else { return false } }.count
            guard tensorCount > 0 else {
                if let r = rejected { throw r }
                throw CheckpointError.noStateDict("\(ctx): no tensors at the top level and none of \(standardKeys.joined(separator: ", ")) present (keys: \(keyList(keys)))")
            }
            chosen = ("(top level)", top)
        }
        let (source, dict) = chosen!
        var extras: [String] = []
        if source != "(top level)" {
            for (k, v) in top.items {
                guard case let .string(name) = k, name != source else { continue }
                var line = "\(name): \(v.summary())"
                if !ema, emaKeys.contains(name), case .dict = v { line += " (use --ema to load these weights)" }
                extras.append(line)
            }
        }
        return try convert(ckpt, dict: dict, source: source, module: module, extras: extras)
    }

    /// The tensor entries of `dict` converted to float32 (Python dict semantics: a repeated key
    /// keeps its first position and its last value), grouped by storage in file order, then
    /// sanitized; other entries are listed in the extras.
    private static func convert(_ ckpt: TorchCheckpoint, dict: PickleDict, source: String, module: String?,
                                extras: [String]) throws -> LoadedStateDict {
        var extras = extras
        var refs: [(String, TensorRef)] = []
        var position: [String: Int] = [:]
        for (k, v) in dict.items {
            guard case let .string(name) = k else { continue }
            switch v {
            case .tensor(let t):
                if let p = position[name] { refs[p].1 = t } else { position[name] = refs.count; refs.append((name, t)) }
            default: extras.append("state dict entry \(name): \(v.summary()) (not a tensor, ignored)")
            }
        }
        var out = LoadedStateDict(tensors: [:], order: refs.map { $0.0 }, storedTypes: [:], source: source,
                                  strippedPrefix: nil, extras: extras, format: ckpt.format)
        out.pickledModule = module
        out.tensors.reserveCapacity(refs.count)
        let order = refs.indices.sorted { a, b in
            let ra = ckpt.storageRange(refs[a].1.storage.key)?.lowerBound ?? 0
            let rb = ckpt.storageRange(refs[b].1.storage.key)?.lowerBound ?? 0
            return (ra, a) < (rb, b)
        }
        var pending: [String: Int] = [:]
        for (_, t) in refs { pending[t.storage.key, default: 0] += 1 }
        for i in order {
            let (name, t) = refs[i]
            out.tensors[name] = try ckpt.tensor(t, name: name)
            out.storedTypes[name] = t.type
            pending[t.storage.key, default: 1] -= 1
            if pending[t.storage.key] == 0 { ckpt.dropPages(ofStorage: t.storage.key) }
        }
        return try sanitize(out)
    }

    /// Wrapper prefixes a saved state dict may carry: DataParallel/DDP's `module.` (timm's
    /// clean_state_dict strips it too) and torch.compile's `_orig_mod.`, in either nesting.
    static let wrapperPrefixes = ["module.", "_orig_mod."]

    /// Strips wrapper prefixes, outermost first, from every key that has them; `strippedPrefix`
    /// names what went ("module._orig_mod.").
    static func sanitize(_ d: LoadedStateDict) throws -> LoadedStateDict {
        var out = d
        var stripped = ""
        // Each round removes one wrapper level; a real nesting is 1-2 deep, 8 bounds a hostile file.
        for _ in 0..<8 {
            guard let prefix = wrapperPrefixes.first(where: { p in out.order.contains { $0.hasPrefix(p) } }) else { break }
            do {
                out = try out.renamed { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
            } catch CheckpointError.malformed(let m) {
                throw CheckpointError.malformed(m + " after removing the '\(prefix)' prefix")
            }
            stripped += prefix
        }
        if !stripped.isEmpty { out.strippedPrefix = (d.strippedPrefix ?? "") + stripped }
        return out
    }

    private static func keyList(_ keys: [String]) -> String {
        keys.isEmpty ? "none" : keys.prefix(12).joined(separator: ", ") + (keys.count > 12 ? ", ..." : "")
    }
}
