// The real tour binary driven in tmux: Space / Right forward, Backspace / Left back, G to the
// last step, q to leave with exit status 0. Uses the synthetic recording so it needs no model.
import Foundation
import XCTest

final class TourE2ETests: XCTestCase {
    var socket = ""
    let session = "tour"

    /// Runs tmux on this test's private server through the shell (popen), returning its output.
    /// Not Foundation's Process: the tmux server forks off the first client and inherits its
    /// descriptors, and Process then never sees that client end. Here the shell sends tmux's own
    /// output to a file, so the pipe we read closes when the shell exits.
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let quoted = args.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        guard let f = popen("tmux -L \(socket) \(quoted) >'\(out)' 2>/dev/null </dev/null", "r") else {
            throw XCTSkip("cannot run tmux")
        }
        pclose(f)
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }

    /// The first screen line once it contains `text` (fails after 10 s).
    @discardableResult
    func waitForHeader(_ text: String) throws -> String {
        let deadline = Date().addingTimeInterval(10)
        var last = ""
        while Date() < deadline {
            last = try tmux(["capture-pane", "-p", "-t", session])
            if let first = last.split(separator: "\n").first, first.contains(text) { return String(first) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("timed out waiting for \"\(text)\"; screen:\n\(last)")
        return last
    }

    func testKeysMoveThroughTheTourAndQQuits() throws {
        guard ExploreE2ETests.tmuxAvailable else { throw XCTSkip("tmux is not installed (./dev.sh test installs it)") }
        socket = "hatscope-tour-\(getpid())"
        let status = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-tour-\(UUID().uuidString)").path
        defer {
            _ = try? tmux(["kill-server"])
            try? FileManager.default.removeItem(atPath: status)
        }
        let bin = productsDirectory.appendingPathComponent("hatscope").path
        try tmux(["new-session", "-d", "-x", "120", "-y", "40", "-s", session,
                  "\(bin) tour --synthetic; echo $? > \(status); sleep 5"])
        try waitForHeader("step 1/11")
        try tmux(["send-keys", "-t", session, "Space"])
        try waitForHeader("step 2/11")
        try tmux(["send-keys", "-t", session, "Right"])
        try waitForHeader("step 3/11")
        try tmux(["send-keys", "-t", session, "BSpace"])
        try waitForHeader("step 2/11")
        try tmux(["send-keys", "-t", session, "Left"])
        try waitForHeader("step 1/11")
        try tmux(["send-keys", "-t", session, "G"])
        let last = try waitForHeader("step 11/11")
        XCTAssertTrue(last.contains("Every head at once"), last)
        try tmux(["send-keys", "-t", session, "q"])
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: status) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.1)
        let code = (try? String(contentsOfFile: status, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(code, "0")
    }
}
