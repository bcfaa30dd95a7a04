// A torch.save file opened without Python: the zip format (torch >= 1.6) or the legacy format of
// back-to-back pickles. Opening parses the pickle into inert values (tensors as references into
// storages); `tensor(_:)` converts one reference to float32 straight from the memory map.
import HatCore

public final class TorchCheckpoint {
    public let path: String
    /// The unpickled object (a dict for every checkpoint hatscope reads).
    public let root: PickleValue
    /// "zip" or "legacy".
    public let format: String
    private let file: MappedFile
    /// Storage key -> absolute byte range of its data in the file.
    private var storageRanges: [String: Range<Int>] = [:]
    private let bigEndian: Bool
    private let arena: Unpickler.Arena

    public convenience init(path: String) throws {
        try self.init(file: try MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        self.path = file.path
        let bytes = file.bytes
        let ctx = file.path
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 {
            format = "zip"
            (root, arena, storageRanges, bigEndian) = try TorchCheckpoint.openZip(bytes, context: ctx)
        } else if bytes.count >= 2, bytes[0] == 0x80 {
            format = "legacy"
            (root, arena, storageRanges) = try TorchCheckpoint.openLegacy(bytes, context: ctx)
            bigEndian = false
        } else if bytes.count > 262, Array(bytes[257 ..< 262]) == Array("ustar".utf8) {
            throw CheckpointError.unsupported("\(ctx): tar-based torch checkpoint (torch < 0.4); re-save it with a newer torch")
        } else {
            throw CheckpointError.malformed("\(ctx): not a torch.save file (neither a zip archive nor a pickle)")
        }
    }

    deinit {
        arena.teardown()
        file.release()
    }

    /// Releases the mapping and the pickle graph; `tensor(_:)` must not be called afterwards.
    public func close() {
        arena.teardown()
        file.release()
    }

    // MARK: zip

    private static func openZip(_ bytes: UnsafeRawBufferPointer, context ctx: String) throws
        -> (PickleValue, Unpickler.Arena, [String: Range<Int>], Bool) {
        let zip = try ZipArchive(bytes, context: ctx)
        let pickles = zip.entries.filter { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pkl = pickles.first else {
            throw CheckpointError.malformed("\(ctx): expected one */data.pkl in the archive, found \(pickles.count)")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        if zip.entry(prefix + "constants.pkl") != nil {
            throw CheckpointError.unsupported("\(ctx): a TorchScript archive (torch.jit.save), not a torch.save checkpoint")
        }
        for e in zip.entries where !e.name.hasPrefix(prefix) {
            throw CheckpointError.malformed("\(ctx): entry \(e.name) is outside the archive folder \(prefix)")
        }
        var bigEndian = false
        if let bo = zip.entry(prefix + "byteorder") {
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[bo.dataStart ..< bo.dataStart + bo.size]), as: UTF8.self)
            switch text {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw CheckpointError.malformed("\(ctx): byteorder entry says '\(text.prefix(20))'")
            }
        }
        var ranges: [String: Range<Int>] = [:]
        var u = Unpickler(bytes, from: pkl.dataStart, to: pkl.dataStart + pkl.size, context: ctx + " data.pkl") { pid in
            // ('storage', torch.<Type>Storage, key, location, numel)
            guard case let .tuple(t) = pid, t.items.count == 5, case .string("storage") = t.items[0],
                  case let .global(st) = t.items[1], case let .string(key) = t.items[2], case let .int(numel) = t.items[4],
                  numel >= 0 else {
                throw CheckpointError.malformed("\(ctx): unexpected persistent id \(pid.summary())")
            }
            guard st.module == "torch", let type = PickleSafety.storageTypes[st.name] else {
                throw CheckpointError.unsupported("\(ctx): storage type \(st)")
            }
            guard let e = zip.entry(prefix + "data/" + key) else {
                throw CheckpointError.malformed("\(ctx): storage \(key) has no data/\(key) entry")
            }
            let need = try checkedMul(numel, type.size, "size of storage \(key)")
            guard need <= e.size else {
                throw CheckpointError.malformed("\(ctx): storage \(key) needs \(need) bytes, its entry holds \(e.size)")
            }
            ranges[key] = e.dataStart ..< e.dataStart + need
            return .storage(StorageRef(key: key, type: type, count: numel))
        }
        let root: PickleValue
        do { root = try u.load() } catch { u.arena.teardown(); throw error }
        return (root, u.arena, ranges, bigEndian)
    }

    // MARK: legacy

    /// magic number, protocol version, sys info, the object, the storage key list, then per key an
    /// int64 element count and the raw bytes.
    private static func openLegacy(_ bytes: UnsafeRawBufferPointer, context ctx: String) throws
        -> (PickleValue, Unpickler.Arena, [String: Range<Int>]) {
        let noPid: Unpickler.PersistentLoad = { _ in throw CheckpointError.malformed("\(ctx): persistent id outside the main pickle") }
        let arenas = Unpickler.Arena()
        defer { arenas.teardown() }
        var u1 = Unpickler(bytes, from: 0, context: ctx + " legacy magic", persistentLoad: noPid)
        let magic = try u1.load()
        let magicBytes: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
        guard case .bigInt(bytes: 10) = magic, u1.position >= 13,
              Array(bytes[u1.position - 11 ..< u1.position - 1]) == magicBytes else {
            throw CheckpointError.malformed("\(ctx): not a torch.save file (legacy magic number missing)")
        }
        var u2 = Unpickler(bytes, from: u1.position, context: ctx + " legacy protocol", persistentLoad: noPid)
        guard case .int(1001) = try u2.load() else { throw CheckpointError.unsupported("\(ctx): legacy protocol version is not 1001") }
        var u3 = Unpickler(bytes, from: u2.position, context: ctx + " legacy sys info", persistentLoad: noPid)
        let info = try u3.load()
        if case let .dict(d) = info, case .bool(false)? = d["little_endian"] {
            throw CheckpointError.unsupported("\(ctx): legacy checkpoint written on a big-endian machine")
        }
        arenas.lists += u1.arena.lists + u2.arena.lists + u3.arena.lists
        arenas.dicts += u3.arena.dicts

        var types: [String: ElementType] = [:]
        var u4 = Unpickler(bytes, from: u3.position, context: ctx + " legacy data", persistentLoad: { pid in
            // ('storage', torch.<Type>Storage, root_key, location, numel, view_metadata)
            guard case let .tuple(t) = pid, t.items.count == 6, case .string("storage") = t.items[0],
                  case let .global(st) = t.items[1], case let .string(key) = t.items[2], case let .int(numel) = t.items[4],
                  numel >= 0 else {
                throw CheckpointError.malformed("\(ctx): unexpected persistent id \(pid.summary())")
            }
            guard st.module == "torch", let type = PickleSafety.storageTypes[st.name] else {
                throw CheckpointError.unsupported("\(ctx): storage type \(st)")
            }
            if let old = types[key], old != type { throw CheckpointError.malformed("\(ctx): storage \(key) used with two types") }
            types[key] = type
            var ref = StorageRef(key: key, type: type, count: numel)
            if case let .tuple(view) = t.items[5] {
                guard view.items.count == 3, case let .int(offset) = view.items[1], case let .int(size) = view.items[2],
                      offset >= 0, size >= 0 else { throw CheckpointError.malformed("\(ctx): bad view metadata") }
                ref = StorageRef(key: key, type: type, count: size, offset: offset)
            }
            return .storage(ref)
        })
        let root: PickleValue
        do { root = try u4.load() } catch { u4.arena.teardown(); throw error }
        do {
            var u5 = Unpickler(bytes, from: u4.position, context: ctx + " legacy storage keys", persistentLoad: noPid)
            let keyList = try u5.load()
            arenas.lists += u5.arena.lists
            guard case let .list(keys) = keyList else { throw CheckpointError.malformed("\(ctx): legacy storage key list missing") }
            var r = ByteReader(bytes, from: u5.position, context: ctx + " legacy storages")
            var ranges: [String: Range<Int>] = [:]
            for k in keys.items {
                guard case let .string(key) = k else { throw CheckpointError.malformed("\(ctx): storage key is not a string") }
                guard let type = types[key] else { throw CheckpointError.malformed("\(ctx): storage \(key) is never used") }
                let numel = try r.le(Int64.self)
                guard numel >= 0, numel <= Int64(r.remaining) else { throw CheckpointError.malformed("\(ctx): storage \(key) count \(numel) exceeds the file") }
                let n = try checkedMul(Int(numel), type.size, "size of storage \(key)")
                let start = r.position
                try r.skip(n)
                ranges[key] = start ..< start + n
            }
            for key in types.keys where ranges[key] == nil {
                throw CheckpointError.malformed("\(ctx): storage \(key) has no data")
            }
            return (root, u4.arena, ranges)
        } catch { u4.arena.teardown(); throw error }
    }

    // MARK: tensors

    /// File byte range of a storage (for ordering reads and dropping pages).
    public func storageRange(_ key: String) -> Range<Int>? { storageRanges[key] }

    /// Converts a tensor reference to a dense float32 tensor (strided views gathered).
    public func tensor(_ t: TensorRef, name: String) throws -> Tensor {
        guard let range = storageRanges[t.storage.key] else {
            throw CheckpointError.malformed("\(path): tensor \(name) refers to unknown storage \(t.storage.key)")
        }
        // Legacy view storages start `offset` elements into their root storage.
        let viewStart = try checkedMul(t.storage.offset, t.storage.type.size, "storage view of \(name)")
        let viewBytes = try checkedMul(t.storage.count, t.storage.type.size, "storage view of \(name)")
        guard viewStart <= range.count, viewBytes <= range.count - viewStart else {
            throw CheckpointError.malformed("\(path): storage view of \(name) lies outside its storage")
        }
        let lo = range.lowerBound + viewStart
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[lo ..< lo + viewBytes])
        return try ElementConversion.gather(storage: raw, type: t.type, bigEndian: bigEndian, offset: t.offset,
                                            shape: t.shape, strides: t.strides, name: name)
    }

    /// Lets the kernel drop the file pages of a storage already converted.
    public func dropPages(ofStorage key: String) {
        if let r = storageRanges[key] { file.dropPages(r) }
    }
}
