// What the terminal says about itself: the one batch of queries sent before ncurses takes the
// keyboard, and a parser that picks the answers out of whatever bytes come back (anything that is
// not a complete answer - keys typed meanwhile, garbage - is counted and dropped, never turned
// into keys). Pure: the byte exchange itself is in TerminalExchange.swift.
//
// The batch, as timg, chafa and notcurses ask: kitty graphics query (a=q with a 1x1 image),
// XTVERSION, cell and window size in pixels (CSI 16t / 14t), palette entry 255 (OSC 4),
// XTGETTCAP Co and RGB, a 24-bit SGR read back with DECRQSS, DA1 (sixel = attribute 4), and last
// the device status report CSI 5n, which every terminal answers: once its answer is in, every
// other answer is too, so a silent terminal costs one round trip and a timeout only when it
// answers nothing at all.
import Foundation

/// The parsed answers.
public struct TerminalAnswers: Equatable, Sendable {
    /// The kitty graphics query came back: true = "OK", false = an error (protocol known, but
    /// the query failed), nil = no answer.
    public var kittyGraphics: Bool?
    /// The kitty file query (a=q, t=t) came back OK: the terminal reads pictures from files on
    /// this machine, so they need not travel through the tty.
    public var kittyFiles: Bool?
    /// DA1 attributes (CSI ? 62 ; 4 ; ... c).
    public var deviceAttributes: [Int]?
    /// XTVERSION text ("kitty(0.26.5)", "XTerm(379)").
    public var version: String?
    /// Character cell and text area size in pixels.
    public var cellPixels: (width: Int, height: Int)?
    public var windowPixels: (width: Int, height: Int)?
    /// OSC 4 answer for palette entry 255.
    public var palette255: (r: UInt8, g: UInt8, b: UInt8)?
    /// XTGETTCAP answers by capability name (decoded from hex): "Co" -> "256", "RGB" -> "8".
    public var capabilities: [String: String] = [:]
    /// DECRQSS answer for SGR (after setting a 24-bit foreground), e.g. "0;38:2::1:2:3".
    public var sgrReport: String?
    /// XTSMGRAPHICS colour registers: current and maximum (sixel).
    public var sixelRegisters: Int?
    public var sixelMaxRegisters: Int?
    /// XTSMGRAPHICS largest sixel picture in pixels: xterm drops a larger picture whole (its
    /// maxGraphicSize, 1000 x 1000 unless configured), leaving the picture area blank.
    public var sixelMaxGeometry: (width: Int, height: Int)?
    /// The closing status report arrived.
    public var statusReport = false
    /// Bytes that were not part of any answer (keys pressed meanwhile, noise).
    public var strayBytes = 0

    public init() {}

    public var sixel: Bool { deviceAttributes?.contains(4) ?? false }

    /// The terminal kept a 24-bit colour: the DECRQSS answer names 38:2 / 38;2 with 1, 2, 3.
    public var keepsDirectColor: Bool {
        guard var s = sgrReport else { return false }
        if s.hasSuffix("m") { s.removeLast() }
        let nums = s.split(whereSeparator: { $0 == ";" || $0 == ":" }).map(String.init)
        guard let i = nums.firstIndex(of: "38"), i + 1 < nums.count, nums[i + 1] == "2" else { return false }
        let rest = nums[(i + 2)...].filter { !$0.isEmpty }.prefix(3)
        return Array(rest) == ["1", "2", "3"]
    }

    public static func == (a: TerminalAnswers, b: TerminalAnswers) -> Bool {
        a.kittyGraphics == b.kittyGraphics && a.kittyFiles == b.kittyFiles && a.deviceAttributes == b.deviceAttributes && a.version == b.version
            && a.cellPixels?.width == b.cellPixels?.width && a.cellPixels?.height == b.cellPixels?.height
            && a.windowPixels?.width == b.windowPixels?.width && a.windowPixels?.height == b.windowPixels?.height
            && a.palette255.map { [$0.r, $0.g, $0.b] } == b.palette255.map { [$0.r, $0.g, $0.b] }
            && a.capabilities == b.capabilities && a.sgrReport == b.sgrReport
            && a.sixelRegisters == b.sixelRegisters && a.sixelMaxRegisters == b.sixelMaxRegisters
            && a.sixelMaxGeometry?.width == b.sixelMaxGeometry?.width && a.sixelMaxGeometry?.height == b.sixelMaxGeometry?.height
            && a.statusReport == b.statusReport && a.strayBytes == b.strayBytes
    }
}

