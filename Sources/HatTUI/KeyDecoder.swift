// Terminal input bytes -> keys, as a pure state machine (the terminal feeds it bytes and tells it
// when the escape delay ran out; tests feed it anything). The rules:
//   - UTF-8 is decoded; a malformed byte (a stray lead or continuation byte, an overlong form)
//     becomes `.unknown` and the byte after it is decoded afresh, so nothing sticks;
//   - ESC starts a sequence: CSI (ESC [ ... final), SS3 (ESC O x), or Alt+key (ESC x). Arrows,
//     Shift-Tab, keypad Enter and mouse reports (SGR 1006 and the old X10 form: press, drag with
//     the left button, wheel) are recognised;
//     every other sequence, complete or cut off, is `.unknown` — never `.escape`;
//   - ESC alone is `.escape` only when nothing follows within the escape delay (`timeout()`);
//   - Ctrl-C (0x03) is `.interrupt`, Ctrl-Z (0x1A) `.suspend`; other control bytes (Ctrl-S,
//     Ctrl-Q, Ctrl-\, ...) are `.unknown`: flow control and signals are off in the terminal's raw
//     mode.
// A sequence longer than `maxSequence` bytes is given up as `.unknown`, so input keeps flowing.

public struct KeyDecoder: Sendable {
    public static let maxSequence = 64

    private enum State: Sendable {
        case ground
        /// ESC seen.
        case escape
        /// ESC [ and the parameter / intermediate bytes so far.
        case csi([UInt8])
        /// ESC O.
        case ss3
        /// ESC [ M: the three raw bytes of an X10 mouse report so far.
        case x10([UInt8])
        /// A UTF-8 character: its bytes so far and how many it needs.
        case utf8([UInt8], need: Int)
    }

    private var state = State.ground

    public init() {}

    /// True while bytes of an unfinished key are held (the caller then waits at most the escape
    /// delay for more, and calls `timeout()` when none came).
    public var isPending: Bool {
        if case .ground = state { return false }
        return true
    }

    /// The keys completed by `byte`.
    public mutating func feed(_ byte: UInt8) -> [Key] {
        switch state {
        case .ground:
            return ground(byte)
        case .escape:
            switch byte {
            case 0x5B: state = .csi([]); return []                      // ESC [
            case 0x4F: state = .ss3; return []                          // ESC O
            case 0x1B: state = .escape; return [.unknown]               // ESC ESC: the first was a prefix
            default:
                // Alt+key (ESC then a key): ignored as a whole; a multi-byte character's
                // remaining bytes must not turn into keys of their own.
                state = .ground
                if byte >= 0xC2 && byte <= 0xF4 { state = .utf8([byte], need: Self.utf8Length(byte)); return [] }
                return [.unknown]
            }
        case .ss3:
            state = .ground
            switch byte {
            case 0x41: return [.up]
            case 0x42: return [.down]
            case 0x43: return [.right]
            case 0x44: return [.left]
            case 0x4D: return [.enter]                                  // keypad Enter
            case 0x1B: state = .escape; return [.unknown]
            default: return [.unknown]
            }
        case .csi(var bytes):
            if bytes.isEmpty && byte == 0x4D { state = .x10([]); return [] }   // ESC [ M: X10 mouse
            switch byte {
            case 0x20 ... 0x3F:                                         // parameters, intermediates
                bytes.append(byte)
                if bytes.count > Self.maxSequence { state = .ground; return [.unknown] }
                state = .csi(bytes)
                return []
            case 0x40 ... 0x7E:                                         // final byte
                state = .ground
                return [Self.csiKey(bytes, final: byte)]
            case 0x1B:
                state = .escape
                return [.unknown]
            default:
                // Not part of a sequence (a control byte, a letter of another alphabet): the
                // sequence is dropped and the byte decoded on its own.
                state = .ground
                return [.unknown] + ground(byte)
            }
        case .x10(var bytes):
            bytes.append(byte)
            guard bytes.count == 3 else { state = .x10(bytes); return [] }
            state = .ground
            return [Self.mouse(button: Int(bytes[0]) - 32, x: Int(bytes[1]) - 33, y: Int(bytes[2]) - 33, release: false)]
        case .utf8(var bytes, let need):
            guard byte & 0xC0 == 0x80, Self.continuationAllowed(bytes, byte) else {
                state = .ground
                return [.unknown] + ground(byte)
            }
            bytes.append(byte)
            guard bytes.count == need else { state = .utf8(bytes, need: need); return [] }
            state = .ground
            guard let scalar = Self.scalar(bytes) else { return [.unknown] }
            return [.char(Character(scalar))]
        }
    }

