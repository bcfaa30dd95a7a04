// Paths that must not outlive a failed or interrupted run: temporary files (unlinked) and folders
// this run created (removed when still empty). Writers register them while they exist; the signal
// handlers (ProcessSignals) and the error exit remove whatever is left.
//
// The handler runs at any instruction of any thread, so the list is plain C memory behind a spin
// lock, and every mutation happens with all signals blocked on the mutating thread: a handler can
// then only run on another thread, where it waits the few instructions until the lock is free.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A growable array of C strings (nil = free slot) that a signal handler can walk.
struct SignalSafePathList {
    var items: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    var capacity = 0

    /// Stores a copy of `path`; returns its slot.
    mutating func add(_ path: String) -> Int {
        var slot = 0
        while slot < capacity, items?[slot] != nil { slot += 1 }
        if slot == capacity {
            let grown = max(16, capacity * 2)
            let fresh = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: grown)
            fresh.initialize(repeating: nil, count: grown)
            if let old = items {
                fresh.update(from: old, count: capacity)
                old.deallocate()
            }
            items = fresh
            capacity = grown
        }
        items?[slot] = strdup(path)
        return slot
    }

    mutating func remove(_ slot: Int) {
        guard slot >= 0, slot < capacity, let p = items?[slot] else { return }
        free(p)
        items?[slot] = nil
    }

    /// Applies `body` to every stored path (async-signal-safe when `body` is).
    func forEach(_ body: (UnsafeMutablePointer<CChar>) -> Void) {
        guard let items else { return }
        for i in 0 ..< capacity { if let p = items[i] { body(p) } }
    }
}

public enum CleanupRegistry {
    /// A registered path; give it back with `unregister` once the path is final (renamed into
    /// place, or no longer to be removed).
    public struct Token: Sendable, Hashable {
        let slot: Int
        let folder: Bool
    }

    /// Registers a temporary file, unlinked if the run fails or is killed.
    public static func registerTemporaryFile(_ path: String) -> Token {
        withLock { Token(slot: temporaryFiles.add(path), folder: false) }
    }

    /// Registers a folder this run created, removed (if empty) if the run fails or is killed.
    /// Register parents before children: removal goes in reverse order.
    public static func registerCreatedFolder(_ path: String) -> Token {
        withLock { Token(slot: createdFolders.add(path), folder: true) }
    }

    public static func unregister(_ token: Token) {
        withLock {
            if token.folder { createdFolders.remove(token.slot) } else { temporaryFiles.remove(token.slot) }
        }
    }

    /// Removes every registered temporary file, then every registered folder that is empty
    /// (newest first), and forgets them. Called on the error exit.
    public static func removeAll() {
        withLock {
            removeRegistered()
            for i in 0 ..< temporaryFiles.capacity { temporaryFiles.remove(i) }
            for i in 0 ..< createdFolders.capacity { createdFolders.remove(i) }
        }
    }

    /// The signal handler's part: unlink and rmdir only (both async-signal-safe). The lock is
    /// taken and kept: the process is about to end.
    static func removeAllFromSignalHandler() {
        acquire()
        removeRegistered()
    }

    /// Touches the globals so their lazy initialisation never happens inside a signal handler.
    static func prepare() { withLock {} }

    // MARK: - Storage

    nonisolated(unsafe) private static var temporaryFiles = SignalSafePathList()
    nonisolated(unsafe) private static var createdFolders = SignalSafePathList()
    private static let lock = Atomic<Bool>(false)

    private static func removeRegistered() {
        temporaryFiles.forEach { _ = unlink($0) }
        if let items = createdFolders.items {
            for i in stride(from: createdFolders.capacity - 1, through: 0, by: -1) {
                if let p = items[i] { _ = rmdir(p) }
            }
        }
    }

    private static func acquire() {
        while !lock.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            sched_yield()
        }
    }

    /// Runs `body` holding the lock with every signal blocked on this thread.
    private static func withLock<T>(_ body: () -> T) -> T {
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        acquire()
        let result = body()
        lock.store(false, ordering: .releasing)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        return result
    }

    /// Runs `body` (renames into place) and then forgets `tokens`, all under the lock with this
    /// thread's signals blocked: a signal handler on any thread waits until the group is done, so
    /// a group of outputs lands whole or, when the handler came first, not at all. `body` must not
    /// register or unregister anything.
    public static func finish<T>(_ tokens: [Token], _ body: () throws -> T) rethrows -> T {
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        acquire()
        defer {
            for t in tokens {
                if t.folder { createdFolders.remove(t.slot) } else { temporaryFiles.remove(t.slot) }
            }
            lock.store(false, ordering: .releasing)
            pthread_sigmask(SIG_SETMASK, &old, nil)
        }
        return try body()
    }
}
