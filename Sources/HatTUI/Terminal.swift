// The only file that talks to ncursesw: screen setup and restore, colour tiers and colour pairs,
// input decoding, and copying a CellBuffer to the screen (werase, one wnoutrefresh, one doupdate
// per frame). Everything above it works on plain values.
import CNCursesW
import Foundation

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
    public init(color: String = "auto", mouse: Bool = true, graphics: String = "auto") {
        self.color = color; self.mouse = mouse; self.graphics = graphics
    }
}

// State the signal handlers and the atexit hook read. Written only on the main thread while no
// signal handler can run concurrently with it in a way that matters (set before, cleared after).
nonisolated(unsafe) private var screenActive = false
nonisolated(unsafe) private var mouseActive = false
nonisolated(unsafe) private var handlersInstalled = false

/// Leaves curses and switches mouse reporting off; safe to call more than once.
private func restoreScreen() {
    guard screenActive else { return }
    screenActive = false
    LeavingBytes.write()   // pictures deleted while still on the alternate screen
    if mouseActive {
        mouseActive = false
        // Mouse tracking modes 1000/1002/1003/1006 off, written straight to the tty.
        let off = "\u{1b}[?1000l\u{1b}[?1002l\u{1b}[?1003l\u{1b}[?1006l"
        _ = off.withCString { write(1, $0, strlen($0)) }
    }
    endwin()
}

/// Fatal signals (Swift traps are SIGILL/SIGTRAP) and SIGINT/SIGTERM: restore the terminal,
/// restore the default action and raise the signal again so the exit status tells what happened.
private func signalHandler(_ sig: Int32) {
    restoreScreen()
    signal(sig, SIG_DFL)
    raise(sig)
}

public final class Terminal {
    public let tier: ColorTier
    /// Which terminfo entry is in use ("xterm-direct" when true colour was switched on).
    public let terminalName: String
    /// What detection decided (DisplaySetup.swift): picture protocol, colour tier, reasons.
    public let display: DisplaySetup
    private let graphics: GraphicsOutput?
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

    public static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// Takes over the screen. Call only after everything that can fail without a screen has run.
    public init(options: TerminalOptions) throws {
        guard Terminal.isInteractive else {
            throw TerminalError(description: "not a terminal (stdin/stdout are not a TTY)")
        }
        setlocale(LC_ALL, "")
        let env = ProcessInfo.processInfo.environment
        // Questions to the terminal go out before ncurses reads the keyboard.
        let setup = DisplayDetection.detect(graphicsRequest: options.graphics, colorRequest: options.color,
                                            environment: env, terminfoColors: Terminal.terminfoColors)
        display = setup
        var name = env["TERM"] ?? "xterm"
        var scr: OpaquePointer? = nil
        let out = fdopen(1, "w"), inp = fdopen(0, "r")
        if let entry = setup.terminfoEntry {
            scr = newterm(entry, out, inp)
            if scr != nil { name = entry }
        }
        if scr == nil { scr = newterm(nil, out, inp) }
        guard let s = scr else {
            throw TerminalError(description: "cannot set up the terminal \"\(name)\" (is TERM right?)")
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
        screenActive = true
        Terminal.installHandlers()

        cbreak(); noecho(); nonl()
        keypad(window, true)
        curs_set(0)
        set_escdelay(25)
        intrflush(window, false)

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

        if setup.graphics.graphics.isPixels {
            // Pictures live in cells: ncurses must not shift them sideways with insert/delete.
            idcok(window, false)
            graphics = GraphicsOutput(choice: setup.graphics, env: env)
            var leaving = graphics?.removeAll ?? []
            if setup.graphics.setSixelRegisters {
                _ = TerminalExchange.writeAll(TerminalQueries.setSixelRegisters(setup.graphics.sixelColors), to: 1)
                leaving += TerminalQueries.resetSixelRegisters
            }
            LeavingBytes.set(leaving)
        } else {
            graphics = nil
        }

        if options.mouse {
            let mask = hs_button1_pressed() | hs_button4_pressed() | hs_button5_pressed()
            mousemask(mask, nil)
            mouseinterval(0)
            mouseActive = true
        }
    }

    deinit { stop() }

    /// Gives the screen back (idempotent).
    public func stop() {
        if mouseActive { mousemask(0, nil) }
        restoreScreen()
    }

    public var size: (width: Int, height: Int) { (Int(hs_cols()), Int(hs_lines())) }

    private static func installHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        for sig in [SIGSEGV, SIGABRT, SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGINT, SIGTERM, SIGHUP] {
            signal(sig, signalHandler)
        }
        atexit { restoreScreen() }
    }

