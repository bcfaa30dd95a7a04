// Issue 17, item 11, on the real explorer in tmux: bytes no key should make (stray UTF-8 bytes,
// Ctrl-S, Ctrl-\, Alt+key, keypad keys, unknown escape sequences) neither quit the explorer nor
// stop it from reacting; q quits. (Ctrl-Z suspends, as in any program: SuspendE2ETests.)
import Foundation
import XCTest

final class KeyInputE2ETests: XCTestCase {
    func testHostileBytesAreIgnoredAndTheExplorerKeepsReacting() throws {
        let tmux = try TmuxServer(tag: "keys")
        let s = "x"
        let rc = tmux.work + "/rc"
        // TERM=screen is tmux's default entry (its keypad keys are the KP0 / KP Enter).
        try tmux.start(s, width: 120, height: 40, "TERM=screen \(ExploreE2ETests.explorerCommand); echo $? > \(rc); sleep 20")
        func title(_ screen: String) -> String { String(screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().first ?? "") }
        try tmux.waitFor(s, "the first frame", timeout: 30) { title($0).contains("head 0") }
        /// After each input: m still switches between head 0 and the mean of heads (a quit
        /// explorer would not: the shell prints nothing more).
        var mean = false
        func stillReacting(_ what: String) throws {
            // A key typed by a person comes after the escape delay (25 ms): an unfinished sequence
            // is over by then (within the delay, m would be its final byte, as a terminal means it).
            Thread.sleep(forTimeInterval: 0.08)
            XCTAssertFalse(FileManager.default.fileExists(atPath: rc), "\(what) quit the explorer")
            try tmux.keys(s, ["m"])
            mean.toggle()
            let want = mean ? "mean of" : "head 0"
            try tmux.waitFor(s, "\(want) after \(what)", timeout: 5) { title($0).contains(want) }
        }
        let raw: [(String, [UInt8])] = [
            ("a lone continuation byte", [0x80]), ("a stray UTF-8 lead byte", [0xC3]), ("byte 0xFF", [0xFF]),
            ("Ctrl-S", [0x13]), ("Ctrl-Q", [0x11]), ("Ctrl-\\", [0x1C]),
            ("Alt+x", [0x1B, 0x78]), ("Alt+q", [0x1B, 0x71]), ("ESC [ ?", [0x1B, 0x5B, 0x3F]),
            ("an unknown CSI", [0x1B, 0x5B, 0x39, 0x39, 0x7E]), ("a broken UTF-8 pair", [0xE2, 0x28]),
            ("é", [0xC3, 0xA9]), ("a cursor report", Array("\u{1B}[12;40R".utf8)),
        ]
        for (what, bytes) in raw {
            try tmux.bytes(s, bytes)
            try stillReacting(what)
        }
        for key in ["KP0", "KP5", "KPEnter", "F1", "F12", "Home", "PageUp", "IC", "M-a", "M-Up"] {
            try tmux.keys(s, [key])
            try stillReacting(key)
        }
        try tmux.keys(s, ["q"])
        XCTAssertEqual(tmux.waitForFile(rc), "0")
    }

    func testCtrlCAndEscapeQuit() throws {
        let tmux = try TmuxServer(tag: "quit")
        for (name, key) in [("ctrlc", "C-c"), ("escape", "Escape")] {
            let rc = tmux.work + "/" + name
            try tmux.start(name, width: 100, height: 30, "TERM=xterm-256color \(ExploreE2ETests.explorerCommand); echo $? > \(rc); sleep 20")
            try tmux.waitFor(name, "the first frame", timeout: 30) { $0.contains("quit") }
            try tmux.keys(name, [key])
            XCTAssertEqual(tmux.waitForFile(rc), "0", name)
        }
    }
}
