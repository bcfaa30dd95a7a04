// Messages to the standard streams with write(2). Foundation's FileHandle traps (SIGILL) when the
// descriptor is closed (`2>&-`) or the write fails (`2>/dev/full`); a message that cannot be shown
// must never turn an orderly error into a crash.
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum StandardStreams {
    /// Writes `text` to stderr. Failures (closed descriptor, full device, broken pipe) are ignored:
    /// there is nowhere left to report them.
    public static func error(_ text: String) {
        writeAll(2, Array(text.utf8))
    }

    /// Writes `bytes` to descriptor `fd`, retrying on EINTR and short writes; false on failure.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return true }
            var left = raw.count
            while left > 0 {
                let n = write(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                p += n
                left -= n
            }
            return true
        }
    }

    /// True when descriptor `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Flushes stdout (C stdio, which `print` writes through) and reports whether everything
    /// printed so far reached it: false on a full disk, a closed descriptor or a broken pipe.
    public static func flushOutput() -> Bool {
        fflush(stdout) == 0 && ferror(stdout) == 0
    }
}
