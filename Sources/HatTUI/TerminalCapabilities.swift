// Which picture protocol and colour tier to use: decided from the environment and the terminal's
// answers (TerminalAnswers), the way timg, chafa and notcurses decide. Pure functions of their
// inputs, so tests feed them scripted environments and answers. Uncertain means half blocks.

/// How pictures reach the screen.
public enum GraphicsProtocol: String, CaseIterable, Sendable {
    /// kitty graphics protocol (kitty, Ghostty, Konsole, WezTerm).
    case kitty
    /// DEC sixel (xterm -ti vt340, foot, WezTerm, mlterm, Konsole, Windows Terminal, VS Code).
    case sixel
    /// iTerm2 inline images (iTerm2, WezTerm, VS Code).
    case iterm2
    /// Half blocks: two pixels per cell, in any terminal.
    case blocks

    public var isPixels: Bool { self != .blocks }
    /// For the side panel.
    public var label: String {
        switch self {
        case .kitty: return "kitty graphics"
        case .sixel: return "sixel"
        case .iterm2: return "iTerm2 images"
        case .blocks: return "half blocks"
        }
    }
}

/// The parts of the environment detection reads.
public struct TerminalEnvironment: Sendable, Equatable {
    public var term: String
    public var termProgram: String
    public var colorterm: String
    public var kittyWindow: Bool
    public var wezterm: Bool
    /// Inside tmux (TMUX set, or TERM tmux*/screen* with TMUX) or GNU screen (STY).
    public var tmux: Bool
    public var screen: Bool
    public var noColor: Bool

    public init(_ env: [String: String]) {
        term = env["TERM"] ?? ""
        termProgram = env["TERM_PROGRAM"] ?? ""
        colorterm = (env["COLORTERM"] ?? "").lowercased()
        kittyWindow = !(env["KITTY_WINDOW_ID"] ?? "").isEmpty
        wezterm = !(env["WEZTERM_EXECUTABLE"] ?? "").isEmpty || !(env["WEZTERM_PANE"] ?? "").isEmpty
            || termProgram == "WezTerm"
        tmux = !(env["TMUX"] ?? "").isEmpty || term.hasPrefix("tmux")
        screen = !tmux && (!(env["STY"] ?? "").isEmpty || term.hasPrefix("screen"))
        noColor = !(env["NO_COLOR"] ?? "").isEmpty
    }

    /// A multiplexer sits between us and the terminal: its answers are its own.
    public var multiplexed: Bool { tmux || screen }

    /// Terminals that print unknown escape strings, or cannot answer at all: no queries.
    public var queriesUnsafe: Bool { term == "linux" || term == "dumb" || term.isEmpty }

    /// COLORTERM says 24-bit.
    public var directColor: Bool { colorterm == "truecolor" || colorterm == "24bit" }
}

/// What was decided, with the reason the side panel shows.
public struct GraphicsChoice: Equatable, Sendable {
    public var graphics: GraphicsProtocol
    /// Character cell size in pixels (pixel protocols).
    public var cellWidth: Int, cellHeight: Int
    /// Wrap escape strings for tmux's passthrough.
    public var tmuxPassthrough: Bool
    /// kitty reads pictures from temporary files (it runs on this machine).
    public var kittyFiles: Bool = false
    /// Sixel colours to use (at most 256), and whether the terminal must be asked for that many
    /// colour registers first (xterm's VT340 mode starts with 16).
    public var sixelColors: Int
    public var setSixelRegisters: Bool
    /// The largest picture the terminal shows, in pixels (sixel: what XTSMGRAPHICS says, else
    /// xterm's default 1000 x 1000, since xterm drops a larger picture whole).
    public var maxPictureWidth: Int = .max, maxPictureHeight: Int = .max
    /// One short line: why this protocol.
    public var reason: String
}

public enum Capabilities {
    /// Default cell size when a forced pixel protocol gets no size from the terminal.
    static let fallbackCell = (width: 10, height: 20)
    /// Largest sixel picture when the terminal does not say: xterm's default maxGraphicSize.
    static let sixelFallbackGeometry = (width: 1000, height: 1000)