public enum TerminalQueries {
    static let esc = "\u{1b}"
    /// Kitty graphics query: a 1x1 RGB image with id 31, never stored (a=q).
    static let kitty = "\u{1b}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1b}\\"
    static let status = "\u{1b}[5n"

    /// The batch: everything at once, the status report last. `kitty` false leaves out the APC
    /// queries (terminals such as the Linux console print unknown APC strings). `kittyFile`: a
    /// file holding one RGB pixel, named as the protocol requires for temporary files; a kitty
    /// on this machine reads (and deletes) it and answers OK for id 32.
    public static func batch(kitty: Bool = true, kittyFile: String? = nil) -> [UInt8] {
        var s = kitty ? TerminalQueries.kitty : ""
        if kitty, let path = kittyFile {
            s += "\u{1b}_Gi=32,s=1,v=1,a=q,t=t,f=24;\(Data(path.utf8).base64EncodedString())\u{1b}\\"
        }
        s += "\u{1b}[>0q"                       // XTVERSION
        s += "\u{1b}[16t\u{1b}[14t"             // cell size, text area size in pixels
        s += "\u{1b}]4;255;?\u{1b}\\"           // palette entry 255
        s += "\u{1b}P+q436f\u{1b}\\"            // XTGETTCAP Co
        s += "\u{1b}P+q524742\u{1b}\\"          // XTGETTCAP RGB
        // A 24-bit foreground, read back with DECRQSS, then reset: nothing is printed meanwhile.
        s += "\u{1b}[38;2;1;2;3m\u{1b}P$qm\u{1b}\\\u{1b}[0m"
        s += "\u{1b}[c"                          // DA1
        s += status
        return Array(s.utf8)
    }

    /// Sixel colour registers (XTSMGRAPHICS current and maximum) and the largest sixel picture
    /// (XTSMGRAPHICS item 2, maximum), asked only of terminals whose DA1 says sixel: elsewhere
    /// `CSI ? ... S` is not known to be harmless.
    public static func sixelRegisters() -> [UInt8] {
        Array("\u{1b}[?1;1;0S\u{1b}[?1;4;0S\u{1b}[?2;4;0S\(status)".utf8)
    }

    /// Asks for `n` sixel colour registers (xterm's VT340 mode starts with 16).
    public static func setSixelRegisters(_ n: Int) -> [UInt8] { Array("\u{1b}[?1;3;\(n)S".utf8) }
    /// Back to the terminal's own number of registers.
    public static let resetSixelRegisters: [UInt8] = Array("\u{1b}[?1;2;0S".utf8)
}

/// Picks answers out of a byte stream; feed it bytes as they come.
public struct TerminalAnswerParser {
    public private(set) var answers = TerminalAnswers()
    private var pending: [UInt8] = []
    /// Longest sequence kept while waiting for its end; longer ones are noise.
    static let maxSequence = 4096

    public init() {}

    /// Waits for a new status report (a second question on the same parser).
    public mutating func expectStatus() { answers.statusReport = false }

