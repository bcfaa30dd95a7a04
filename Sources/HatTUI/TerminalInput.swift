// The explorer's keyboard: bytes read straight from the terminal (stdin in raw mode) and decoded by
// KeyDecoder, with the escape delay as a poll timeout; window size changes, stop requests and
// continues arrive through a self-pipe the SIGWINCH, SIGTSTP and SIGCONT handlers write to (one
// byte each: which signal). ncurses only draws; it never reads input, so no byte it does not
// understand can stall it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

final class TerminalInput {
    /// How long an ESC waits for the rest of a sequence before it counts as the Esc key.
    static let escapeDelayMs: Int32 = 25

    enum Event: Equatable {
        case key(Key)
        case resized
        /// SIGTSTP from outside (`kill -TSTP`): the program should suspend itself as Ctrl-Z does.
        case suspend
        /// SIGCONT: the process was stopped (possibly without warning: SIGSTOP) and goes on; the
        /// screen may have been written over and the tty mode changed meanwhile.
        case continued
        /// The terminal is gone (hang-up, read error): the program should end.
        case closed
        /// The `wake` descriptor became readable (a background result is ready); drained.
        case woken
    }

    private let fd: Int32
    private var decoder = KeyDecoder()
    private var queue: [Key] = []
    private var previous: [(Int32, sigaction)] = []

    init(fd: Int32 = 0) {
        self.fd = fd
        if signalPipe.0 < 0 {
            var p: [Int32] = [-1, -1]
            if pipe(&p) == 0 {
                for d in p { _ = fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK); _ = fcntl(d, F_SETFD, FD_CLOEXEC) }
                signalPipe = (p[0], p[1])
            }
        }
        // Replaces ncurses' own SIGTSTP handler, which leaves the mouse on and knows nothing of
        // the pictures; the run loop suspends in an orderly way instead (Terminal.suspend).
        for sig in [SIGWINCH, SIGTSTP, SIGCONT] {
            var action = sigaction(), old = sigaction()
            action.__sigaction_handler.sa_handler = onSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, &old)
            previous.append((sig, old))
        }
    }

    /// Puts the previous handlers back.
    func stop() {
        for (sig, old) in previous { var o = old; sigaction(sig, &o, nil) }
        previous = []
    }

    /// Stops the process group as the terminal's Ctrl-Z would (the default action of SIGTSTP);
    /// returns once it is continued (`fg`), with this object's handler in place again.
    func stopProcessGroup() {
        var dfl = sigaction(), mine = sigaction()
        dfl.__sigaction_handler.sa_handler = SIG_DFL
        sigemptyset(&dfl.sa_mask)
        sigaction(SIGTSTP, &dfl, &mine)
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTSTP)
        pthread_sigmask(SIG_UNBLOCK, &set, &old)
        // The whole group, like the terminal's own Ctrl-Z: a wrapper script stops with us. In an
        // orphaned group (no shell with job control) the kernel drops it and nothing stops.
        let t0 = DispatchTime.now().uptimeNanoseconds
        kill(0, SIGTSTP)
        SuspendedTime.add(DispatchTime.now().uptimeNanoseconds - t0)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        sigaction(SIGTSTP, &mine, nil)
        // The continue that follows is handled here: drop its byte (and any Ctrl-Z typed ahead is
        // kept in the queue, as the terminal would have kept it).
        drainSignals()
        decoder = KeyDecoder()
    }

    /// Reads the self-pipe empty; returns the signals seen (their bytes).
    @discardableResult
    private func drainSignals() -> Set<UInt8> {
        var seen = Set<UInt8>()
        var sink = [UInt8](repeating: 0, count: 64)
        while true {
            let n = read(signalPipe.0, &sink, sink.count)
            if n <= 0 { break }
            for b in sink[0 ..< n] { seen.insert(b) }
        }
        return seen
    }

    /// Blocks until the next key, resize, stop request, continue or hang-up, or until `wake` (a
    /// non-blocking pipe's read end) has something to read.
    func next(wake: Int32? = nil) -> Event {
        while true {
            if !queue.isEmpty { return .key(queue.removeFirst()) }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signalPipe.0, events: Int16(POLLIN), revents: 0),
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
            if signalPipe.0 >= 0, fds[1].revents & Int16(POLLIN) != 0 {
                let seen = drainSignals()
                // A stop request first; a continue implies a redraw at the new size.
                if seen.contains(SignalByte.stop) { return .suspend }
                if seen.contains(SignalByte.continued) { return .continued }
                if seen.contains(SignalByte.resize) { return .resized }
            }
            if let wake, fds[2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(wake, &sink, sink.count) > 0 {}
                return .woken
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

/// How long the process has been suspended (Ctrl-Z, SIGTSTP) so far: a timing that spans a
/// suspension leaves it out (the live run's "ran in" counted the minutes the shell had the terminal).
/// A stop hatscope never sees (SIGSTOP) cannot be counted.
enum SuspendedTime {
    private static let total = Atomic<UInt64>(0)
    static var nanoseconds: UInt64 { total.load(ordering: .relaxed) }
    static func add(_ ns: UInt64) { total.add(ns, ordering: .relaxed) }
}

/// What the handler writes for each signal.
private enum SignalByte {
    static let resize = UInt8(ascii: "W"), stop = UInt8(ascii: "Z"), continued = UInt8(ascii: "C")
}

/// Read end and write end of the self-pipe the signal handlers write to (one per process).
nonisolated(unsafe) private var signalPipe: (Int32, Int32) = (-1, -1)

private func onSignal(_ sig: Int32) {
    let saved = errno
    var byte = sig == SIGTSTP ? SignalByte.stop : sig == SIGCONT ? SignalByte.continued : SignalByte.resize
    _ = write(signalPipe.1, &byte, 1)
    errno = saved
}
