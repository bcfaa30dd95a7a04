// Job control on the real binary, in an interactive bash inside tmux (as over SSH): Ctrl-Z in the
// explorer and in the tour, SIGTSTP and SIGSTOP from outside, then `fg`. While stopped the shell
// must be usable (main screen, mouse reporting off, cursor shown, the shell's tty mode); after
// `fg` the whole screen is drawn again (nothing the shell printed is left) and keys act at once
// (raw mode back: no Enter needed).
import Foundation
import XCTest

final class SuspendE2ETests: XCTestCase {
    func testCtrlZAndStopSignalsGiveTheShellBackAndFgRedrawsEverything() throws {
        let tmux = try TmuxServer(tag: "suspend")
        let s = "job"
        let pidFile = tmux.work + "/pid"
        try tmux.start(s, width: 110, height: 34, "env PS1='$ ' bash --norc --noprofile -i")
        try tmux.waitFor(s, "the shell") { $0.contains("$") }
        // $$ of the inner shell is the explorer's pid once exec replaces it.
        try tmux.keys(s, ["sh -c 'echo $$ > \(pidFile); exec env TERM=xterm-256color \(ExploreE2ETests.explorerCommand)'", "Enter"])
        func title(_ screen: String) -> String { String(screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().first ?? "") }
        try tmux.waitFor(s, "the first frame", timeout: 30) { title($0).contains("head 0") && $0.contains("quit") }
        let pid = try XCTUnwrap(Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))

        /// Stopped: the shell has the terminal and it works as usual.
        func checkShell(_ what: String) throws {
            try tmux.waitFor(s, "the shell's job line after \(what)") { $0.contains("Stopped") }
            XCTAssertEqual(try tmux.format(s, "alternate_on"), "0", "\(what): main screen while stopped")
            XCTAssertEqual(try tmux.format(s, "mouse_any_flag"), "0", "\(what): mouse reporting off while stopped")
            XCTAssertEqual(try tmux.format(s, "cursor_flag"), "1", "\(what): cursor shown while stopped")
            try tmux.keys(s, ["clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo -e isig | tr '\\n' ' '; printf 'end-%s\\n' \(what)",
                              "Enter"])
            let screen = try tmux.waitFor(s, "the shell to answer after \(what)") { $0.contains(" end-\(what)") }
            let answer = screen.split(separator: "\n").first { $0.contains(" end-\(what)") }.map(String.init) ?? ""
            for flag in ["icanon", "echo", "isig"] {
                XCTAssertTrue(answer.split(separator: " ").contains(Substring(flag)), "\(what): \(flag) while stopped: \(answer)")
            }
        }
        /// After fg: everything drawn again, and a key acts without Enter.
        func checkBack(_ what: String, _ marker: String, key: String, _ after: @escaping (String) -> Bool) throws {
            try tmux.keys(s, ["fg", "Enter"])
            let screen = try tmux.waitFor(s, "the screen after fg (\(what))") { $0.contains(marker) && !$0.contains("end-\(what)") }
            XCTAssertFalse(screen.contains("Stopped"), "\(what): the shell's lines are gone:\n\(screen)")
            XCTAssertEqual(try tmux.format(s, "alternate_on"), "1", what)
            XCTAssertEqual(try tmux.format(s, "mouse_any_flag"), "1", what)
            try tmux.keys(s, [key])
            try tmux.waitFor(s, "\(key) to act at once after \(what)", timeout: 5, after)
        }

        // Ctrl-Z in the explorer (a byte in raw mode, not a signal).
        try tmux.keys(s, ["C-z"])
        try checkShell("ctrlz")
        try checkBack("ctrlz", "head 0", key: "m") { title($0).contains("mean of") }
        // SIGTSTP from outside: the same orderly stop.
        kill(pid, SIGTSTP)
        try checkShell("tstp")
        try checkBack("tstp", "mean of", key: "m") { title($0).contains("head 0") }
        // SIGSTOP cannot be caught: while stopped the shell draws over the explorer's screen
        // (a terminal limit); after fg the explorer takes the screen and the tty mode back.
        kill(pid, SIGSTOP)
        try tmux.waitFor(s, "the shell's job line after SIGSTOP") { $0.contains("Stopped") }
        try tmux.keys(s, ["printf 'end-%s\\n' stop", "Enter"])
        try tmux.waitFor(s, "the shell to answer after SIGSTOP") { $0.contains("\nend-stop") }
        try checkBack("stop", "head 0", key: "m") { title($0).contains("mean of") }
        // Ctrl-Z in the tour, then fg: the tour's step again, and its keys.
        try tmux.keys(s, ["t"])
        try tmux.waitFor(s, "the tour") { $0.contains("step 1/") }
        try tmux.keys(s, ["C-z"])
        try checkShell("tour")
        try checkBack("tour", "step 1/", key: "Space") { $0.contains("step 2/") }
        // q leaves the tour, q quits: exit status 0, the terminal as before.
        try tmux.keys(s, ["q"])
        try tmux.waitFor(s, "the explorer again") { $0.contains("quit") && !$0.contains("step 2/") }
        try tmux.keys(s, ["q"])
        // fg's status is the job's: the explorer's exit status.
        try tmux.waitFor(s, "the prompt after q") { $0.split(separator: "\n").contains("$") }
        try tmux.keys(s, ["printf 'status-%s\\n' $?", "Enter"])
        try tmux.waitFor(s, "the explorer's exit status") { $0.contains("\nstatus-0") }
        XCTAssertEqual(try tmux.format(s, "alternate_on"), "0")
        XCTAssertEqual(try tmux.format(s, "mouse_any_flag"), "0")
    }
}
