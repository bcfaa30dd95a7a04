// The one question-and-answer exchange with the terminal, before ncurses takes the keyboard:
// input switched to raw without echo, the batch written, answers read until the closing status
// report or a short timeout, the terminal's modes put back. Answers never reach the key stream:
// everything read here is parsed and dropped, and input still unread after a timeout is flushed.
import Foundation

public enum TerminalExchange {
    /// How long a terminal may take to answer the batch. The status report ends the wait as soon
    /// as it arrives, so only a terminal that answers nothing waits this long.
    public static let timeoutMilliseconds = 300

    /// Writes `query` to `output` and parses what comes back on `input` until the status report
    /// (CSI 0 n) or `timeout`. Returns nil when the terminal modes cannot be read (not a tty).
    public static func ask(_ query: [UInt8], input: Int32 = 0, output: Int32 = 1,
                           timeout: Int = timeoutMilliseconds) -> TerminalAnswers? {
        var parser = TerminalAnswerParser()
        return ask(query, parser: &parser, input: input, output: output, timeout: timeout) ? parser.answers : nil
    }

    /// The same, continuing an existing parser (a second question after the batch).
    public static func ask(_ query: [UInt8], parser: inout TerminalAnswerParser, input: Int32 = 0, output: Int32 = 1,
                           timeout: Int = timeoutMilliseconds) -> Bool {
        var saved = termios()
        guard tcgetattr(input, &saved) == 0 else { return false }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ECHONL | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0; cc[Int(VTIME)] = 0
        }
        guard tcsetattr(input, TCSANOW, &raw) == 0 else { return false }
        defer { var s = saved; tcsetattr(input, TCSANOW, &s) }

        // A status report seen by an earlier question on this parser does not end this one.
        parser.expectStatus()
        guard writeAll(query, to: output) else { return true }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout)) * 1_000_000
        var buf = [UInt8](repeating: 0, count: 4096)
        while !parser.answers.statusReport || parser.unfinished > 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { break }
            var fds = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(1, (deadline - now) / 1_000_000))
            let r = poll(&fds, 1, ms)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { break }
            let n = read(input, &buf, buf.count)
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n > 0 else { break }
            parser.feed(Array(buf[0..<n]))
        }
        if !parser.answers.statusReport {
            // Late answers would arrive as keys: drop whatever is already queued.
            tcflush(input, TCIFLUSH)
        }
        return true
    }

    /// Asks for a status report and waits for it (at most `timeout` ms): the terminal has then
    /// read and handled everything written before, pictures included. For benchmarks only; the
    /// caller owns the keyboard meanwhile.
    public static func waitForTerminal(input: Int32 = 0, output: Int32 = 1, timeout: Int = 2000) -> Bool {
        var parser = TerminalAnswerParser()
        return ask(Array(TerminalQueries.status.utf8), parser: &parser, input: input, output: output, timeout: timeout)
            && parser.answers.statusReport
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return false }
            off += n
        }
        return true
    }

    /// The cell size from the kernel's window size (ws_xpixel / columns), when the terminal
    /// filled it in.
    public static func kernelCellSize(fd: Int32 = 1) -> (width: Int, height: Int)? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0,
              ws.ws_xpixel > 0, ws.ws_ypixel > 0 else { return nil }
        let w = Int(ws.ws_xpixel) / Int(ws.ws_col), h = Int(ws.ws_ypixel) / Int(ws.ws_row)
        return w > 0 && h > 0 ? (w, h) : nil
    }
}
