// Issue 17, items 4 and 9, on the real binary: every signal whose default action ends the
// process puts the terminal back first (tty mode, main screen, mouse off) and ends with that
// signal's status, promptly; the Swift runtime's interactive crash prompt never appears; a
// command killed while writing leaves no temporary file and no partial output.
import Foundation
import XCTest

final class SignalsE2ETests: XCTestCase {
    /// Item 9: the explorer in tmux, ended by each signal in turn.
    func testEverySignalRestoresTheTerminalAndEndsPromptly() throws {
        let tmux = try TmuxServer(tag: "signals")
        // SWIFT_BACKTRACE asks for the runtime's interactive prompt: it must not appear anyway.
        let signals: [(String, Int32)] = [("QUIT", SIGQUIT), ("USR1", SIGUSR1), ("ALRM", SIGALRM), ("PIPE", SIGPIPE),
                                          ("HUP", SIGHUP), ("TERM", SIGTERM), ("INT", SIGINT), ("USR2", SIGUSR2),
                                          ("SEGV", SIGSEGV), ("ABRT", SIGABRT)]
        for (name, number) in signals {
            let tag = tmux.work + "/" + name
            let cmd = "sh -c 'echo $$ > \(tag).pid; exec env TERM=xterm-256color SWIFT_BACKTRACE=enable=yes,interactive=yes "
                + "\(ExploreE2ETests.explorerCommand) 2>\(tag).err'; echo $? > \(tag).rc; stty -a > \(tag).stty; "
                + "printf 'prompt-back\\n'; sleep 30"
            try tmux.start(name, width: 100, height: 30, cmd)
            try tmux.waitFor(name, "the first frame (\(name))", timeout: 30) { $0.contains("quit") }
            XCTAssertEqual(try tmux.format(name, "alternate_on"), "1", "the explorer uses the alternate screen")
            XCTAssertEqual(try tmux.format(name, "mouse_any_flag"), "1", "the explorer switched the mouse on")
            let pid = try XCTUnwrap(Int32((try String(contentsOfFile: tag + ".pid", encoding: .utf8))
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(pid, number)
            let rc = tmux.waitForFile(tag + ".rc", timeout: 10)
            XCTAssertEqual(rc, "\(128 + number)", "SIG\(name) ends the explorer with its own status, without waiting")
            _ = tmux.waitForFile(tag + ".stty", timeout: 5)
            let stty = (try? String(contentsOfFile: tag + ".stty", encoding: .utf8)) ?? ""
            let flags = stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init)
            for flag in ["icanon", "echo", "isig", "ixon"] {
                XCTAssertTrue(flags.contains(flag), "SIG\(name): \(flag) restored: \(stty)")
            }
            let screen = try tmux.waitFor(name, "the shell after SIG\(name)") { $0.contains("prompt-back") }
            XCTAssertEqual(try tmux.format(name, "alternate_on"), "0", "SIG\(name): back on the main screen")
            XCTAssertEqual(try tmux.format(name, "mouse_any_flag"), "0", "SIG\(name): mouse reporting off")
            XCTAssertFalse(screen.contains("Press space"), "SIG\(name): \(screen)")
            let err = (try? String(contentsOfFile: tag + ".err", encoding: .utf8)) ?? ""
            XCTAssertFalse(err.contains("Press space") || err.contains("Backtrace") || err.contains("Thread 0"), "SIG\(name): \(err)")
            if [SIGSEGV, SIGABRT].contains(number) {
                XCTAssertEqual(err.split(separator: "\n").count, 1, "SIG\(name): one line: \(err)")
                XCTAssertTrue(err.hasPrefix("hatscope: internal error"), "SIG\(name): \(err)")
            } else {
                XCTAssertEqual(err, "", "SIG\(name) is a request, not an error")
            }
            try tmux.run(["kill-session", "-t", name])
        }
    }

    /// Item 4 (and the all-or-nothing promise): `export --all` killed with SIGTERM at several
    /// moments leaves either nothing or the complete set with its manifest; never a hidden
    /// temporary file, never PNGs without a manifest.
    func testAnExportKilledAtAnyMomentLeavesNoTemporaryAndNoPartialOutput() throws {
        let dir = try makeTemporaryFolder("hatkill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let delays = [0.15, 0.5, 0.9, 1.5]
        var complete = 0
        for (i, delay) in delays.enumerated() {
            let out = dir + "/run\(i)"
            let r = try shell("$H export --all --view local --scale 1 --out \(out) >/dev/null 2>&1 & pid=$!; "
                              + "sleep \(delay); kill -TERM $pid; wait $pid; echo $?")
            let status = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            XCTAssertEqual(files.filter { $0.hasPrefix(".") }, [], "killed after \(delay) s: temporary files left")
            if status == "0" || files.contains("manifest.json") {
                complete += 1
                let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
                for f in files where f.hasSuffix(".png") { XCTAssertTrue(manifest.contains(f), "\(f) not in the manifest") }
                XCTAssertEqual(files.filter { $0.hasSuffix(".png") }.count, 28, "killed after \(delay) s: \(files.count) files")
            } else {
                XCTAssertEqual(status, "143", "killed after \(delay) s")
                XCTAssertEqual(files, [], "killed after \(delay) s: partial output \(files)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "the folder this run created is removed")
            }
        }
        XCTAssertLessThan(complete, delays.count, "at least one run was interrupted")
    }
}
