// An output folder for a command that writes several files (export, stats): created when missing
// (and removed again if the command fails), checked to be a writable folder, and locked for the
// run, so two runs into one folder cannot mix their files under one manifest: the second is
// refused at once with one line.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class OutputFolder {
    public let path: String
    private var lockFD: Int32 = -1
    /// Folders this run created, parents first, with their registry tokens.
    private var created: [(path: String, token: CleanupRegistry.Token)] = []

    /// Where a resumable run keeps its progress inside its output folder (HatPipeline's
    /// DatasetProgress); its presence means an unfinished run.
    public static let progressFolderName = ".hatscope-progress"

    /// Creates `path` (and missing parents) if needed and locks it. `option` names the option in
    /// messages ("--out"). Unless `resumable` (a command that continues its own unfinished run
    /// there), a folder holding an unfinished run is refused: its files would mix with that run's.
    public init(_ path: String, option: String, resumable: Bool = false) throws {
        self.path = path
        func refuse(_ why: String) -> FileError {
            .folder(path: path, reason: why + " (\(option))")
        }
        if path.isEmpty { throw FileError.folder(path: path, reason: "empty folder name (\(option))") }
        var st = stat()
        if stat(path, &st) != 0 {
            guard errno == ENOENT else { throw refuse(FileError.reason()) }
            try createMissing(refuse)
        } else if st.st_mode & S_IFMT != S_IFDIR {
            throw refuse("it exists and is not a folder")
        }
        guard access(path, W_OK | X_OK) == 0 else { throw refuse("not writable: " + FileError.reason()) }
        lockFD = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lockFD >= 0 else { throw refuse(FileError.reason()) }
        if flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            let busy = errno == EWOULDBLOCK
            let why = FileError.reason()
            // Busy: another run found the folder the moment this one made it and holds it now,
            // so it is that run's to keep, not this one's to remove.
            if busy { finish() } else { abandon() }
            throw refuse(busy ? "another hatscope run is writing into it; wait for it to finish or choose another folder"
                              : "cannot lock it: " + why)
        }
        // A run that created the folder and failed removes it (when empty) before it unlocks; one
        // that opened it just before then holds a lock on a folder no longer there.
        var locked = stat(), named = stat()
        guard fstat(lockFD, &locked) == 0, stat(path, &named) == 0,
              locked.st_dev == named.st_dev, locked.st_ino == named.st_ino else {
            abandon()
            throw refuse("another hatscope run removed it as this one started; run again")
        }
        if !resumable, access(file(Self.progressFolderName), F_OK) == 0 {
            finish()
            throw refuse("it holds an unfinished run (\(file(Self.progressFolderName))); finish it with its own command, "
                         + "or choose another folder")
        }
        // Holding the lock, no other run writes here: temporaries left in it belong to runs that
        // were killed with SIGKILL (which no handler sees).
        OutputFolder.removeStaleTemporaries(in: path)
    }

    /// Removes OutputFile's hidden temporaries (`.NAME.tmp-PID-N-N`) from `folder`: call it only
    /// for a folder no other run writes into (a locked one, or a folder inside it).
    public static func removeStaleTemporaries(in folder: String) {
        guard let dir = opendir(folder) else { return }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if isTemporaryName(name) { stale.append(name) }
        }
        closedir(dir)
        for name in stale { unlink((folder.hasSuffix("/") ? folder : folder + "/") + name) }
    }

    /// Whether `name` is spelled like an OutputFile temporary: "." + name + ".tmp-" + three numbers.
    static func isTemporaryName(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard name.hasPrefix("."), parts.count >= 4, parts[parts.count - 4].hasSuffix(".tmp") else { return false }
        return parts.suffix(3).allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }
    }

    /// Makes `path` (and missing parents) exist as a folder, without a lock: for places that get
    /// one file at a time (the explorer's export folder).
    public static func ensure(_ path: String, option: String) throws {
        let f = try OutputFolder(path, option: option)
        f.finish()
    }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }

    /// The command succeeded: keep the folder, release the lock.
    public func finish() {
        for c in created { CleanupRegistry.unregister(c.token) }
        created.removeAll()
        unlock()
    }

    /// The command failed: remove the folders this run created (when empty), release the lock.
    public func abandon() {
        for c in created.reversed() {
            _ = rmdir(c.path)
            CleanupRegistry.unregister(c.token)
        }
        created.removeAll()
        unlock()
    }

    deinit { abandon() }

    private func unlock() {
        if lockFD >= 0 { _ = close(lockFD); lockFD = -1 }
    }

    /// mkdir -p, remembering (and registering) each folder made.
    private func createMissing(_ refuse: (String) -> FileError) throws {
        var missing: [String] = []
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        while !p.isEmpty && p != "/" && p != "." {
            var st = stat()
            if stat(p, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFDIR else { throw refuse("\(p) is not a folder") }
                break
            }
            missing.append(p)
            let (parent, _) = OutputFile.split(p)
            p = parent
        }
        for dir in missing.reversed() {
            if mkdir(dir, 0o755) != 0 {
                if errno == EEXIST { continue }  // another run made it at the same moment: not ours to remove
                let why = FileError.reason()
                abandon()
                throw refuse("cannot create \(dir): " + why)
            }
            created.append((dir, CleanupRegistry.registerCreatedFolder(dir)))
        }
    }
}
