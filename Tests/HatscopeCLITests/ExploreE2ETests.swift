// The real explorer binary driven in tmux: start at 120 x 40, step views, heads, windows and
// stages with keys and check the screen changes, export a PNG with `e`, resize, quit with `q`
// and check the exit status. Uses the embedded demo when its assets are present, else the
// synthetic recording (`--synthetic`).
import Foundation
import XCTest

final class ExploreE2ETests: XCTestCase {
    var tmux: TmuxServer!
    var session = "explore"
    var work: URL { URL(fileURLWithPath: tmux.work) }

    static var tmuxAvailable: Bool { TmuxServer.available }

    /// The demo checkpoint beside the build (the binary finds it the same way).
    static var demoAvailable: Bool {
        if let env = ProcessInfo.processInfo.environment["HATSCOPE_ASSETS"], !env.isEmpty {
            return FileManager.default.fileExists(atPath: env + "/demo/fastervit_demo.pth.tar")
        }
        var dir = productsDirectory
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("assets/demo/fastervit_demo.pth.tar").path) {
                return true
            }
            dir = dir.deletingLastPathComponent()
        }
        return false
    }

    /// The explorer command line: the real one on the demo, else the developer tool's synthetic scene.
    static var explorerCommand: String {
        demoAvailable ? "'\(hatscopeBinary)' explore" : "'\(hatscopeDevBinary)' explore --synthetic"
    }

    func screen() throws -> String { try tmux.screen(session) }

    @discardableResult
    func waitFor(_ what: String, timeout: Double = 10, _ condition: (String) -> Bool) throws -> String {
        try tmux.waitFor(session, what, timeout: timeout, condition)
    }

    func keys(_ k: String...) throws { try tmux.keys(session, k) }

    func line(_ s: String, _ i: Int) -> String {
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        return i < lines.count ? String(lines[i]) : ""
    }

    override func setUpWithError() throws {
        tmux = try TmuxServer(tag: "explore")
    }

    override func tearDownWithError() throws { tmux = nil }

    func testExploreStepsExportsResizesAndQuits() throws {
        let rc = work.appendingPathComponent("rc").path
        let cmd = "cd '\(work.path)' && TERM=xterm-256color NO_COLOR= \(Self.explorerCommand) --export-dir '\(work.path)/figs'; echo $? > '\(rc)'; sleep 5"
        try tmux.start(session, width: 120, height: 40, cmd)

        // First frame: header with the view tabs, the title with the selection, the footer.
        let first = try waitFor("the first frame", timeout: 30) { $0.contains("hatscope") && $0.contains("quit") }
        XCTAssertTrue(line(first, 0).contains("local"), line(first, 0))
        XCTAssertTrue(line(first, 1).contains("head 0"), line(first, 1))
        XCTAssertTrue(line(first, 39).contains("quit"), "footer on the last of 40 rows: \(line(first, 39))")

        // Mouse (SGR 1006 reports, as xterm sends them): a click in the image's lower-left
        // quarter picks a query token there (window 2 of 2 x 2); the wheel steps heads.
        try keys("-l", "\u{1b}[<0;10;30M")
        try keys("-l", "\u{1b}[<0;10;30m")
        try waitFor("the clicked query") { self.line($0, 1).contains("window 2") }
        try keys("-l", "\u{1b}[<65;10;30M")
        try waitFor("the wheel's next head") { self.line($0, 1).contains("head 1") }
        try keys("-l", "\u{1b}[<64;10;30M")
        try waitFor("the wheel's previous head") { self.line($0, 1).contains("head 0") }
        try keys("w", "w")
        try waitFor("window 0") { self.line($0, 1).contains("window 0") }

        // Heads: n steps to head 1; N twice reaches the mean of heads.
        try keys("n")
        try waitFor("head 1") { self.line($0, 1).contains("head 1") }
        try keys("N", "N")
        try waitFor("mean of heads") { $0.contains("mean of") }
        try keys("n")
        try waitFor("head 0 again") { self.line($0, 1).contains("head 0") }

        // Windows: w moves the query into the next window (the title names it).
        let before = try screen()
        let windowBefore = line(before, 1)
        try keys("w")
        let afterW = try waitFor("the next window") { self.line($0, 1) != windowBefore && self.line($0, 1).contains("window") }
        XCTAssertNotEqual(before, afterW)

        // Views: Tab to the carrier view, then the matrix view changes the picture.
        try keys("Tab")
        try waitFor("the carrier view") { self.line($0, 1).hasPrefix(" carrier") }
        try keys("BTab")
        try waitFor("back to local") { self.line($0, 1).hasPrefix(" local") }

        // Query moves with arrows and vim keys.
        let q0 = line(try screen(), 1)
        try keys("Right", "j")
        try waitFor("the query to move") { self.line($0, 1) != q0 }

        // Stages: S twice reaches stage 2 (convolutional energy).
        try keys("S")
        try waitFor("stage 2") { self.line($0, 0).contains("energy") && $0.contains("stage 2/4") }
        try keys("s")
        try waitFor("stage 3 again") { $0.contains("stage 3/4") }

        // Help overlay, closed by any key but q.
        try keys("?")
        try waitFor("help") { $0.contains("Keys (q quits, any other key closes)") }
        try keys("x")
        try waitFor("help closed") { !$0.contains("Keys (q quits") }

        // Export: the missing --export-dir is created at the first export (like export --out),
        // a PNG appears in it and the status line says where.
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path + "/figs"), "not created before it is used")
        try keys("e")
        let exported = try waitFor("the export message", timeout: 20) { $0.contains("wrote ") }
        let pngs = try FileManager.default.contentsOfDirectory(atPath: work.path + "/figs").filter { $0.hasSuffix(".png") }
        XCTAssertEqual(pngs.count, 1, "\(pngs)")
        if let name = pngs.first {
            XCTAssertTrue(exported.contains(name), "status names the file")
            let bytes = [UInt8](try Data(contentsOf: work.appendingPathComponent("figs/" + name)))
            XCTAssertGreaterThan(bytes.count, 33)
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
            XCTAssertEqual(Array(bytes[12..<16]), Array("IHDR".utf8), "IHDR first")
            let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            XCTAssertGreaterThan(width, 100); XCTAssertGreaterThan(height, 100)
        }

        // Resize: re-laid out at once; too small gets a clear message; back again.
        try tmux.run(["resize-window", "-t", session, "-x", "90", "-y", "30"])
        let small = try waitFor("the 90x30 layout") { $0.split(separator: "\n").count <= 30 && $0.contains("quit") }
        XCTAssertTrue(small.split(separator: "\n").allSatisfy { $0.count <= 90 })
        try tmux.run(["resize-window", "-t", session, "-x", "50", "-y", "15"])
        try waitFor("the too-small message") { $0.contains("terminal too small") }
        try tmux.run(["resize-window", "-t", session, "-x", "120", "-y", "40"])
        try waitFor("the full layout again") { $0.contains("quit") && !$0.contains("terminal too small") }

        // Quit: exit status 0.
        try keys("q")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: rc) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.1)
        let status = (try? String(contentsOfFile: rc, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(status, "0")
    }

    /// A recording file in a real terminal: no model (the demo assets hidden), keys, `e` export, quit.
    func testExploreARecordingFile() throws {
        guard Self.demoAvailable else { throw XCTSkip("the demo checkpoint is needed to record a file first") }
        let rec = work.appendingPathComponent("demo.safetensors").path
        XCTAssertEqual(try runHatscope(["record", "--out", rec]).code, 0)
        let rc = work.appendingPathComponent("rc").path
        let cmd = "cd '\(work.path)' && HATSCOPE_ASSETS=/nonexistent TERM=xterm-256color '\(hatscopeBinary)' explore --recording '\(rec)' "
            + "--export-dir '\(work.path)/figs'; echo $? > '\(rc)'; sleep 5"
        try tmux.start(session, width: 120, height: 40, cmd)
        let first = try waitFor("the first frame", timeout: 30) { $0.contains("hatscope") && $0.contains("quit") }
        XCTAssertTrue(first.contains("faster_vit_demo_224"), first)
        try keys("Tab")
        try waitFor("the carrier view") { self.line($0, 1).hasPrefix(" carrier") }
        try keys("e")
        try waitFor("the export message", timeout: 20) { $0.contains("wrote ") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.path + "/figs").filter { $0.hasSuffix(".png") }.count, 1)
        try keys("q")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: rc) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual((try? String(contentsOfFile: rc, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), "0")
    }

    func testNotATerminalSuggestsExport() throws {
        let r = try runHatscope(["explore"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasPrefix("hatscope: "), r.err)
        XCTAssertTrue(r.err.contains("hatscope export"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line")
    }

    func testBadColorIsAOneLineError() throws {
        let r = try runHatscope(["explore", "--color", "rainbow"])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertTrue(r.err.contains("--color"), r.err)
    }
}
