// KeyDecoder (terminal bytes -> keys) and, through it, the explorer's key handling: what each byte
// and sequence means, and a seeded, replayable fuzz over every byte value and random escape
// sequences asserting that only q, Esc alone and Ctrl-C quit and that the explorer always
// reacts again afterwards. HATSCOPE_FUZZ_SEED replays a run; HATSCOPE_FUZZ_ROUNDS makes it longer.
import XCTest
@testable import HatTUI

final class KeyDecoderTests: XCTestCase {
    func keys(_ bytes: [UInt8], timeout: Bool = true) -> [Key] { KeyDecoder.decode(bytes, thenTimeout: timeout) }
    func keys(_ s: String) -> [Key] { keys(Array(s.utf8)) }

    func testPlainKeysAndControls() {
        XCTAssertEqual(keys("qnN?"), [.char("q"), .char("n"), .char("N"), .char("?")])
        XCTAssertEqual(keys([0x09, 0x0D, 0x0A, 0x7F, 0x08, 0x03]), [.tab, .enter, .enter, .char("\u{7f}"), .char("\u{7f}"), .interrupt])
        // Flow control and signal keys are plain bytes in raw mode: ignored, except Ctrl-Z, which
        // the terminal turns into a suspend (as the shell's own Ctrl-Z would).
        XCTAssertEqual(keys([0x13, 0x11, 0x1C, 0x00]), [.unknown, .unknown, .unknown, .unknown])
        XCTAssertEqual(keys([0x1A]), [.suspend])
    }

    func testEscapeAloneOnlyAfterTheDelay() {
        XCTAssertEqual(keys([0x1B], timeout: false), [])
        XCTAssertEqual(keys([0x1B]), [.escape])
        var d = KeyDecoder()
        XCTAssertEqual(d.feed(0x1B), [])
        XCTAssertTrue(d.isPending)
        XCTAssertEqual(d.timeout(), [.escape])
        XCTAssertFalse(d.isPending)
    }

    func testCursorKeysInBothModesAndShiftTab() {
        XCTAssertEqual(keys("\u{1B}[A\u{1B}[B\u{1B}[C\u{1B}[D"), [.up, .down, .right, .left])
        XCTAssertEqual(keys("\u{1B}OA\u{1B}OB\u{1B}OC\u{1B}OD"), [.up, .down, .right, .left])
        XCTAssertEqual(keys("\u{1B}[1;5C"), [.right], "Ctrl-Right moves like Right")
        XCTAssertEqual(keys("\u{1B}[Z"), [.backTab])
        XCTAssertEqual(keys("\u{1B}OM"), [.enter], "keypad Enter")
    }

    func testAltKeysKeypadAndUnknownSequencesAreIgnoredNotQuit() {
        for seq in ["\u{1B}x", "\u{1B}q", "\u{1B}[?", "\u{1B}[?1;2c", "\u{1B}[12;40R", "\u{1B}Op", "\u{1B}Ou", "\u{1B}[2~",
                    "\u{1B}[15~", "\u{1B}OP", "\u{1B}[", "\u{1B}O", "\u{1B}[200~", "\u{1B}\u{1B}[A"] {
            let k = keys(seq)
            XCTAssertFalse(k.contains(.escape) || k.contains(.char("q")) || k.contains(.interrupt), "\(seq.debugDescription): \(k)")
            XCTAssertFalse(k.isEmpty, "\(seq.debugDescription) is reported as unknown input")
        }
        // An unknown sequence does not swallow what follows it.
        XCTAssertEqual(keys("\u{1B}[?q").last, .unknown, "q as a final byte belongs to the sequence")
        XCTAssertEqual(keys("\u{1B}[?\u{1B}[A"), [.unknown, .up])
        XCTAssertEqual(keys("\u{1B}[\u{3}"), [.unknown, .interrupt], "a control byte ends a sequence and counts")
    }

    func testUTF8IsDecodedAndMalformedBytesDoNotStick() {
        XCTAssertEqual(keys([0xC3, 0xA9]), [.char("é")])
        XCTAssertEqual(keys([0xE2, 0x86, 0x90]), [.char("←")])
        XCTAssertEqual(keys([0xF0, 0x9F, 0x98, 0x80]), [.char("😀")])
        XCTAssertEqual(keys([0x80, 0x71]), [.unknown, .char("q")], "a stray continuation byte")
        XCTAssertEqual(keys([0xC3, 0x71]), [.unknown, .char("q")], "a lead byte followed by q: q still counts")
        XCTAssertEqual(keys([0xC3, 0x1B, 0x5B, 0x41]), [.unknown, .up])
        XCTAssertEqual(keys([0xE0, 0x80, 0x80]), [.unknown, .unknown, .unknown], "overlong form")
        XCTAssertEqual(keys([0xED, 0xA0, 0x80]), [.unknown, .unknown, .unknown], "surrogate")
        XCTAssertEqual(keys([0xC0, 0xC1, 0xF5, 0xFF]), [.unknown, .unknown, .unknown, .unknown])
        XCTAssertEqual(keys([0xE2, 0x86]), [.unknown], "cut off: dropped at the delay")
    }

