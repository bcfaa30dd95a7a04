// Before ncurses starts: ask the terminal once (TerminalExchange), decide the picture protocol
// and the colour tier (Capabilities), and pick the terminfo entry that lets ncurses send that
// many colours (TERM=xterm says 8 even in an xterm with 24-bit colour; ncurses only sends 24-bit
// colour through an entry with RGB, such as xterm-direct). Also the bytes that undo what we
// changed when the program leaves, kept where the signal handlers can write them.
import Foundation

public struct DisplaySetup: Sendable {
    public var graphics: GraphicsChoice
    public var tier: ColorTier
    public var tierReason: String
    /// The terminfo entry for newterm (nil: TERM's own).
    public var terminfoEntry: String?
    public var answers: TerminalAnswers?

    /// One line for the side panel: protocol, colours, and why.
    public var label: String {
        "\(graphics.graphics.label), \(tier == .truecolor ? "24-bit" : tier.rawValue) colour"
    }
}

enum DisplayDetection {
    /// Decides everything from the environment and, unless that is unsafe, one batch of
    /// questions to the terminal on fds 0/1. `terminfoColors(entry)`: colours in a terminfo
    /// entry, nil when it does not exist.
    static func detect(graphicsRequest: String, colorRequest: String, environment: [String: String],
                       terminfoColors: (String) -> Int?, ask: Bool = true) -> DisplaySetup {
        let env = TerminalEnvironment(environment)
        var answers: TerminalAnswers? = nil
        let needAnswers = !(graphicsRequest.lowercased() == "blocks" && colorRequest.lowercased() != "auto")
        if ask && needAnswers && !env.queriesUnsafe {
            var parser = TerminalAnswerParser()
            let probe = KittyFiles.probe()
            defer { probe.map { KittyFiles.remove($0) } }
            if TerminalExchange.ask(TerminalQueries.batch(kittyFile: probe), parser: &parser) {
                if parser.answers.sixel && parser.answers.statusReport && !env.multiplexed {
                    _ = TerminalExchange.ask(TerminalQueries.sixelRegisters(), parser: &parser)
                    // The batch's status report was seen, whatever the second question got.
                    var a = parser.answers
                    a.statusReport = true
                    answers = a
                } else {
                    answers = parser.answers
                }
            }
        }
        return decide(graphicsRequest: graphicsRequest, colorRequest: colorRequest, env: env, answers: answers,
                      ttyCell: TerminalExchange.kernelCellSize(), terminfoColors: terminfoColors)
    }

    /// The pure part of `detect`.
    static func decide(graphicsRequest: String, colorRequest: String, env: TerminalEnvironment,
                       answers: TerminalAnswers?, ttyCell: (width: Int, height: Int)?,
                       terminfoColors: (String) -> Int?) -> DisplaySetup {
        let graphics = Capabilities.graphics(request: graphicsRequest, env: env, answers: answers, ttyCell: ttyCell)
        let own = terminfoColors(env.term) ?? 8
        var (tier, reason) = Capabilities.colorTier(request: colorRequest, env: env, answers: answers, terminfoColors: own)
        var entry: String? = nil
        func has(_ e: String, atLeast n: Int) -> Bool { (terminfoColors(e) ?? 0) >= n }
        if tier == .truecolor && own < 1 << 24 {
            if has("xterm-direct", atLeast: 1 << 24) { entry = "xterm-direct" } else { tier = .palette256 }
        }
        if tier == .palette256 && own < 256 {
            let candidates = [env.term + "-256color", "xterm-256color"].filter { !$0.hasPrefix("-") }
            if let e = candidates.first(where: { has($0, atLeast: 256) }) {
                entry = e
            } else {
                tier = own >= 16 ? .ansi16 : own >= 8 ? .ansi8 : .mono
                reason += "; no 256-colour terminfo entry"
            }
        }
        if (tier == .ansi16 && own < 16) || (tier == .ansi8 && own < 8) {
            tier = own >= 8 ? .ansi8 : .mono
        }
        return DisplaySetup(graphics: graphics, tier: tier, tierReason: reason, terminfoEntry: entry, answers: answers)
    }
}

/// Bytes written when the screen is given back (also from signal handlers): a fixed buffer set
/// once before the screen is taken, read with write(2) only.
enum LeavingBytes {
    nonisolated(unsafe) private static var buffer: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) private static var count = 0

    static func set(_ bytes: [UInt8]) {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
        p.initialize(from: bytes, count: bytes.count)
        let old = buffer
        buffer = p; count = bytes.count
        old?.deallocate()
    }

    /// Writes them to fd 1 (async-signal-safe: one write of a fixed buffer).
    static func write() {
        guard let p = buffer, count > 0 else { return }
        _ = Glibc.write(1, p, count)
    }
}

extension DisplaySetup {
    /// Detection without taking the screen (`hatscope-dev detect`, tests in real terminals).
    public static func probe(_ options: TerminalOptions) -> DisplaySetup {
        DisplayDetection.detect(graphicsRequest: options.graphics, colorRequest: options.color,
                                environment: ProcessInfo.processInfo.environment, terminfoColors: Terminal.terminfoColors)
    }

    /// Several lines: the decision, the reasons and what the terminal answered.
    public var report: String {
        var lines = [
            "graphics: \(graphics.graphics.rawValue) (\(graphics.reason))",
            "cell: \(graphics.cellWidth)x\(graphics.cellHeight) px",
            "color: \(tier.rawValue) (\(tierReason))",
            "terminfo: \(terminfoEntry ?? "TERM's own")",
        ]
        if graphics.graphics == .sixel {
            lines.append("sixel colors: \(graphics.sixelColors)")
            lines.append("largest picture: \(graphics.maxPictureWidth)x\(graphics.maxPictureHeight) px")
        }
        if let a = answers {
            lines.append("answers: status=\(a.statusReport) kitty=\(a.kittyGraphics.map { "\($0)" } ?? "-") "
                + "kittyFile=\(a.kittyFiles.map { "\($0)" } ?? "-") "
                + "da1=\(a.deviceAttributes.map { $0.map(String.init).joined(separator: ";") } ?? "-") "
                + "version=\(a.version ?? "-") registers=\(a.sixelRegisters ?? 0)/\(a.sixelMaxRegisters ?? 0) sixelMax=\(a.sixelMaxGeometry.map { "\($0.width)x\($0.height)" } ?? "-") palette255=\(a.palette255 != nil) sgr=\(a.sgrReport ?? "-") "
                + "caps=\(a.capabilities.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))")
        } else {
            lines.append("answers: none (not asked)")
        }
        return lines.joined(separator: "\n")
    }
}
