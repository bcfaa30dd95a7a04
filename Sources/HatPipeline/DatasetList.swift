// The inputs of a run over many images, in one order every machine agrees on: the --image /
// --input files in the order given, then the images of --images DIR (.png, .jpg, .jpeg in any
// letter case; with `recursive`, in its subfolders too, never following symbolic links to
// folders) sorted by the bytes of their path inside DIR, as `LC_ALL=C sort` does. Each input has
// a name that does not depend on where the data sits on a machine (its path inside DIR, or the
// path as given), which partial results use to tell images apart; `digest` identifies the list.
import Foundation
import HatCheckpoint
import HatSystem

public struct DatasetItem: Sendable, Equatable {
    /// Where to read it on this machine.
    public var path: String
    /// How results name it: the path inside --images DIR, or the path as given.
    public var name: String
    /// Found in --images DIR (not named by the user): read only when it is a regular file.
    public var inFolder = false

    /// Throws when an item found in a folder is not a regular file: a FIFO nobody writes to would
    /// block the run, a device never ends. Inputs the user names (`--image FIFO`) are read as given.
    public func checkRegular() throws {
        if inFolder, let kind = Self.specialKind(path) { throw PipelineError("not a regular file (\(kind))") }
    }

    /// What `path` is when it is not a regular file ("a FIFO", "a character device", ...); nil for
    /// a regular file, or one that cannot be looked at (its reader names that problem).
    public static func specialKind(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let kinds: [(mode_t, String)] = [(S_IFIFO, "a FIFO"), (S_IFCHR, "a character device"), (S_IFBLK, "a block device"),
                                         (S_IFSOCK, "a socket"), (S_IFDIR, "a folder")]
        return kinds.first { st.st_mode & S_IFMT == $0.0 }?.1
    }
}

public struct DatasetList: Sendable {
    public let items: [DatasetItem]
    /// Images per block (the batch size): the unit of shards, batches and saved progress.
    public let blockSize: Int

    public init(items: [DatasetItem], blockSize: Int) {
        precondition(blockSize >= 1)
        self.items = items
        self.blockSize = blockSize
    }

    public var count: Int { items.count }
    public var blockCount: Int { (items.count + blockSize - 1) / blockSize }

    /// Indices of the images of block `b`.
    public func range(ofBlock b: Int) -> Range<Int> { b * blockSize ..< min(items.count, (b + 1) * blockSize) }

    /// Indices of the images of a range of blocks.
    public func range(ofBlocks r: Range<Int>) -> Range<Int> {
        r.isEmpty ? 0 ..< 0 : r.lowerBound * blockSize ..< min(items.count, r.upperBound * blockSize)
    }

    /// SHA-256 of the names, one per line: two machines with the same files have the same digest.
    public var digest: String {
        var h = SHA256.Hasher()
        for item in items {
            let line = Array((item.name + "\n").utf8)
            line.withUnsafeBytes { h.update($0) }
        }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    public var info: DatasetListInfo {
        DatasetListInfo(count: count, digest: digest, blockSize: blockSize, blocks: blockCount)
    }

    /// The image extensions a folder is searched for.
    static func isImageName(_ name: String) -> Bool {
        let l = name.lowercased()
        return l.hasSuffix(".png") || l.hasSuffix(".jpg") || l.hasSuffix(".jpeg")
    }

    /// `inputs` as given, then the images of `folder` (nil: none). Throws a PipelineError when the
    /// folder cannot be listed or holds no image, or when there is no input at all.
    public static func collect(inputs: [String], folder: String?, recursive: Bool = false, blockSize: Int) throws -> DatasetList {
        var items = inputs.map { DatasetItem(path: $0, name: $0) }
        if let dir = folder {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
                throw PipelineError("--images \(dir): no such folder")
            }
            guard isDir.boolValue else { throw PipelineError("--images \(dir): not a folder") }
            var found: [String] = []
            try walk(dir, prefix: "", recursive: recursive, depth: 0, into: &found)
            if found.isEmpty {
                throw PipelineError("--images \(dir): no .png, .jpg or .jpeg files in it" + (recursive ? " or its subfolders" : ""))
            }
            found.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let base = dir.hasSuffix("/") ? dir : dir + "/"
            items += found.map { DatasetItem(path: base + $0, name: $0, inFolder: true) }
        }
        if items.isEmpty { throw PipelineError("give --image FILE (or --input), or --images DIR") }
        return DatasetList(items: items, blockSize: blockSize)
    }

    /// Image names under `dir` (relative, with `prefix`), hidden entries left out.
    private static func walk(_ dir: String, prefix: String, recursive: Bool, depth: Int, into found: inout [String]) throws {
        // opendir first: its errno names the problem (FileManager's error would not).
        guard let handle = opendir(dir) else {
            throw PipelineError("--images \(dir): cannot list it (\(FileError.reason()))")
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        closedir(handle)
        for name in names {
            let path = (dir.hasSuffix("/") ? dir : dir + "/") + name
            if isImageName(name) {
                found.append(prefix + name)
            } else if recursive && depth < 64 {
                var st = stat()
                // lstat: a symbolic link to a folder is not followed (no loops, no escaping the tree).
                if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
                    try walk(path, prefix: prefix + name + "/", recursive: true, depth: depth + 1, into: &found)
                }
            }
        }
    }
}

/// What identifies a list in partial results.
public struct DatasetListInfo: Sendable, Equatable, Codable {
    public var count: Int
    public var digest: String
    public var blockSize: Int
    public var blocks: Int
}