    /// Colours in terminfo entry `entry`, nil when there is no such entry.
    static func terminfoColors(_ entry: String) -> Int? {
        guard !entry.isEmpty, terminfoExists(entry) else { return nil }
        let n = hs_terminfo_colors(entry)
        return n < 0 ? nil : Int(n)
    }

    /// How the picture area is drawn: real pixels with the detected cell size, or half blocks.
    public var pictureMode: PictureMode {
        display.graphics.graphics.isPixels
            ? .pixels(cellWidth: display.graphics.cellWidth, cellHeight: display.graphics.cellHeight) : .blocks
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

    /// Blocks for the next key, resize or mouse event.
    public func readKey() -> Key {
        var ch: wint_t = 0
        let r = wget_wch(window, &ch)
        if r == KEY_CODE_YES {
            switch Int32(ch) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_BTAB: return .backTab
            // With keypad on, ncurses turns the terminal's Backspace (kbs) into KEY_BACKSPACE; pass it
            // on as DEL, the byte Backspace sends otherwise (the tour steps back on it).
            case KEY_BACKSPACE: return .char("\u{7f}")
            case KEY_ENTER: return .enter
            case KEY_RESIZE: return .resize(width: Int(hs_cols()), height: Int(hs_lines()))
            case KEY_MOUSE:
                var x: Int32 = 0, y: Int32 = 0
                var b: mmask_t = 0
                guard hs_getmouse(&x, &y, &b) == 1 else { return .unknown }
                if b & hs_button4_pressed() != 0 { return .wheelUp }
                if b & hs_button5_pressed() != 0 { return .wheelDown }
                if b & (hs_button1_pressed() | hs_button1_clicked()) != 0 { return .mousePress(x: Int(x), y: Int(y)) }
                return .unknown
            default: return .unknown
            }
        }
        guard r == OK else { return .unknown }
        switch ch {
        case 9: return .tab
        case 27: return .escape
        case 10, 13: return .enter
        default:
            guard let s = Unicode.Scalar(UInt32(ch)) else { return .unknown }
            return .char(Character(s))
        }
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
    public func draw(_ buffer: CellBuffer, pictures: [FramePicture] = []) {
        let cleared = graphics?.needsClear(for: pictures) ?? false
        if cleared { clearok(window, true) }
        drawCells(buffer)
        if let g = graphics {
            let old = previous
            let resized = old.map { $0.width != buffer.width || $0.height != buffer.height } ?? true
            if cleared || resized { g.screenCleared() }
            let bytes = g.update(pictures) { rect in
                cleared || resized || !Terminal.sameCells(old, buffer, in: rect)
            }
            if !bytes.isEmpty { _ = TerminalExchange.writeAll(bytes, to: 1) }
            previous = buffer
        }
    }

    /// Whether `a` and `b` have the same cells inside `rect`.
    static func sameCells(_ a: CellBuffer?, _ b: CellBuffer, in rect: CellRect) -> Bool {
        guard let a, a.width == b.width, a.height == b.height else { return false }
        for y in max(0, rect.y) ..< min(b.height, rect.y + rect.height) {
            for x in max(0, rect.x) ..< min(b.width, rect.x + rect.width) where a[x, y] != b[x, y] { return false }
        }
        return true
    }

    private func drawCells(_ buffer: CellBuffer) {
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