    /// The escape delay passed with nothing more: a lone ESC is the Esc key; anything else
    /// unfinished is dropped as `.unknown`.
    public mutating func timeout() -> [Key] {
        defer { state = .ground }
        switch state {
        case .ground: return []
        case .escape: return [.escape]
        default: return [.unknown]
        }
    }

    /// All keys of `bytes`, then of the escape delay running out (tests, pasted input).
    public static func decode(_ bytes: [UInt8], thenTimeout: Bool = true) -> [Key] {
        var d = KeyDecoder()
        var keys = bytes.flatMap { d.feed($0) }
        if thenTimeout { keys += d.timeout() }
        return keys
    }

    // MARK: - Pieces

    private mutating func ground(_ byte: UInt8) -> [Key] {
        switch byte {
        case 0x1B: state = .escape; return []
        case 0x03: return [.interrupt]
        case 0x1A: return [.suspend]
        case 0x09: return [.tab]
        case 0x0D, 0x0A: return [.enter]
        case 0x7F, 0x08: return [.char("\u{7f}")]                       // Backspace, either byte
        case 0x00 ..< 0x20: return [.unknown]
        case 0x20 ..< 0x7F: return [.char(Character(Unicode.Scalar(byte)))]
        case 0xC2 ... 0xF4:
            state = .utf8([byte], need: Self.utf8Length(byte))
            return []
        default: return [.unknown]                                      // 0x80-0xC1, 0xF5-0xFF
        }
    }

    private static func utf8Length(_ lead: UInt8) -> Int {
        lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
    }

    /// The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
    private static func continuationAllowed(_ bytes: [UInt8], _ byte: UInt8) -> Bool {
        guard bytes.count == 1 else { return true }
        switch bytes[0] {
        case 0xE0: return byte >= 0xA0
        case 0xED: return byte < 0xA0
        case 0xF0: return byte >= 0x90
        case 0xF4: return byte < 0x90
        default: return true
        }
    }

    private static func scalar(_ b: [UInt8]) -> Unicode.Scalar? {
        var v: UInt32
        switch b.count {
        case 2: v = UInt32(b[0] & 0x1F) << 6 | UInt32(b[1] & 0x3F)
        case 3: v = UInt32(b[0] & 0x0F) << 12 | UInt32(b[1] & 0x3F) << 6 | UInt32(b[2] & 0x3F)
        default: v = UInt32(b[0] & 0x07) << 18 | UInt32(b[1] & 0x3F) << 12 | UInt32(b[2] & 0x3F) << 6 | UInt32(b[3] & 0x3F)
        }
        return Unicode.Scalar(v)
    }

    /// A complete CSI sequence: parameters/intermediates `p`, final byte `f`.
    private static func csiKey(_ p: [UInt8], final f: UInt8) -> Key {
        // SGR mouse: ESC [ < b ; x ; y M (press) or m (release).
        if p.first == 0x3C, f == 0x4D || f == 0x6D {
            let fields = String(decoding: p.dropFirst(), as: UTF8.self).split(separator: ";", omittingEmptySubsequences: false)
            guard fields.count == 3, let b = Int(fields[0]), let x = Int(fields[1]), let y = Int(fields[2]),
                  x >= 1, y >= 1, x <= 100_000, y <= 100_000 else { return .unknown }
            return mouse(button: b, x: x - 1, y: y - 1, release: f == 0x6D)
        }
        // Cursor keys, plain or with modifiers (ESC [ 1 ; 5 A); anything private (<, =, >, ?) is not a key.
        let plain = p.isEmpty || (p.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x3B })
        guard plain else { return .unknown }
        switch f {
        case 0x41: return .up
        case 0x42: return .down
        case 0x43: return .right
        case 0x44: return .left
        case 0x5A: return p.isEmpty ? .backTab : .unknown               // ESC [ Z: Shift-Tab
        default: return .unknown
        }
    }

    /// A mouse report: left button press, motion with the left button held (a drag), wheel up /
    /// down; everything else (releases, other buttons, motion without a button) is `.unknown`.
    private static func mouse(button b: Int, x: Int, y: Int, release: Bool) -> Key {
        guard !release, b >= 0, x >= 0, y >= 0 else { return .unknown }
        if b & 32 != 0 {                                                 // motion
            return b & ~(4 | 8 | 16 | 32) == 0 ? .mouseDrag(x: x, y: y) : .unknown
        }
        switch b & ~(4 | 8 | 16) {                                       // shift, alt, ctrl
        case 0: return .mousePress(x: x, y: y)
        case 64: return .wheelUp
        case 65: return .wheelDown
        default: return .unknown
        }
    }
}