    /// Picks the picture protocol. `request`: "auto" or a protocol name; `ttyCell`: the cell size
    /// from TIOCGWINSZ (ws_xpixel / cols), if the kernel knows it.
    public static func graphics(request: String, env: TerminalEnvironment, answers: TerminalAnswers?,
                                ttyCell: (width: Int, height: Int)?) -> GraphicsChoice {
        let cell = answers?.cellPixels ?? ttyCell
        func choice(_ p: GraphicsProtocol, _ reason: String, passthrough: Bool = false) -> GraphicsChoice {
            let c = cell ?? fallbackCell
            let s = sixelColors(answers)
            let most = p == .sixel ? answers?.sixelMaxGeometry ?? sixelFallbackGeometry : (width: Int.max, height: Int.max)
            return GraphicsChoice(graphics: p, cellWidth: c.width, cellHeight: c.height, tmuxPassthrough: passthrough,
                                  kittyFiles: p == .kitty && answers?.kittyFiles == true,
                                  sixelColors: s.colors, setSixelRegisters: p == .sixel && s.set,
                                  maxPictureWidth: most.width, maxPictureHeight: most.height, reason: reason)
        }
        let req = request.lowercased()
        if req == "blocks" { return choice(.blocks, "asked for (--graphics blocks)") }
        if let forced = GraphicsProtocol(rawValue: req) {
            if env.tmux { return choice(forced, "asked for; through tmux passthrough", passthrough: true) }
            if env.screen { return choice(forced, "asked for (inside screen: may not show)") }
            return choice(forced, "asked for (--graphics \(req))")
        }
        if env.tmux { return choice(.blocks, "inside tmux (--graphics kitty|sixel|iterm2 forces one)") }
        if env.screen { return choice(.blocks, "inside screen (--graphics kitty|sixel|iterm2 forces one)") }
        guard let a = answers, a.statusReport else {
            return choice(.blocks, env.queriesUnsafe ? "\(env.term.isEmpty ? "no TERM" : env.term): no queries"
                          : "the terminal did not answer")
        }
        guard cell != nil else { return choice(.blocks, "cell size in pixels unknown") }
        if a.kittyGraphics == true { return choice(.kitty, "the terminal answered the kitty graphics query") }
        let version = (a.version ?? "").lowercased()
        let itermLike = env.termProgram == "iTerm.app" || version.hasPrefix("iterm2")
        if itermLike { return choice(.iterm2, "iTerm2 (\(env.termProgram.isEmpty ? a.version ?? "" : env.termProgram))") }
        if a.sixel {
            let colors = sixelColors(a).colors
            if colors < 16 { return choice(.blocks, "sixel with only \(colors) colour registers") }
            return choice(.sixel, "the terminal reports sixel (DA1 4)")
        }
        if env.wezterm || version.hasPrefix("wezterm") { return choice(.iterm2, "WezTerm (iTerm2 images)") }
        return choice(.blocks, "no pixel protocol reported")
    }

    /// Sixel colours: 256 unless XTSMGRAPHICS reports fewer registers, raised to the reported
    /// maximum (up to 256) when the terminal allows more than it starts with.
    static func sixelColors(_ a: TerminalAnswers?) -> (colors: Int, set: Bool) {
        guard let cur = a?.sixelRegisters, cur > 0 else { return (256, false) }
        let most = min(256, max(cur, a?.sixelMaxRegisters ?? cur))
        return (most, most > cur)
    }

    /// Picks the colour tier. `request`: "auto" or a tier name; `terminfoColors`: what TERM's
    /// terminfo entry says (8 for TERM=xterm even in a real xterm - hence the questions).
    public static func colorTier(request: String, env: TerminalEnvironment, answers: TerminalAnswers?,
                                 terminfoColors: Int) -> (tier: ColorTier, reason: String) {
        let req = request.lowercased()
        if let forced = ColorTier(rawValue: req) { return (forced, "asked for (--color \(req))") }
        if env.noColor { return (.mono, "NO_COLOR is set") }
        if env.directColor { return (.truecolor, "COLORTERM=\(env.colorterm)") }
        if let a = answers {
            if a.keepsDirectColor { return (.truecolor, "the terminal kept a 24-bit colour (DECRQSS)") }
            if a.capabilities["RGB"] != nil {
                return (.truecolor, "the terminal reports RGB (XTGETTCAP)")
            }
            if a.palette255 != nil { return (.palette256, "the terminal has palette entry 255 (OSC 4)") }
            if let co = a.capabilities["Co"].flatMap({ Int($0) }), co >= 256 {
                return (.palette256, "the terminal reports \(co) colours (XTGETTCAP)")
            }
        }
        if terminfoColors >= 1 << 24 { return (.truecolor, "terminfo \(env.term)") }
        if terminfoColors >= 256 { return (.palette256, "terminfo \(env.term)") }
        if terminfoColors >= 16 { return (.ansi16, "terminfo \(env.term)") }
        if terminfoColors >= 8 { return (.ansi8, "terminfo \(env.term)") }
        return (.mono, "terminfo \(env.term): no colours")
    }
}
