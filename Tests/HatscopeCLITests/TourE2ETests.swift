// The real tour binary driven in tmux: Space / Right forward, Backspace / Left back, G to the
// last step, q to leave with exit status 0. Uses the synthetic recording (hatscope-dev) so it
// needs no model.
import Foundation
import XCTest

final class TourE2ETests: XCTestCase {
    let session = "tour"

    func testKeysMoveThroughTheTourAndQQuits() throws {
        let n = try tourStepCount()
        let tmux = try TmuxServer(tag: "tour")
        let status = tmux.work + "/status"
        try tmux.start(session, width: 120, height: 40, "'\(hatscopeDevBinary)' tour --synthetic; echo $? > \(status); sleep 5")
        @discardableResult func header(_ text: String) throws -> String {
            let screen = try tmux.waitFor(session, "\"\(text)\"") { $0.split(separator: "\n").first?.contains(text) ?? false }
            return String(screen.split(separator: "\n").first ?? "")
        }
        try header("step 1/\(n)")
        try tmux.keys(session, ["Space"])
        try header("step 2/\(n)")
        try tmux.keys(session, ["Right"])
        try header("step 3/\(n)")
        try tmux.keys(session, ["BSpace"])
        try header("step 2/\(n)")
        try tmux.keys(session, ["Left"])
        try header("step 1/\(n)")
        try tmux.keys(session, ["G"])
        let last = try header("step \(n)/\(n)")
        XCTAssertTrue(last.contains("Every head at once"), last)
        try tmux.keys(session, ["q"])
        XCTAssertEqual(tmux.waitForFile(status), "0")
    }
}
