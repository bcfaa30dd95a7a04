// kitty's local media: the picture's raw RGB goes into a temporary file under /tmp whose name
// contains "tty-graphics-protocol" (t=t; the protocol's rule for files the terminal may read
// and then delete), and only the name travels through the tty. A kitty on the same machine reads
// a 1000 x 1000 picture this way far faster than 4 MB of base64; over SSH the probe fails and
// pictures go through the tty. A POSIX shared-memory object (t=s, unlinked by the terminal after
// reading) was measured no faster than the file (README, Performance): only the developer tool's
// benchmark uses it (`--kitty-transmission shm`).
import Foundation

enum KittyFiles {
    static let directory = "/tmp"
    nonisolated(unsafe) private static var counter = 0

    static func path(_ tag: String) -> String {
        "\(directory)/tty-graphics-protocol-hatscope-\(getpid())-\(tag)"
    }

    /// Shared-memory object names: one path component with a leading slash.
    static func sharedName(_ tag: String) -> String { "/tty-graphics-protocol-hatscope-\(getpid())-\(tag)" }

    /// A file of one RGB pixel for the detection query; nil when it cannot be written.
    static func probe() -> String? {
        let p = path("probe")
        return write([0, 0, 0], to: p) ? p : nil
    }

    /// Writes `bytes` to a new file for the terminal to read; nil on failure (disk full...).
    static func file(for bytes: [UInt8]) -> String? {
        counter += 1
        let p = path("\(counter)")
        return write(bytes, to: p) ? p : nil
    }

    /// Writes `bytes` to a new shared-memory object for the terminal to read; nil on failure.
    static func shared(for bytes: [UInt8]) -> String? {
        counter += 1
        let n = sharedName("\(counter)")
        return writeShared(bytes, name: n) ? n : nil
    }

    /// Created exclusively and readable only by us: nobody can plant or read our pictures.
    static func write(_ bytes: [UInt8], to p: String) -> Bool {
        let fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return TerminalExchange.writeAll(bytes, to: fd)
    }

    /// The same for a shared-memory object (exclusive, mode 0600); removed again on failure.
    static func writeShared(_ bytes: [UInt8], name: String) -> Bool {
        let fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard ftruncate(fd, off_t(bytes.count)) == 0, TerminalExchange.writeAll(bytes, to: fd) else {
            shm_unlink(name)
            return false
        }
        return true
    }

    /// Removes a file the terminal did not take (it deletes those it read).
    static func remove(_ p: String) { unlink(p) }

    /// Removes a shared-memory object the terminal did not take.
    static func removeShared(_ n: String) { shm_unlink(n) }
}
