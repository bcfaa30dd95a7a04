// The explorer's keyboard: bytes read straight from the terminal (stdin in raw mode) and decoded by
// KeyDecoder, with the escape delay as a poll timeout; window size changes arrive through a
// self-pipe written by the SIGWINCH handler. ncurses only draws; it never reads input, so no byte
// it does not understand can stall it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class TerminalInput {
    /// How long an ESC waits for the rest of a sequence before it counts as the Esc key.
    static let escapeDelayMs: Int32 = 25

    enum Event: Equatable {
        case key(Key)
        case resized
        /// The terminal is gone (hang-up, read error): the program should end.
        case closed
        /// The `wake` descriptor became readable (a background result is ready); drained.
        case woken
    }

    private let fd: Int32
    private var decoder = KeyDecoder()
    private var queue: [Key] = []
    private var previousWinch = sigaction()

    init(fd: Int32 = 0) {
        self.fd = fd
        if resizePipe.0 < 0 {
            var p: [Int32] = [-1, -1]
            if pipe(&p) == 0 {
                for d in p { _ = fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK); _ = fcntl(d, F_SETFD, FD_CLOEXEC) }
                resizePipe = (p[0], p[1])
            }
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = onWindowChange
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGWINCH, &action, &previousWinch)
    }

    /// Puts the previous SIGWINCH handler back.
    func stop() {
        sigaction(SIGWINCH, &previousWinch, nil)
    }

    /// Blocks until the next key, resize or hang-up, or until `wake` (a non-blocking pipe's read
    /// end) has something to read.
    func next(wake: Int32? = nil) -> Event {
        while true {
            if !queue.isEmpty { return .key(queue.removeFirst()) }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: resizePipe.0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake ?? -1, events: Int16(POLLIN), revents: 0)]
            // A negative descriptor is skipped by poll.
            let n = poll(&fds, 3, decoder.isPending ? Self.escapeDelayMs : -1)
            if n < 0 {
                if errno == EINTR { continue }
                return .closed
            }
            if n == 0 {
                queue += decoder.timeout()
                continue
            }
            if let wake, fds[2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(wake, &sink, sink.count) > 0 {}
                return .woken
            }
            if resizePipe.0 >= 0, fds[1].revents & Int16(POLLIN) != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(resizePipe.0, &sink, sink.count) > 0 {}
                return .resized
            }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                var buffer = [UInt8](repeating: 0, count: 256)
                let got = read(fd, &buffer, buffer.count)
                if got < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if got <= 0 { return .closed }
                for b in buffer[0 ..< got] { queue += decoder.feed(b) }
            }
        }
    }
}

/// Read end and write end of the self-pipe SIGWINCH writes to (one per process).
nonisolated(unsafe) private var resizePipe: (Int32, Int32) = (-1, -1)

private func onWindowChange(_: Int32) {
    let saved = errno
    var byte: UInt8 = 1
    _ = write(resizePipe.1, &byte, 1)
    errno = saved
}