    func testMouseReports() {
        XCTAssertEqual(keys("\u{1B}[<0;10;30M"), [.mousePress(x: 9, y: 29)])
        XCTAssertEqual(keys("\u{1B}[<0;10;30m"), [.unknown], "release")
        XCTAssertEqual(keys("\u{1B}[<64;1;1M"), [.wheelUp])
        XCTAssertEqual(keys("\u{1B}[<65;1;1M"), [.wheelDown])
        XCTAssertEqual(keys("\u{1B}[<32;5;5M"), [.mouseDrag(x: 4, y: 4)], "motion with the left button held")
        XCTAssertEqual(keys("\u{1B}[<35;5;5M"), [.unknown], "motion without a button")
        XCTAssertEqual(keys("\u{1B}[<34;5;5M"), [.unknown], "motion with the right button")
        XCTAssertEqual(keys("\u{1B}[<32;5;5m"), [.unknown], "a release is no drag")
        XCTAssertEqual(keys("\u{1B}[<0;0;5M"), [.unknown], "coordinates start at 1")
        XCTAssertEqual(keys([0x1B, 0x5B, 0x4D, 32, 33 + 4, 33 + 2]), [.mousePress(x: 4, y: 2)], "X10 form")
        XCTAssertEqual(keys([0x1B, 0x5B, 0x4D, 32 + 64, 0xFF, 0x71]), [.wheelUp], "X10 bytes are raw, even q")
    }

    func testLongSequencesAreGivenUp() {
        let long = [0x1B, 0x5B] + [UInt8](repeating: 0x31, count: KeyDecoder.maxSequence + 5) + [0x71]
        let k = keys(long)
        XCTAssertEqual(k.first, .unknown)
        XCTAssertTrue(k.contains(.char("q")), "input flows again after the limit: \(k)")
    }

    func testTheHandlerIgnoresUnknownInputAndQuitsOnCtrlC() {
        let start = Fixture.state(width: 120, height: 40)
        XCTAssertEqual(KeyHandling.handle(start, .unknown).1, [])
        XCTAssertEqual(KeyHandling.handle(start, .suspend).1, [], "the terminal suspends; the handler changes nothing")
        XCTAssertEqual(KeyHandling.handle(start, .interrupt).1, [.quit])
        var help = start
        help.showHelp = true
        XCTAssertEqual(KeyHandling.handle(help, .unknown).0.showHelp, true, "noise does not close the help")
        XCTAssertEqual(KeyHandling.handle(help, .suspend).0.showHelp, true, "the help is still open after fg")
        XCTAssertEqual(KeyHandling.handle(help, .interrupt).1, [.quit])
        XCTAssertEqual(KeyHandling.handle(help, .char("q")).1, [.quit])
        XCTAssertEqual(KeyHandling.handle(help, .escape).1, [.redraw], "Esc closes the help")
        // The tour's key table: Ctrl-C leaves it, noise changes nothing.
        let tour = TourState(count: 11, index: 3)
        XCTAssertTrue(TourKeys.handle(tour, .interrupt).quit)
        XCTAssertEqual(TourKeys.handle(tour, .unknown).state, tour)
        XCTAssertFalse(TourKeys.handle(tour, .unknown).quit)
    }

    // MARK: - Fuzz

    /// A deterministic generator (SplitMix64), so a failure names its seed.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    }

    /// One piece of input and whether it must quit: a single byte (never ESC), a random escape
    /// sequence ended by a final byte or by the escape delay, or a lone ESC then the delay.
    enum Piece {
        case byte(UInt8)
        case sequence([UInt8], thenDelay: Bool)
        case loneEscape
    }

