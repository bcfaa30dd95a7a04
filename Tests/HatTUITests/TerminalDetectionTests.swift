// Detection from scripted terminals: the answer parser on real answers (xterm -ti vt340, kitty,
// a plain xterm, as captured from those terminals), split at every byte, mixed with typed keys
// and garbage; the decisions (protocol, colour tier, terminfo entry) for environments and answer
// sets; and the byte exchange itself over a pseudo-terminal whose far end answers late, never,
// or with noise.
import Foundation
import XCTest
@testable import HatTUI

final class TerminalDetectionTests: XCTestCase {
    // What the terminals answered to TerminalQueries.batch() (captured under Xvfb).
    static let xtermVT340 = "\u{1b}P>|XTerm(379)\u{1b}\\\u{1b}[6;13;6t\u{1b}[4;767;1200t\u{1b}]4;255;rgb:eeee/eeee/eeee\u{1b}\\"
        + "\u{1b}P0+r436f\u{1b}\\\u{1b}P0+r524742\u{1b}\\\u{1b}P1$r0;38:2::1:2:3m\u{1b}\\"
        + "\u{1b}[?63;1;2;4;6;9;15;16;22;28c\u{1b}[0n"
    static let kitty = "\u{1b}_Gi=31;OK\u{1b}\\\u{1b}_Gi=32;OK\u{1b}\\\u{1b}P>|kitty(0.26.5)\u{1b}\\\u{1b}[6;20;9t\u{1b}[4;880;1400t"
        + "\u{1b}]4;255;rgb:eeee/eeee/eeee\u{1b}\\\u{1b}P1+r436f=323536\u{1b}\\\u{1b}P0+r524742\u{1b}\\"
        + "\u{1b}P1$r38:2:1:2:3m\u{1b}\\\u{1b}[?62;c\u{1b}[0n"
    /// A terminal that knows only DA1 and DSR (e.g. an old VT-like emulator).
    static let minimal = "\u{1b}[?1;2c\u{1b}[0n"

