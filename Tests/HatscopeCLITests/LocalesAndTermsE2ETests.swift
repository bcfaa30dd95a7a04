// The explorer in tmux under locales and terminal types people have: a non-UTF-8 locale (LANG=C,
// common on minimal servers and in `env -i`), where ncursesw drew every non-ASCII glyph as a
// blank (half the picture's pixel rows, the arrow keys of the footer, the panel's rules); and
// terminals without an alternate screen (vt100, the Linux console), where the last frame stayed
// under the shell's prompt after q.
import Foundation
import XCTest

final class LocalesAndTermsE2ETests: XCTestCase {
    func testANonUTF8LocaleGetsASCIIAndThePictureInColour() throws {
        let tmux = try TmuxServer(tag: "locale")
        let rc = tmux.work + "/rc"
        try tmux.start("c", width: 120, height: 40,
                       "env LANG=C LC_ALL=C TERM=xterm-256color NO_COLOR= \(ExploreE2ETests.explorerCommand); echo $? > \(rc); sleep 20")
        let screen = try tmux.waitFor("c", "the first frame", timeout: 30) { $0.contains("quit") }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(screen.unicodeScalars.allSatisfy { $0.value < 0x80 }, "only ASCII is sent:\n\(screen)")
        let footer = lines.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        XCTAssertTrue(footer.hasPrefix(" <^v> "), "the footer names the arrow keys: \(footer)")
        XCTAssertTrue(screen.contains("- Model --"), "the panel's rules are drawn:\n\(screen)")
        XCTAssertTrue(screen.contains("display  ASCII cells, "), "the display line says so:\n\(screen)")
        // The picture: every picture row carries colours (blanks with a background), none is empty.
        let coloured = try tmux.run(["capture-pane", "-p", "-e", "-t", "c"]).split(separator: "\n").map(String.init)
        let pictureRows = coloured.filter { $0.components(separatedBy: "[48;").count > 30 }
        XCTAssertGreaterThan(pictureRows.count, 20, "a picture of colour cells:\n\(coloured.joined(separator: "\n"))")
        try tmux.keys("c", ["q"])
        XCTAssertEqual(tmux.waitForFile(rc), "0")
    }

    func testTerminalsWithoutAnAlternateScreenAreClearedOnQuit() throws {
        let tmux = try TmuxServer(tag: "noalt")
        for term in ["vt100", "linux"] {
            let rc = tmux.work + "/rc-" + term
            try tmux.start(term, width: 100, height: 30,
                           "TERM=\(term) \(ExploreE2ETests.explorerCommand); echo $? > \(rc); echo shell-again; sleep 20")
            try tmux.waitFor(term, "the first frame (\(term))", timeout: 30) { $0.contains("quit") }
            try tmux.keys(term, ["q"])
            XCTAssertEqual(tmux.waitForFile(rc), "0", term)
            let after = try tmux.waitFor(term, "the shell (\(term))") { $0.contains("shell-again") }
            for word in ["quit", "attention probability", "Model"] {
                XCTAssertFalse(after.contains(word), "\(term): the explorer's \"\(word)\" is left on screen:\n\(after)")
            }
        }
    }
}