    static func randomPiece(_ r: inout Rng) -> Piece {
        switch r.int(10) {
        case 0 ..< 5:
            var b = r.byte()
            while b == 0x1B { b = r.byte() }
            return .byte(b)
        case 5:
            return .loneEscape
        default:
            // ESC, then an introducer ([, O, or anything), parameters and a final byte.
            var s: [UInt8] = [0x1B]
            switch r.int(4) {
            case 0: s.append(0x4F); s.append(UInt8(0x20 + r.int(0x5F)))
            case 1: s.append(UInt8(0x20 + r.int(0x5F)))
            default:
                s.append(0x5B)
                if r.int(3) == 0 { s.append([0x3C, 0x3D, 0x3E, 0x3F][r.int(4)]) }
                for _ in 0 ..< r.int(8) { s.append(UInt8(0x30 + r.int(0x10))) }
                if r.int(4) == 0 { s.append(UInt8(0x20 + r.int(0x10))) }
                if s == [0x1B, 0x5B] && r.int(2) == 0 {
                    s.append(0x4D); s += [r.byte(), r.byte(), r.byte()]     // X10 mouse: three raw bytes
                    return .sequence(s, thenDelay: r.int(2) == 0)
                }
                s.append(UInt8(0x40 + r.int(0x3F)))
            }
            return .sequence(s, thenDelay: r.int(2) == 0)
        }
    }

    /// Whether a piece quits: q and Ctrl-C as single bytes, Esc alone. Everything inside an
    /// escape sequence is part of it.
    static func quits(_ p: Piece) -> Bool {
        switch p {
        case let .byte(b): return b == UInt8(ascii: "q") || b == 0x03
        case .loneEscape: return true
        case .sequence: return false
        }
    }

    func testEveryByteValueAlone() {
        for b in 0 ... 255 {
            let k = keys([UInt8(b)])
            switch b {
            case 0x1B: XCTAssertEqual(k, [.escape])
            case 0x71: XCTAssertEqual(k, [.char("q")])
            case 0x03: XCTAssertEqual(k, [.interrupt])
            default: XCTAssertFalse(k.contains(.escape) || k.contains(.char("q")) || k.contains(.interrupt), "byte \(b): \(k)")
            }
            // And followed by q, after the delay, q always counts.
            var d = KeyDecoder()
            _ = d.feed(UInt8(b)); _ = d.timeout()
            XCTAssertEqual(d.feed(0x71), [.char("q")], "q after byte \(b)")
        }
    }

    func testSeededFuzzOnlyQuitKeysQuitAndTheExplorerAlwaysReactsAgain() {
        let env = ProcessInfo.processInfo.environment
        let seed = env["HATSCOPE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0017
        let rounds = env["HATSCOPE_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 20000
        var rng = Rng(state: seed)
        let start = Fixture.state(width: 120, height: 40)
        for round in 0 ..< rounds {
            let pieces = (0 ..< 1 + rng.int(12)).map { _ in Self.randomPiece(&rng) }
            var decoder = KeyDecoder()
            var state = start
            var quit = false
            let context = "seed \(seed) round \(round): \(pieces)"
            for piece in pieces where !quit {
                let helpOpen = state.showHelp
                var ks: [Key] = []
                switch piece {
                case let .byte(b): ks = decoder.feed(b)
                case .loneEscape: ks = decoder.feed(0x1B) + decoder.timeout()
                case let .sequence(s, delay):
                    ks = s.flatMap { decoder.feed($0) }
                    if delay || decoder.isPending { ks += decoder.timeout() }
                }
                for k in ks where !quit {
                    let (next, effects) = KeyHandling.handle(state, k)
                    state = next
                    quit = effects.contains(.quit)
                }
                if quit {
                    XCTAssertTrue(Self.quits(piece), "quit on \(piece); \(context)")
                } else if Self.quits(piece) {
                    // Esc closes the help overlay instead of quitting; q and Ctrl-C always quit.
                    guard case .loneEscape = piece, helpOpen else {
                        XCTFail("\(piece) did not quit; \(context)")
                        break
                    }
                }
            }
            if XCTestCase.hasFailed(self) { break }
            if quit { continue }
            // Never stops reacting: after the delay, n is a key that redraws, and q quits.
            _ = decoder.timeout()
            var probe = decoder
            XCTAssertEqual(probe.feed(UInt8(ascii: "n")), [.char("n")], context)
            XCTAssertEqual(KeyHandling.handle(state, .char("n")).1, [.redraw], context)
            XCTAssertEqual(decoder.feed(UInt8(ascii: "q")), [.char("q")], context)
            XCTAssertEqual(KeyHandling.handle(state, .char("q")).1, [.quit], context)
            if XCTestCase.hasFailed(self) { break }
        }
    }
}

extension XCTestCase {
    /// True when this test has recorded a failure (to stop a long loop at the first one).
    static func hasFailed(_ t: XCTestCase) -> Bool { (t.testRun?.failureCount ?? 0) > 0 }
}