    func parse(_ s: String, chunk: Int = .max) -> TerminalAnswers {
        var p = TerminalAnswerParser()
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            let j = min(bytes.count, i + chunk)
            p.feed(Array(bytes[i..<j]))
            i = j
        }
        return p.answers
    }

    func testParsesXtermInVT340Mode() {
        let a = parse(Self.xtermVT340)
        XCTAssertTrue(a.statusReport)
        XCTAssertTrue(a.sixel)
        XCTAssertNil(a.kittyGraphics)
        XCTAssertEqual(a.version, "XTerm(379)")
        XCTAssertEqual(a.cellPixels?.width, 6); XCTAssertEqual(a.cellPixels?.height, 13)
        XCTAssertEqual(a.windowPixels?.width, 1200)
        XCTAssertEqual(a.palette255?.r, 238)
        XCTAssertTrue(a.capabilities.isEmpty, "0+r answers mean: not known")
        XCTAssertTrue(a.keepsDirectColor, "xterm reports 0;38:2::1:2:3m")
        XCTAssertEqual(a.strayBytes, 0)
    }

    func testParsesKitty() {
        let a = parse(Self.kitty)
        XCTAssertEqual(a.kittyGraphics, true)
        XCTAssertEqual(a.kittyFiles, true, "kitty read the probe file: it runs on this machine")
        XCTAssertEqual(a.version, "kitty(0.26.5)")
        XCTAssertEqual(a.capabilities["Co"], "256")
        XCTAssertNil(a.capabilities["RGB"])
        XCTAssertTrue(a.keepsDirectColor)
        XCTAssertEqual(a.deviceAttributes ?? [], [62, 0])
        XCTAssertFalse(a.sixel)
    }

    func testEverySplitPointGivesTheSameAnswers() {
        let whole = parse(Self.xtermVT340)
        for chunk in [1, 2, 3, 5, 7, 13] {
            XCTAssertEqual(parse(Self.xtermVT340, chunk: chunk), whole, "chunks of \(chunk)")
            XCTAssertEqual(parse(Self.kitty, chunk: chunk), parse(Self.kitty), "chunks of \(chunk)")
        }
    }

    func testTypedKeysAndGarbageAreCountedNeverTakenForAnswers() {
        // Keys typed during the exchange, a cut-off string, an Alt-key, stray C1 bytes.
        let noisy = "jk" + "\u{1b}[6;13;6t" + "q\u{1b}x" + "\u{1b}]4;255;rgb:zz/11/22\u{07}" + "\u{1b}Pgarbage\u{1b}[0n"
        let a = parse(noisy)
        XCTAssertTrue(a.statusReport, "the status report after a cut-off DCS still counts")
        XCTAssertNil(a.palette255, "bad hex is no colour")
        XCTAssertEqual(a.cellPixels?.width, 6)
        XCTAssertGreaterThan(a.strayBytes, 4)
        XCTAssertNil(a.deviceAttributes)
        // Pure noise: nothing recognised, nothing kept waiting forever.
        var p = TerminalAnswerParser()
        var rng = SystemRandomNumberGenerator()
        p.feed((0..<20000).map { _ in UInt8.random(in: 0...255, using: &rng) })
        XCTAssertLessThanOrEqual(p.unfinished, TerminalAnswerParser.maxSequence + 2)
        // A kitty answer for another image id is not ours.
        XCTAssertNil(parse("\u{1b}_Gi=7;OK\u{1b}\\").kittyGraphics)
        XCTAssertEqual(parse("\u{1b}_Gi=31;ENOTSUPPORTED:no\u{1b}\\").kittyGraphics, false)
    }

    // MARK: - Decisions

    func env(_ vars: [String: String]) -> TerminalEnvironment { TerminalEnvironment(vars) }
    let cell = (width: 8, height: 16)

    func testProtocolFollowsTheAnswers() {
        let e = env(["TERM": "xterm"])
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: e, answers: parse(Self.xtermVT340), ttyCell: nil).graphics, .sixel)
        let k = Capabilities.graphics(request: "auto", env: env(["TERM": "xterm-kitty"]), answers: parse(Self.kitty), ttyCell: nil)
        XCTAssertEqual(k.graphics, .kitty)
        XCTAssertTrue(k.kittyFiles)
        // Over SSH the probe file is not there for kitty: no answer for id 32, pictures go through the tty.
        let remote = parse(Self.kitty.replacingOccurrences(of: "\u{1b}_Gi=32;OK\u{1b}\\", with: ""))
        XCTAssertFalse(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm-kitty"]), answers: remote, ttyCell: nil).kittyFiles)
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: e, answers: parse(Self.minimal), ttyCell: cell).graphics, .blocks)
        // iTerm2 says so in the environment; an answer is still needed to trust it is there.
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"]),
                                             answers: parse(Self.minimal), ttyCell: cell).graphics, .iterm2)
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"]),
                                             answers: nil, ttyCell: cell).graphics, .blocks)
    }

    func testUncertainMeansBlocks() {
        let e = env(["TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"])
        // No answer at all (timeout), or no status report: blocks, even where the name says kitty.
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: e, answers: nil, ttyCell: cell).graphics, .blocks)
        var a = parse(Self.kitty)
        a.statusReport = false
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: e, answers: a, ttyCell: cell).graphics, .blocks)
        // Sixel reported but no cell size from the terminal or the kernel: blocks.
        var noSize = parse(Self.xtermVT340)
        noSize.cellPixels = nil
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: noSize, ttyCell: nil).graphics, .blocks)
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: noSize, ttyCell: cell).graphics, .sixel)
        // Too few colour registers for a picture.
        var few = parse(Self.xtermVT340)
        few.sixelRegisters = 4; few.sixelMaxRegisters = 4
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: few, ttyCell: nil).graphics, .blocks)
    }

    func testSixelRegistersAreRaisedWhenTheTerminalAllows() {
        var a = parse(Self.xtermVT340)
        a.sixelRegisters = 16; a.sixelMaxRegisters = 1024
        let c = Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: a, ttyCell: nil)
        XCTAssertEqual(c.sixelColors, 256)
        XCTAssertTrue(c.setSixelRegisters)
        a.sixelRegisters = 1024
        XCTAssertFalse(Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: a, ttyCell: nil).setSixelRegisters)
    }

    func testTheLargestSixelPictureIsAskedAndKept() {
        // xterm drops a sixel picture larger than its maxGraphicSize whole (a blank picture area
        // in a large window): the limit is asked with the colour registers and kept.
        XCTAssertTrue(String(decoding: TerminalQueries.sixelRegisters(), as: UTF8.self).contains("\u{1b}[?2;4;0S"))
        let a = parse(Self.xtermVT340 + "\u{1b}[?1;0;16S\u{1b}[?1;0;1024S\u{1b}[?2;0;1000;1000S\u{1b}[0n")
        XCTAssertEqual(a.sixelRegisters, 16); XCTAssertEqual(a.sixelMaxRegisters, 1024)
        XCTAssertEqual(a.sixelMaxGeometry?.width, 1000); XCTAssertEqual(a.sixelMaxGeometry?.height, 1000)
        let c = Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: a, ttyCell: nil)
        XCTAssertEqual(c.graphics, .sixel)
        XCTAssertEqual([c.maxPictureWidth, c.maxPictureHeight], [1000, 1000])
        var big = a
        big.sixelMaxGeometry = (2400, 1800)
        let b = Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: big, ttyCell: nil)
        XCTAssertEqual([b.maxPictureWidth, b.maxPictureHeight], [2400, 1800])
        // No answer: xterm's default, the common case of a limit nobody configured.
        let silent = Capabilities.graphics(request: "auto", env: env(["TERM": "xterm"]), answers: parse(Self.xtermVT340), ttyCell: nil)
        XCTAssertEqual([silent.maxPictureWidth, silent.maxPictureHeight], [1000, 1000])
        // A failed answer (status 3) is not a size.
        XCTAssertNil(parse("\u{1b}[?2;3;0S").sixelMaxGeometry)
        // kitty has no such limit.
        let k = Capabilities.graphics(request: "auto", env: env(["TERM": "xterm-kitty"]), answers: parse(Self.kitty), ttyCell: nil)
        XCTAssertEqual(k.graphics, .kitty)
        XCTAssertEqual(k.maxPictureWidth, .max)
    }

    func testMultiplexersGetBlocksUnlessForced() {
        for vars in [["TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0"], ["TERM": "screen-256color", "STY": "1.pts"]] {
            let e = env(vars)
            XCTAssertEqual(Capabilities.graphics(request: "auto", env: e, answers: parse(Self.kitty), ttyCell: cell).graphics, .blocks)
            let forced = Capabilities.graphics(request: "kitty", env: e, answers: nil, ttyCell: nil)
            XCTAssertEqual(forced.graphics, .kitty)
            XCTAssertEqual(forced.tmuxPassthrough, e.tmux)
        }
        XCTAssertEqual(Capabilities.graphics(request: "blocks", env: env(["TERM": "xterm-kitty"]), answers: parse(Self.kitty),
                                             ttyCell: cell).graphics, .blocks)
        XCTAssertEqual(Capabilities.graphics(request: "sixel", env: env(["TERM": "xterm"]), answers: nil, ttyCell: nil).cellWidth,
                       Capabilities.fallbackCell.width)
    }

    func testColourTierIsAskedNotReadFromTERM() {
        let xterm = env(["TERM": "xterm"])
        // A real xterm started with TERM=xterm: terminfo says 8, the terminal keeps 24-bit SGR.
        XCTAssertEqual(Capabilities.colorTier(request: "auto", env: xterm, answers: parse(Self.xtermVT340), terminfoColors: 8).tier,
                       .truecolor)
        var paletteOnly = parse(Self.xtermVT340)
        paletteOnly.sgrReport = "0m"
        XCTAssertEqual(Capabilities.colorTier(request: "auto", env: xterm, answers: paletteOnly, terminfoColors: 8).tier, .palette256)
        XCTAssertEqual(Capabilities.colorTier(request: "auto", env: xterm, answers: parse(Self.minimal), terminfoColors: 8).tier, .ansi8)
        XCTAssertEqual(Capabilities.colorTier(request: "auto", env: xterm, answers: nil, terminfoColors: 256).tier, .palette256)
        XCTAssertEqual(Capabilities.colorTier(request: "auto", env: env(["TERM": "xterm", "COLORTERM": "truecolor"]), answers: nil,
                                              terminfoColors: 8).tier, .truecolor)
        XCTAssertEqual(Capabilities.colorTier(request: "16", env: xterm, answers: parse(Self.kitty), terminfoColors: 256).tier, .ansi16)
        XCTAssertEqual(Capabilities.colorTier(request: "auto", env: env(["TERM": "xterm", "NO_COLOR": "1"]), answers: parse(Self.kitty),
                                              terminfoColors: 256).tier, .mono)
    }

    func testTerminfoEntryMatchesTheTier() {
        let entries = ["xterm": 8, "xterm-256color": 256, "xterm-direct": 1 << 24, "vt100": 0]
        let lookup: (String) -> Int? = { entries[$0] }
        let d = DisplayDetection.decide(graphicsRequest: "auto", colorRequest: "auto", env: env(["TERM": "xterm"]),
                                        answers: parse(Self.xtermVT340), ttyCell: nil, terminfoColors: lookup)
        XCTAssertEqual(d.tier, .truecolor)
        XCTAssertEqual(d.terminfoEntry, "xterm-direct")
        XCTAssertEqual(d.graphics.graphics, .sixel)
        // --color 256 forces, through xterm-256color.
        let f = DisplayDetection.decide(graphicsRequest: "auto", colorRequest: "256", env: env(["TERM": "xterm"]),
                                        answers: nil, ttyCell: nil, terminfoColors: lookup)
        XCTAssertEqual(f.tier, .palette256)
        XCTAssertEqual(f.terminfoEntry, "xterm-256color")
        // No direct-colour entry installed: 256 instead.
        let noDirect = DisplayDetection.decide(graphicsRequest: "auto", colorRequest: "auto", env: env(["TERM": "xterm"]),
                                               answers: parse(Self.xtermVT340), ttyCell: nil,
                                               terminfoColors: { $0 == "xterm-direct" ? nil : entries[$0] })
        XCTAssertEqual(noDirect.tier, .palette256)
        XCTAssertEqual(noDirect.terminfoEntry, "xterm-256color")
        // A terminal whose entry has no colours keeps its entry.
        let vt = DisplayDetection.decide(graphicsRequest: "auto", colorRequest: "auto", env: env(["TERM": "vt100"]),
                                         answers: parse(Self.minimal), ttyCell: nil, terminfoColors: lookup)
        XCTAssertEqual(vt.tier, .mono)
        XCTAssertNil(vt.terminfoEntry)
    }

    // MARK: - The exchange over a pseudo-terminal

    /// Runs TerminalExchange.ask on the pty's child end while `terminal` plays the far end with
    /// what the program wrote; returns the answers and the time taken.
    func exchange(timeout: Int = 300, _ terminal: @escaping @Sendable (_ master: Int32, _ query: [UInt8]) -> Void)
        throws -> (TerminalAnswers?, Double, termios) {
        var master: Int32 = -1, slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw XCTSkip("no pseudo-terminals here") }
        defer { close(master); close(slave) }
        let m = master
        let far = Thread {
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(m, &buf, buf.count)
            terminal(m, n > 0 ? Array(buf[0..<n]) : [])
        }
        far.start()
        let t0 = Date()
        let a = TerminalExchange.ask(TerminalQueries.batch(), input: slave, output: slave, timeout: timeout)
        let seconds = Date().timeIntervalSince(t0)
        var after = termios()
        tcgetattr(slave, &after)
        return (a, seconds, after)
    }

    func testExchangeStopsAtTheStatusReport() throws {
        let (a, seconds, _) = try exchange(timeout: 2000) { m, query in
            XCTAssertTrue(String(decoding: query, as: UTF8.self).hasSuffix("\u{1b}[5n"), "the batch ends with DSR")
            // Answers in two bursts, 50 ms apart.
            let bytes = Array(Self.kitty.utf8)
            _ = write(m, bytes, 40)
            usleep(50_000)
            _ = bytes[40...].withUnsafeBytes { write(m, $0.baseAddress, $0.count) }
        }
        XCTAssertEqual(a?.kittyGraphics, true)
        XCTAssertLessThan(seconds, 1.5, "did not wait for the timeout")
    }

    func testSilentTerminalCostsOneTimeoutAndLeavesNoInput() throws {
        let (a, seconds, t) = try exchange(timeout: 150) { m, _ in
            // Answers only after the timeout: they must not stay queued as keys.
            usleep(250_000)
            _ = write(m, Array(Self.minimal.utf8), Self.minimal.utf8.count)
        }
        XCTAssertNotNil(a)
        XCTAssertFalse(a?.statusReport ?? true)
        XCTAssertGreaterThanOrEqual(seconds, 0.14)
        XCTAssertLessThan(seconds, 1.0)
        XCTAssertEqual(Capabilities.graphics(request: "auto", env: TerminalEnvironment(["TERM": "xterm"]), answers: a,
                                             ttyCell: (8, 16)).graphics, .blocks)
        // The terminal's modes are back as they were (canonical input with echo).
        XCTAssertNotEqual(t.c_lflag & tcflag_t(ICANON), 0)
        XCTAssertNotEqual(t.c_lflag & tcflag_t(ECHO), 0)
    }

    func testGarbageAroundTheAnswersIsDropped() throws {
        let (a, _, _) = try exchange(timeout: 1000) { m, _ in
            let noise = "hello\u{1b}[?1;2c\u{1b}}junk\u{1b}[6;16;8t\u{1b}[0n"
            _ = write(m, Array(noise.utf8), noise.utf8.count)
        }
        XCTAssertEqual(a?.cellPixels?.width, 8)
        XCTAssertTrue(a?.statusReport ?? false)
        XCTAssertGreaterThan(a?.strayBytes ?? 0, 0)
    }
}
