// What happens when a signal ends the process: the terminal is put back (saved tty mode, then the
// bytes that leave full-screen mode), temporary files and freshly created folders are removed
// (CleanupRegistry), a crash says so in one line, and the signal is raised again with its default
// action so the exit status tells what happened. Installed by the executable at start (and by the
// terminal when it takes over the screen); library code never installs it behind a caller's back.
//
// These handlers also replace the Swift runtime's crash handler, whose interactive backtrace
// prompt ("Press space to interact", up to 30 s) must never stop a user's terminal.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ProcessSignals {
    /// Signals that mean the program itself failed: a one-line report before the default action.
    public static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS]

    /// Every other signal whose default action ends the process (SIGKILL cannot be caught).
    public static var terminatingSignals: [Int32] {
        var list: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
                             SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR]
        #if os(Linux)
        list.append(SIGSTKFLT)
        let lo = __libc_current_sigrtmin(), hi = __libc_current_sigrtmax()
        if lo <= hi { list += Array(lo ... hi) }
        #endif
        return list
    }

    /// Installs the handlers once. Signals the parent left ignored (nohup's SIGHUP, an ignored
    /// SIGPIPE) stay ignored; crash signals are always taken over.
    public static func install() {
        if installed { return }
        installed = true
        CleanupRegistry.prepare()
        for sig in crashSignals + terminatingSignals where sig > 0 && sig < 65 {
            messages[Int(sig)] = crashSignals.contains(sig) ? strdup(crashLine(sig)) : nil
        }
        // A stack of its own, so a stack overflow (SIGSEGV) on the main thread still reaches the handler.
        let size = 1 << 16
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        stack.ss_size = size
        stack.ss_flags = 0
        sigaltstack(&stack, nil)
        for sig in crashSignals { setHandler(sig) }
        for sig in terminatingSignals {
            var current = sigaction()
            sigaction(sig, nil, &current)
            if let h = current.__sigaction_handler.sa_handler, unsafeBitCast(h, to: Int.self) == 1 { continue }  // SIG_IGN
            setHandler(sig)
        }
    }

    /// The terminal to put back if a signal ends the process: the descriptor whose tty mode the
    /// program changed and that mode from before, and the descriptor to write `leave` to (the
    /// bytes that end full-screen mode and mouse reports). Replaces any earlier one.
    public static func setTerminalRestore(modeFD: Int32, mode: termios, outputFD: Int32, leave: [UInt8]) {
        blockingSignals {
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, leave.count))
            buffer.initialize(from: leave, count: leave.count)
            restoreBytes?.deallocate()
            restoreBytes = buffer
            restoreCount = leave.count
            restoreMode = mode
            restoreOutputFD = outputFD
            restoreFD = modeFD
        }
    }

    /// Nothing to restore any more (the terminal was given back in an orderly way).
    public static func clearTerminalRestore() {
        blockingSignals { restoreFD = -1 }
    }

    /// Puts the terminal back now (also what the handlers do). Safe to call more than once.
    public static func restoreTerminal() {
        blockingSignals { restoreTerminalUnsafe() }
    }

    // MARK: - Handler state (plain memory: read inside signal handlers)

    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var messages = [UnsafeMutablePointer<CChar>?](repeating: nil, count: 65)
    nonisolated(unsafe) private static var restoreFD: Int32 = -1
    nonisolated(unsafe) private static var restoreOutputFD: Int32 = 1
    nonisolated(unsafe) private static var restoreMode = termios()
    nonisolated(unsafe) private static var restoreBytes: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) private static var restoreCount = 0

    private static func setHandler(_ sig: Int32) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = processSignalHandler
        sigfillset(&action.sa_mask)
        action.sa_flags = SA_ONSTACK
        sigaction(sig, &action, nil)
    }

    private static func crashLine(_ sig: Int32) -> String {
        let name = signalName(sig)
        return "hatscope: internal error (\(name)): this is a bug in hatscope; please report it with the command that caused it\n"
    }

    static func signalName(_ sig: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGILL: "SIGILL",
                                      SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGSYS: "SIGSYS"]
        return names[sig] ?? "signal \(sig)"
    }

    /// Restores the tty mode and writes the leave bytes; only async-signal-safe calls.
    fileprivate static func restoreTerminalUnsafe() {
        let fd = restoreFD
        guard fd >= 0 else { return }
        restoreFD = -1
        var mode = restoreMode
        _ = tcsetattr(fd, TCSANOW, &mode)
        if let bytes = restoreBytes, restoreCount > 0 { _ = write(restoreOutputFD, bytes, restoreCount) }
    }

    fileprivate static func handle(_ sig: Int32) {
        restoreTerminalUnsafe()
        CleanupRegistry.removeAllFromSignalHandler()
        if sig > 0, sig < 65, let line = messages[Int(sig)] { _ = write(2, line, strlen(line)) }
        signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(sig)
    }

    private static func blockingSignals(_ body: () -> Void) {
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        body()
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }
}

/// The C-convention entry point of every handler.
private func processSignalHandler(_ sig: Int32) {
    ProcessSignals.handle(sig)
}