    public mutating func feed(_ bytes: [UInt8]) {
        pending += bytes
        var i = 0
        while i < pending.count {
            guard pending[i] == 0x1b else { answers.strayBytes += 1; i += 1; continue }
            guard i + 1 < pending.count else { break }   // a lone ESC: wait for more
            let kind = pending[i + 1]
            switch kind {
            case UInt8(ascii: "["):
                // CSI: parameters 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E.
                var j = i + 2
                while j < pending.count, (0x20...0x3F).contains(pending[j]) { j += 1 }
                guard j < pending.count else { if pending.count - i > 64 { answers.strayBytes += 2; i += 2; continue }; return compact(i) }
                if (0x40...0x7E).contains(pending[j]) {
                    csi(Array(pending[(i + 2)..<j]), final: pending[j])
                } else {
                    answers.strayBytes += j - i
                }
                i = j + 1
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "_"):
                // OSC (ends with BEL or ST), DCS and APC (end with ST = ESC \).
                var j = i + 2, end: Int? = nil, next = 0
                while j < pending.count {
                    if kind == UInt8(ascii: "]") && pending[j] == 0x07 { end = j; next = j + 1; break }
                    if pending[j] == 0x1b {
                        guard j + 1 < pending.count else { break }
                        if pending[j + 1] == UInt8(ascii: "\\") { end = j; next = j + 2; break }
                        // An ESC that does not close the string: the string was cut off.
                        end = nil; next = j; break
                    }
                    j += 1
                }
                if let e = end {
                    let body = Array(pending[(i + 2)..<e])
                    switch kind {
                    case UInt8(ascii: "]"): osc(body)
                    case UInt8(ascii: "P"): dcs(body)
                    default: apc(body)
                    }
                    i = next
                } else if next > 0 {
                    answers.strayBytes += next - i
                    i = next
                } else {
                    if pending.count - i > TerminalAnswerParser.maxSequence { answers.strayBytes += 2; i += 2; continue }
                    return compact(i)
                }
            default:
                // ESC + key (Alt-key, a lone Escape): not an answer.
                answers.strayBytes += 2
                i += 2
            }
        }
        compact(i)
    }

    private mutating func compact(_ i: Int) {
        pending.removeFirst(min(i, pending.count))
    }

    /// Bytes still waiting for the end of a sequence.
    public var unfinished: Int { pending.count }

    private static func ints(_ s: Substring) -> [Int] {
        s.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
    }

    private mutating func csi(_ params: [UInt8], final: UInt8) {
        let p = String(decoding: params, as: UTF8.self)
        switch final {
        case UInt8(ascii: "c") where p.hasPrefix("?"):
            answers.deviceAttributes = TerminalAnswerParser.ints(p.dropFirst())
        case UInt8(ascii: "n") where p == "0" || p == "3":
            answers.statusReport = true
        case UInt8(ascii: "t"):
            let v = TerminalAnswerParser.ints(Substring(p))
            guard v.count == 3, v[1] > 0, v[2] > 0 else { return }
            if v[0] == 6 { answers.cellPixels = (v[2], v[1]) }
            if v[0] == 4 { answers.windowPixels = (v[2], v[1]) }
        case UInt8(ascii: "S") where p.hasPrefix("?"):
            let v = TerminalAnswerParser.ints(p.dropFirst())
            // ? Pi ; Ps ; Pv: item 1 = colour registers, item 2 = sixel geometry (Pv = width ;
            // height), status 0 = success.
            guard v.count >= 3, v[1] == 0 else { return }
            if v[0] == 1 {
                if answers.sixelRegisters == nil { answers.sixelRegisters = v[2] } else { answers.sixelMaxRegisters = v[2] }
            } else if v[0] == 2, v.count >= 4, v[2] > 0, v[3] > 0 {
                answers.sixelMaxGeometry = (v[2], v[3])
            }
        default:
            break
        }
    }

    private mutating func osc(_ body: [UInt8]) {
        let s = String(decoding: body, as: UTF8.self)
        // 4;255;rgb:RRRR/GGGG/BBBB (1-4 hex digits per channel).
        guard s.hasPrefix("4;255;rgb:") else { return }
        let parts = s.dropFirst("4;255;rgb:".count).split(separator: "/")
        guard parts.count == 3 else { return }
        func channel(_ h: Substring) -> UInt8? {
            guard !h.isEmpty, h.count <= 4, let v = Int(h, radix: 16) else { return nil }
            let maxV = (1 << (4 * h.count)) - 1
            return UInt8((v * 255 + maxV / 2) / maxV)
        }
        if let r = channel(parts[0]), let g = channel(parts[1]), let b = channel(parts[2]) {
            answers.palette255 = (r, g, b)
        }
    }

    private mutating func dcs(_ body: [UInt8]) {
        let s = String(decoding: body, as: UTF8.self)
        if s.hasPrefix(">|") {
            answers.version = String(s.dropFirst(2))
        } else if s.hasPrefix("1+r") {
            // name=value pairs in hex, separated by ';'.
            for item in s.dropFirst(3).split(separator: ";") {
                let kv = item.split(separator: "=", maxSplits: 1)
                guard let name = TerminalAnswerParser.unhex(kv[0]) else { continue }
                answers.capabilities[name] = kv.count > 1 ? (TerminalAnswerParser.unhex(kv[1]) ?? "") : ""
            }
        } else if s.hasPrefix("1$r") {
            answers.sgrReport = String(s.dropFirst(3))
        }
    }

    private mutating func apc(_ body: [UInt8]) {
        let s = String(decoding: body, as: UTF8.self)
        // G<keys>;<message>: our query has id 31.
        guard s.hasPrefix("G"), let semi = s.firstIndex(of: ";") else { return }
        let keys = s[s.index(after: s.startIndex)..<semi].split(separator: ",")
        let ok = s[s.index(after: semi)...] == "OK"
        if keys.contains("i=31") { answers.kittyGraphics = ok }
        if keys.contains("i=32") { answers.kittyFiles = ok }
    }

    static func unhex(_ h: Substring) -> String? {
        guard h.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var i = h.startIndex
        while i < h.endIndex {
            let j = h.index(i, offsetBy: 2)
            guard let b = UInt8(h[i..<j], radix: 16) else { return nil }
            bytes.append(b); i = j
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
