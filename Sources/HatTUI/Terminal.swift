// The only file that talks to ncursesw: screen setup and restore, colour tiers and colour pairs,
// and copying a CellBuffer to the screen (werase, one wnoutrefresh, one doupdate per frame).
// Input does not go through ncurses: TerminalInput reads the raw bytes and KeyDecoder turns them
// into keys. The terminal runs in raw mode (no flow control, no signal keys: Ctrl-S cannot freeze
// it, Ctrl-C arrives as a key) and ProcessSignals puts it back if any signal ends the process.
// Everything above this file works on plain values.
import CNCursesW
import Foundation
import HatSystem

public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
}

/// How the explorer wants the terminal set up.
public struct TerminalOptions: Sendable {
    /// "auto", "truecolor", "256", "16", "8" or "mono".
    public var color: String
    public var mouse: Bool
    /// "auto", "kitty", "sixel", "iterm2" or "blocks".
    public var graphics: String
    /// How kitty pictures travel; nil: the fastest the terminal answered for (benchmarks force one).
    public var kittyTransmission: KittyTransmission?
    public init(color: String = "auto", mouse: Bool = true, graphics: String = "auto",
                kittyTransmission: KittyTransmission? = nil) {
        self.color = color; self.mouse = mouse; self.graphics = graphics; self.kittyTransmission = kittyTransmission
    }
    /// The values `color` takes.
    public static let colorChoices = ["auto", "truecolor", "256", "16", "8", "mono"]
}

public final class Terminal {
    public let tier: ColorTier
    /// Whether the locale's character set is UTF-8; if not, frames are drawn in ASCII (ASCIICells).
    public let utf8: Bool
    /// The side panel's `display` line: protocol, colours, and ASCII where the locale asks for it.
    public var displayLabel: String {
        if utf8 { return display.label }
        return display.graphics.graphics.isPixels ? display.label + ", ASCII text"
            : display.label.replacingOccurrences(of: "half blocks", with: "ASCII cells")
    }
    /// Which terminfo entry is in use ("xterm-direct" when true colour was switched on).
    public let terminalName: String
    /// What detection decided (DisplaySetup.swift): picture protocol, colour tier, reasons.
    public let display: DisplaySetup
    private let graphics: GraphicsOutput?
    /// How kitty pictures travel (nil: no kitty pictures).
    public var kittyTransmission: KittyTransmission? {
        graphics?.choice.graphics == .kitty ? graphics?.transmission : nil
    }
    private var previous: CellBuffer? = nil
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private var pairs: [UInt64: Int32] = [:]
    private var nextPair: Int32 = 1
    private let pairCapacity: Int
    private var indexCache: [CellColor: Int32] = [:]
    // Row scratch buffers for hs_put_row: [width].
    private var rowChars: [wchar_t] = []
    private var rowAttrs: [attr_t] = []
    private var rowPairs: [Int32] = []

    private let input: TerminalInput

    public static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// Refuses, before anything is loaded, what cannot show a screen: no terminal on stdin and
    /// stdout, no TERM, or a TERM the system's terminfo does not know. `alternative` says what to
    /// use instead.
    public static func checkUsable(command: String, alternative: String?) throws {
        guard isInteractive else {
            throw TerminalError(description: "\(command) needs a terminal (stdin and stdout must be a TTY)"
                                + (alternative.map { "; " + $0 } ?? ""))
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard !term.isEmpty else {
            throw TerminalError(description: "TERM is not set, so the terminal's type is unknown; set it (for example export TERM=xterm-256color) and try again")
        }
        guard term != "dumb" else {
            throw TerminalError(description: "the terminal type \"dumb\" (TERM) cannot move the cursor; run \(command) in a full terminal"
                                + (alternative.map { " or " + $0.replacingOccurrences(of: "to write figures without one ", with: "") } ?? ""))
        }
        guard terminfoExists(term) else {
            throw TerminalError(description: "the terminal type \"\(UserMessage.escaped(term))\" (TERM) is not in this system's terminfo database; set TERM to a known type such as xterm-256color, or install ncurses-term")
        }
    }

    /// Takes over the screen. Call only after everything that can fail without a screen has run.
    public init(options: TerminalOptions) throws {
        guard Terminal.isInteractive else {
            throw TerminalError(description: "not a terminal (stdin/stdout are not a TTY)")
        }
        // The tty mode to return to, whatever happens next.
        var saved = termios()
        tcgetattr(0, &saved)
        ProcessSignals.install()
        // ncursesw needs the user's character encoding (LC_CTYPE) to draw wide characters. Only
        // that category: LC_ALL would also switch LC_NUMERIC, and C formatting in the rest of the
        // process would print decimal commas under some locales.
        setlocale(LC_CTYPE, "")
        utf8 = String(cString: nl_langinfo(nl_item(CODESET))) == "UTF-8"
        let env = ProcessInfo.processInfo.environment
        // Questions to the terminal go out before ncurses reads the keyboard.
        let setup = DisplayDetection.detect(graphicsRequest: options.graphics, colorRequest: options.color,
                                            environment: env, terminfoColors: Terminal.terminfoColors)
        display = setup
        var name = env["TERM"] ?? "xterm"
        var scr: OpaquePointer? = nil
        // ncurses installs its own SIGTSTP and SIGWINCH handlers in newterm; `stop` puts these
        // back, so a Ctrl-Z after the screen is given back (q while a run is finishing) stops the
        // process plainly instead of ncurses taking the screen again on fg.
        signalsBefore = [SIGTSTP, SIGWINCH, SIGCONT].map { sig in
            var a = sigaction()
            sigaction(sig, nil, &a)
            return (sig, a)
        }
        let out = fdopen(1, "w"), inp = fdopen(0, "r")
        if let entry = setup.terminfoEntry {
            scr = newterm(entry, out, inp)
            if scr != nil { name = entry }
        }
        if scr == nil { scr = newterm(nil, out, inp) }
        guard let s = scr else {
            throw TerminalError(description: "cannot set up the terminal \"\(UserMessage.escaped(name))\" (TERM); set TERM to your terminal's type, e.g. xterm-256color")
        }
        set_term(s)
        guard hs_can_address_cursor() == 1 else {
            endwin()
            delscreen(s)
            throw TerminalError(description: "the terminal \"\(name)\" cannot move the cursor; run explore in a full terminal or use `hatscope export`")
        }
        screen = s
        guard let win = hs_stdscr() else {
            endwin()
            throw TerminalError(description: "ncurses gave no screen window")
        }
        window = win
        terminalName = name

        // Raw: no line editing, no echo, no flow control (Ctrl-S), no signal keys (Ctrl-C, Ctrl-\,
        // Ctrl-Z arrive as bytes). The mouse reports press, release and wheel in SGR form (1006),
        // falling back to the old X10 form on terminals without it.
        raw(); noecho(); nonl()
        curs_set(0)
        // Until the pictures are set up: the tty mode and the main screen.
        var leave = Array(Terminal.mouseOff.utf8)
        for cap in ["rmcup", "cnorm", "sgr0"] { leave += Terminal.capability(cap) }
        // Without an alternate screen (vt100, the Linux console) the last frame would stay under
        // the shell's prompt: it is cleared instead.
        leftScreen = Terminal.capability("rmcup").isEmpty ? Terminal.capability("clear") : []
        leave += leftScreen
        ProcessSignals.setTerminalRestore(modeFD: 0, mode: saved, outputFD: 1, leave: leave)
        Terminal.registerExitHook()
        input = TerminalInput(fd: 0)

        // Colour tier: what detection decided, capped by what the chosen entry can send.
        var colors = 0
        if has_colors() && setup.tier != .mono {
            start_color()
            colors = Int(hs_colors())
        }
        let possible: ColorTier = colors >= 1 << 24 ? .truecolor : colors >= 256 ? .palette256
            : colors >= 16 ? .ansi16 : colors >= 8 ? .ansi8 : .mono
        let order = ColorTier.allCases
        tier = order[max(order.firstIndex(of: setup.tier) ?? 0, order.firstIndex(of: possible) ?? 0)]
        pairCapacity = max(0, Int(hs_color_pairs()) - 1)

        var pictureLeaving: [UInt8] = []
        var sixelSetup: [UInt8] = []
        if setup.graphics.graphics.isPixels {
            // Pictures live in cells: ncurses must not shift them sideways with insert/delete
            // character, nor up or down with insert/delete line or scrolling regions (its
            // screen starts with both allowed; a side panel that grew by a few lines moved a
            // sixel picture down and left its old top behind).
            idcok(window, false)
            idlok(window, false)
            graphics = GraphicsOutput(choice: setup.graphics, env: env, transmission: options.kittyTransmission)
            pictureLeaving = graphics?.removeAll ?? []
            if setup.graphics.setSixelRegisters {
                sixelSetup = TerminalQueries.setSixelRegisters(setup.graphics.sixelColors)
                _ = TerminalExchange.writeAll(sixelSetup, to: 1)
                pictureLeaving += TerminalQueries.resetSixelRegisters
            }
            LeavingBytes.set(pictureLeaving)
        } else {
            graphics = nil
        }
        // What a signal writes when it ends the process: pictures deleted while still on the
        // alternate screen, then mouse off and the main screen back.
        ProcessSignals.setTerminalRestore(modeFD: 0, mode: saved, outputFD: 1, leave: pictureLeaving + leave)
        shellMode = saved
        signalLeave = pictureLeaving + leave
        self.sixelSetup = sixelSetup

        mouse = options.mouse
        if mouse { StandardStreams.writeAll(1, Array(Terminal.mouseOn.utf8)) }
    }

    private let mouse: Bool
    private var stopped = false
    /// Written after endwin: `clear` where the terminal has no alternate screen, else nothing.
    private let leftScreen: [UInt8]
    /// The job-control and resize handlers from before ncurses started (restored by `stop`).
    private let signalsBefore: [(Int32, sigaction)]
    /// The tty mode from before, and what a signal that ends the process writes (ProcessSignals).
    private let shellMode: termios
    private let signalLeave: [UInt8]
    /// What gives a sixel terminal its 256 colour registers (empty: nothing to set).
    private let sixelSetup: [UInt8]
    /// Mouse reports on (press, release, wheel, and motion while a button is held: 1002; SGR
    /// 1006 form where the terminal has it) and off.
    static let mouseOn = "\u{1b}[?1000h\u{1b}[?1002h\u{1b}[?1006h",
               mouseOff = "\u{1b}[?1006l\u{1b}[?1002l\u{1b}[?1000l"

    deinit { stop() }

    /// Gives the screen back (idempotent).
    public func stop() {
        guard !stopped else { return }
        stopped = true
        input.stop()
        leaveScreen()
        for (sig, a) in signalsBefore { var old = a; sigaction(sig, &old, nil) }
    }

    /// A terminfo string capability's bytes (empty when the terminal has none).
    static func capability(_ name: String) -> [UInt8] {
        guard let p = tigetstr(name), Int(bitPattern: p) != -1 else { return [] }
        return Array(String(cString: p).utf8)
    }

    /// An exit() while the screen is up (an error path) still gives it back.
    private static func registerExitHook() {
        guard !exitHookRegistered else { return }
        exitHookRegistered = true
        atexit { ProcessSignals.restoreTerminal() }
    }
    nonisolated(unsafe) private static var exitHookRegistered = false

    public var size: (width: Int, height: Int) { (Int(hs_cols()), Int(hs_lines())) }

    /// Colours in terminfo entry `entry`, nil when there is no such entry.
    static func terminfoColors(_ entry: String) -> Int? {
        guard !entry.isEmpty, terminfoExists(entry) else { return nil }
        let n = hs_terminfo_colors(entry)
        return n < 0 ? nil : Int(n)
    }

    /// How the picture area is drawn: real pixels with the detected cell size, or half blocks.
    public var pictureMode: PictureMode {
        display.graphics.graphics.isPixels
            ? .pixels(cellWidth: display.graphics.cellWidth, cellHeight: display.graphics.cellHeight,
                      maxWidth: display.graphics.maxPictureWidth, maxHeight: display.graphics.maxPictureHeight) : .blocks
    }

    static func terminfoExists(_ entry: String) -> Bool {
        let env = ProcessInfo.processInfo.environment
        var dirs: [String] = []
        if let t = env["TERMINFO"] { dirs.append(t) }
        if let h = env["HOME"] { dirs.append(h + "/.terminfo") }
        if let d = env["TERMINFO_DIRS"] { dirs += d.split(separator: ":").map(String.init) }
        dirs += ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo"]
        let first = String(entry.prefix(1))
        let hex = String(format: "%02x", Int(entry.utf8.first ?? 0))
        return dirs.contains { d in
            FileManager.default.fileExists(atPath: "\(d)/\(first)/\(entry)")
                || FileManager.default.fileExists(atPath: "\(d)/\(hex)/\(entry)")
        }
    }

    // MARK: - Input

    /// Blocks for the next key, resize or mouse event. A terminal that went away reads as
    /// `.interrupt`, so every loop ends.
    public func readKey() -> Key {
        switch readEvent(wake: nil) {
        case let .key(k): return k
        case .woken: return .unknown
        }
    }

    /// What woke the explorer: a key (resizes and hang-ups included, as in `readKey`), or
    /// `wake` (a non-blocking pipe a background task writes to) becoming readable.
    public enum Event: Equatable { case key(Key), woken }

    /// `readKey`, also returning when `wake` has something to read. Ctrl-Z and SIGTSTP suspend
    /// the program here (`suspend`), and a continue after any stop takes the screen again; both
    /// then read as a resize, so every loop redraws the whole screen at its current size.
    public func readEvent(wake: Int32?) -> Event {
        switch input.next(wake: wake) {
        case .woken:
            return .woken
        case .key(.suspend), .suspend:
            suspend()
            return .key(currentSize())
        case .continued:
            leaveScreen()
            enterScreen()
            return .key(currentSize())
        case let .key(k):
            return .key(k)
        case .resized:
            return .key(currentSize())
        case .closed:
            return .key(.interrupt)
        }
    }

    /// The window's size from the kernel, ncurses told of it.
    private func currentSize() -> Key {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 {
            resizeterm(Int32(ws.ws_row), Int32(ws.ws_col))
        }
        return .resize(width: Int(hs_cols()), height: Int(hs_lines()))
    }

    // MARK: - Suspend and continue

    /// Ctrl-Z or SIGTSTP: the terminal is given back as on quitting (pictures deleted, mouse off,
    /// main screen, cursor, the shell's tty mode), the process group stops as for any program the
    /// shell suspends, and after `fg` the screen is taken again.
    private func suspend() {
        leaveScreen()
        input.stopProcessGroup()
        enterScreen()
    }

    /// Gives the screen back (`stop`, and while suspended, `enterScreen` takes it again).
    private func leaveScreen() {
        LeavingBytes.write()   // pictures deleted while still on the alternate screen
        if mouse { StandardStreams.writeAll(1, Array(Terminal.mouseOff.utf8)) }
        endwin()
        StandardStreams.writeAll(1, leftScreen)
        // The terminal is the shell's again: a signal has nothing to put back.
        ProcessSignals.clearTerminalRestore()
    }

    /// After `leaveScreen` (or a stop hatscope never saw: SIGSTOP, SIGTTOU, after which the
    /// shell may have written over the screen and put its own tty mode back): the next draw
    /// repaints everything (ncurses re-enters its mode and the alternate screen there) and sends
    /// every picture again.
    private func enterScreen() {
        ProcessSignals.setTerminalRestore(modeFD: 0, mode: shellMode, outputFD: 1, leave: signalLeave)
        if !sixelSetup.isEmpty { _ = TerminalExchange.writeAll(sixelSetup, to: 1) }
        if mouse { StandardStreams.writeAll(1, Array(Terminal.mouseOn.utf8)) }
        graphics?.forgetAll()
        previous = nil
        clearok(window, true)
    }

    // MARK: - Output

    /// Colour number of an (already tier-snapped) colour.
    private func colorIndex(_ c: CellColor) -> Int32 {
        if let i = indexCache[c] { return i }
        let i: Int32
        switch tier {
        case .truecolor:
            // 5 bits per channel (low bits copied from the high ones so 0 and 255 stay exact):
            // neighbouring cells then often share a colour, so ncurses sends far fewer colour
            // changes, and pairs stay bounded. 32768 colours still look continuous.
            func q(_ v: UInt8) -> Int32 { Int32(v & 0xF8 | v >> 5) }
            i = q(c.r) << 16 | q(c.g) << 8 | q(c.b)
        case .palette256: i = Int32(Palette.index256(c))
        case .ansi16: i = Int32(Palette.indexANSI(c, count: 16))
        case .ansi8: i = Int32(Palette.indexANSI(c, count: 8))
        case .mono: i = -1
        }
        if indexCache.count > 1 << 16 { indexCache.removeAll() }
        indexCache[c] = i
        return i
    }

    /// Pair numbers for every cell of the frame. New pairs are only ever initialised with numbers
    /// not used on screen in this frame: when the table would overflow it is reset first (rare:
    /// a frame has at most width * height styles, and colours are quantised). Two caches keep
    /// this to about one hash lookup per cell: raw (fg, bg) RGB -> pair, and the terminal's
    /// (fg index, bg index) -> pair.
    private var pairOfRaw: [UInt64: Int32] = [:]
    private func pairNumbers(_ buffer: CellBuffer) -> [Int32] {
        let n = buffer.cells.count
        guard tier != .mono, pairCapacity > 0 else { return [Int32](repeating: 0, count: n) }
        @inline(__always) func raw(_ c: Cell) -> UInt64 {
            UInt64(c.fg.r) << 40 | UInt64(c.fg.g) << 32 | UInt64(c.fg.b) << 24
                | UInt64(c.bg.r) << 16 | UInt64(c.bg.g) << 8 | UInt64(c.bg.b)
        }
        func indexKey(_ c: Cell) -> UInt64 {
            UInt64(UInt32(bitPattern: colorIndex(c.fg))) << 32 | UInt64(UInt32(bitPattern: colorIndex(c.bg)))
        }
        var out = [Int32](repeating: 0, count: n)
        var misses: [UInt64: UInt64] = [:]          // raw -> index key
        buffer.cells.withUnsafeBufferPointer { cells in
            for i in 0..<n {
                let k = raw(cells[i])
                if let p = pairOfRaw[k] { out[i] = p } else { out[i] = -1; if misses[k] == nil { misses[k] = indexKey(cells[i]) } }
            }
        }
        guard !misses.isEmpty else { return out }
        var fresh = Set(misses.values.filter { pairs[$0] == nil })
        if pairs.count + fresh.count > pairCapacity {
            // Start the table over; every cell of this frame gets a pair from the new table.
            pairs.removeAll(); pairOfRaw.removeAll(); nextPair = 1
            misses.removeAll()
            for c in buffer.cells { let k = raw(c); if misses[k] == nil { misses[k] = indexKey(c) } }
            fresh = Set(misses.values)
            for i in 0..<n { out[i] = -1 }
        }
        for k in fresh where Int(nextPair) <= pairCapacity {
            init_extended_pair(nextPair, Int32(bitPattern: UInt32(k >> 32)), Int32(bitPattern: UInt32(k & 0xffff_ffff)))
            pairs[k] = nextPair
            nextPair += 1
        }
        if pairOfRaw.count > 1 << 18 { pairOfRaw.removeAll() }
        for (r, k) in misses { pairOfRaw[r] = pairs[k] ?? 0 }
        for i in 0..<n where out[i] < 0 { out[i] = pairOfRaw[raw(buffer.cells[i])] ?? 0 }
        return out
    }

    /// Copies a frame to the screen: erase, all cells, one wnoutrefresh and one doupdate; then
    /// the pictures over the cells left blank for them (GraphicsOutput).
    /// Returns the number of picture bytes written (0: no picture was sent this frame).
    @discardableResult
    public func draw(_ buffer: CellBuffer, pictures: [FramePicture] = []) -> Int {
        guard let g = graphics else {
            drawCells(buffer)
            return 0
        }
        let step = g.frame(pictures, buffer: buffer, previous: previous)
        if step.clear { clearok(window, true) }
        drawCells(buffer)
        if !step.bytes.isEmpty { _ = TerminalExchange.writeAll(step.bytes, to: 1) }
        previous = buffer
        return step.bytes.count
    }

    /// Whether a non-blank line of `b` is a line that stood on another row of `a` (and its own row
    /// changed): what ncurses would scroll into place.
    static func linesMoved(from a: CellBuffer?, to b: CellBuffer) -> Bool {
        guard let a, a.width == b.width, a.height == b.height, b.width > 0 else { return false }
        func row(_ buf: CellBuffer, _ y: Int) -> ArraySlice<Cell> { buf.cells[y * buf.width ..< (y + 1) * buf.width] }
        var old: [Int: [Int]] = [:]                 // hash of a row of `a` -> its rows
        for y in 0 ..< a.height { old[row(a, y).hashValue, default: []].append(y) }
        for y in 0 ..< b.height {
            let line = row(b, y)
            guard line != row(a, y), let first = line.first, !line.allSatisfy({ $0 == first }) else { continue }
            if old[line.hashValue]?.contains(where: { $0 != y && row(a, $0) == line }) == true { return true }
        }
        return false
    }

    /// Whether `a` and `b` have the same cells inside `rect`.
    static func sameCells(_ a: CellBuffer?, _ b: CellBuffer, in rect: CellRect) -> Bool {
        guard let a, a.width == b.width, a.height == b.height else { return false }
        for y in max(0, rect.y) ..< min(b.height, rect.y + rect.height) {
            for x in max(0, rect.x) ..< min(b.width, rect.x + rect.width) where a[x, y] != b[x, y] { return false }
        }
        return true
    }

    private func drawCells(_ frame: CellBuffer) {
        let buffer = utf8 ? frame : ASCIICells.convert(frame, mono: tier == .mono)
        let w = min(buffer.width, Int(hs_cols())), h = min(buffer.height, Int(hs_lines()))
        let pairOf = pairNumbers(buffer)
        werase(window)
        if rowChars.count < w {
            rowChars = [wchar_t](repeating: 32, count: w)
            rowAttrs = [attr_t](repeating: 0, count: w)
            rowPairs = [Int32](repeating: 0, count: w)
        }
        let bold = hs_a_bold(), rev = hs_a_reverse(), under = hs_a_underline(), dim = hs_a_dim()
        for y in 0..<h {
            for x in 0..<w {
                let i = y * buffer.width + x
                let c = buffer.cells[i]
                rowChars[x] = wchar_t(bitPattern: c.glyph.value)
                var a: attr_t = 0
                if !c.attributes.isEmpty {
                    if c.attributes.contains(.bold) { a |= bold }
                    if c.attributes.contains(.reverse) { a |= rev }
                    if c.attributes.contains(.underline) { a |= under }
                    if c.attributes.contains(.dim) { a |= dim }
                }
                rowAttrs[x] = a
                rowPairs[x] = pairOf[i]
            }
            _ = hs_put_row(window, Int32(y), 0, rowChars, rowAttrs, rowPairs, Int32(w))
        }
        wnoutrefresh(window)
        doupdate()
    }
}
