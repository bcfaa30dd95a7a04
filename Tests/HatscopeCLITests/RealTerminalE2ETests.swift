// The explorer in real terminals under a virtual X server: xterm in VT340 mode (sixel, started
// with TERM=xterm as people do) and kitty (kitty graphics protocol, software OpenGL). For each,
// with the detected protocol and with --graphics blocks as the control: the first screen's
// picture is found in a screenshot and compared with the PNG that `e` exports for the same view
// (correlation after resizing both to one grid), a key changes it, live interventions redraw it
// (`o ] ] Space`: the query's window occluded, the new run on screen and exported; `d`: the
// difference view and its PNG, both compared with the screen the same way), and after `q`
// nothing of it is left. `./dev.sh test` installs xvfb, xterm, kitty, imagemagick and xdotool when missing; a
// plain `swift test` without them skips with that hint.
import Foundation
import XCTest

/// An 8-bit RGB raster read from a binary PPM (what ImageMagick's `import` and `convert` write).
struct Raster {
    var width = 0, height = 0
    var pixels: [UInt8] = []   // (height, width, 3)

    init?(ppm path: String) {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        let b = [UInt8](d)
        var i = 0, fields: [Int] = []
        guard b.count > 2, b[0] == UInt8(ascii: "P"), b[1] == UInt8(ascii: "6") else { return nil }
        i = 2
        while fields.count < 3 && i < b.count {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
            if i < b.count, b[i] == UInt8(ascii: "#") { while i < b.count, b[i] != 0x0a { i += 1 }; continue }
            var v = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { v = v * 10 + Int(b[i] - 0x30); i += 1 }
            fields.append(v)
        }
        i += 1
        guard fields.count == 3, fields[2] == 255, b.count >= i + fields[0] * fields[1] * 3 else { return nil }
        width = fields[0]; height = fields[1]
        pixels = Array(b[i ..< i + width * height * 3])
    }

    func rgb(_ x: Int, _ y: Int) -> (Int, Int, Int) {
        let k = (y * width + x) * 3
        return (Int(pixels[k]), Int(pixels[k + 1]), Int(pixels[k + 2]))
    }

    /// Luma grid of the rectangle, area-averaged to n x n.
    func grid(x: Int, y: Int, w: Int, h: Int, n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        for gy in 0 ..< n {
            for gx in 0 ..< n {
                let x0 = x + gx * w / n, x1 = max(x0 + 1, x + (gx + 1) * w / n)
                let y0 = y + gy * h / n, y1 = max(y0 + 1, y + (gy + 1) * h / n)
                var s = 0.0
                for yy in y0 ..< y1 { for xx in x0 ..< x1 { let p = rgb(xx, yy); s += 0.299 * Double(p.0) + 0.587 * Double(p.1) + 0.114 * Double(p.2) } }
                out[gy * n + gx] = s / Double((x1 - x0) * (y1 - y0))
            }
        }
        return out
    }
}

/// Pearson correlation of two equally long series.
func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(a.count)
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
}

final class RealTerminalE2ETests: XCTestCase {
    static let tools = ["/usr/bin/Xvfb", "/usr/bin/xterm", "/usr/bin/kitty", "/usr/bin/import", "/usr/bin/convert",
                        "/usr/bin/xdotool"]
    var display = ""
    var work: URL!
    var pids: [Int32] = []

    /// Runs a shell line; returns its exit status.
    @discardableResult
    func sh(_ line: String) -> Int32 {
        let status = system(line + " </dev/null")
        return status == -1 ? -1 : (status >> 8) & 0xff
    }

    /// Starts a background shell line with DISPLAY set; remembers its pid for tearDown.
    func spawn(_ line: String, env: String = "") throws {
        let pidFile = work.appendingPathComponent("pid-\(pids.count)").path
        sh("DISPLAY=\(display) \(env) setsid sh -c '\(line.replacingOccurrences(of: "'", with: "'\\''"))' "
            + ">\(work.path)/spawn-\(pids.count).log 2>&1 & echo $! > \(pidFile)")
        let pid = Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(pid, 0)
        pids.append(pid)
    }

    func wait(_ what: String, timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting for \(what)")
        return false
    }

    override func setUpWithError() throws {
        let missing = Self.tools.filter { !FileManager.default.isExecutableFile(atPath: $0) }
        guard missing.isEmpty else {
            throw XCTSkip("real-terminal tests need \(missing.joined(separator: ", ")): ./dev.sh test installs them "
                          + "(apt-get install xvfb xterm kitty imagemagick xdotool)")
        }
        work = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-x11-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        // A display number nobody uses.
        var n = 90 + Int(getpid() % 100)
        while FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") || FileManager.default.fileExists(atPath: "/tmp/.X\(n)-lock") { n += 1 }
        display = ":\(n)"
        try spawn("exec /usr/bin/Xvfb \(display) -screen 0 1700x1000x24 -nolisten tcp -noreset")
        _ = wait("Xvfb", timeout: 20) { sh("DISPLAY=\(display) /usr/bin/xdotool getdisplaygeometry >/dev/null 2>&1") == 0 }
    }

    override func tearDownWithError() throws {
        for p in pids.reversed() { kill(-p, SIGKILL); kill(p, SIGKILL) }
        if let w = work, ProcessInfo.processInfo.environment["HATSCOPE_KEEP_SCREENSHOTS"] == nil {
            try? FileManager.default.removeItem(at: w)
        }
    }

    func screenshot(_ name: String) -> Raster? {
        let path = work.appendingPathComponent(name + ".ppm").path
        guard sh("DISPLAY=\(display) /usr/bin/import -window root -depth 8 ppm:\(path) 2>/dev/null") == 0 else { return nil }
        return Raster(ppm: path)
    }

    /// The picture on screen: the first block of non-background columns from the left inside
    /// `area` (the screen's left part, below the header), and its rows. nil when there is none.
    func findPicture(_ r: Raster, area: (x: Int, y: Int, w: Int, h: Int)) -> (x: Int, y: Int, w: Int, h: Int)? {
        // The background is the most common colour of the area's left column band.
        var counts: [Int: Int] = [:]
        for y in stride(from: area.y, to: area.y + area.h, by: 3) {
            for x in stride(from: area.x, to: area.x + area.w, by: 7) {
                let p = r.rgb(x, y); counts[p.0 << 16 | p.1 << 8 | p.2, default: 0] += 1
            }
        }
        guard let bgKey = counts.max(by: { $0.value < $1.value })?.key else { return nil }
        let bg = (bgKey >> 16, (bgKey >> 8) & 255, bgKey & 255)
        func isBg(_ x: Int, _ y: Int) -> Bool {
            let p = r.rgb(x, y)
            return abs(p.0 - bg.0) + abs(p.1 - bg.1) + abs(p.2 - bg.2) < 24
        }
        func colShare(_ x: Int) -> Double {
            var n = 0
            for y in area.y ..< area.y + area.h where !isBg(x, y) { n += 1 }
            return Double(n) / Double(area.h)
        }
        // The first run of 60 or more picture columns (a window border is a column or two).
        let shares = (area.x ..< area.x + area.w).map(colShare)
        var x0 = -1, x1 = -1, start: Int? = nil
        for (i, v) in (shares + [0]).enumerated() {
            if v > 0.3 { if start == nil { start = i } } else if v < 0.02, let s = start {
                if i - s >= 60 { x0 = area.x + s; x1 = area.x + i; break }
                start = nil
            }
        }
        guard x0 >= 0 else { return nil }
        func rowShare(_ y: Int) -> Double {
            var n = 0
            for x in x0 ..< x1 where !isBg(x, y) { n += 1 }
            return Double(n) / Double(max(1, x1 - x0))
        }
        let rows = (area.y ..< area.y + area.h).filter { rowShare($0) > 0.5 }
        guard let y0 = rows.first, let y1 = rows.last, x1 - x0 > 60, y1 - y0 > 60 else { return nil }
        return (x0, y0, x1 - x0, y1 - y0 + 1)
    }

    /// The input image's square in an exported figure: white page, image at x = margin 10,
    /// scaled 2x (448 px), below the title lines.
    func figurePicture(_ f: Raster) -> (x: Int, y: Int, w: Int, h: Int)? {
        let x0 = 10, w = 448
        guard f.width >= x0 + w else { return nil }
        for y in 0 ..< f.height - w {
            var nonWhite = 0
            for x in stride(from: x0, to: x0 + w, by: 4) { let p = f.rgb(x, y); if p.0 + p.1 + p.2 < 720 { nonWhite += 1 } }
            if nonWhite > w / 4 * 9 / 10 { return (x0, y, w, w) }
        }
        return nil
    }

    /// Correlations of the screen's picture with the exported figure: the first screen, the run
    /// with a window occluded, and its difference view.
    struct Correlations { var first = 0.0, cut = 0.0, difference = 0.0 }

    /// Runs the explorer in `terminal` (a shell line prefix that runs a command) with `graphics`;
    /// returns the correlations of the screen pictures with the exported figures.
    func run(terminal: String, name: String, graphics: String, term: String?, area: (Int, Int, Int, Int),
             expect: String, protocolLine: String) throws -> Correlations {
        let bin = productsDirectory.appendingPathComponent("hatscope").path
        let dir = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let termSet = "NO_COLOR= " + (term.map { "TERM=\($0) " } ?? "")
        // First what detection decides in this terminal, then the explorer itself.
        let inner = "cd \(dir.path) && \(termSet)\(hatscopeDevBinary) detect --graphics \(graphics) 2>\(dir.path)/detect; "
            + "\(termSet)\(bin) explore --graphics \(graphics) --export-dir \(dir.path) "
            + "2>\(dir.path)/err; echo $? > \(dir.path)/rc; sleep 60"
        try spawn(terminal + " sh -c \"\(inner)\"", env: "LIBGL_ALWAYS_SOFTWARE=1")
        let terminalPid = pids.last ?? 0
        defer { kill(-terminalPid, SIGKILL); kill(terminalPid, SIGKILL) }
        let window = (x: area.0, y: area.1, w: area.2, h: area.3)

        // First frame: a picture appears and stays put.
        var first: Raster? = nil, pic: (x: Int, y: Int, w: Int, h: Int)? = nil
        var last = ""
        guard wait("the first frame in \(name)", timeout: 40, {
            guard let s = screenshot("\(name)-first"), let p = findPicture(s, area: window) else { return false }
            let key = "\(p)"
            defer { last = key }
            if key == last { first = s; pic = p; return true }
            return false
        }), let shot = first, let p = pic else { return Correlations() }
        let detect = (try? String(contentsOfFile: dir.path + "/detect", encoding: .utf8)) ?? ""
        XCTAssertTrue(detect.contains(protocolLine), "\(name): \(detect)")
        if let keep = ProcessInfo.processInfo.environment["HATSCOPE_KEEP_SCREENSHOTS"] {
            sh("/usr/bin/convert \(work.path)/\(name)-first.ppm '\(keep)/\(name).png'")
        }

        // Keys go to the terminal's window.
        let wid = { () -> String in
            let out = self.work.appendingPathComponent("wid").path
            self.sh("DISPLAY=\(self.display) /usr/bin/xdotool search --onlyvisible --class '\(expect)' > \(out) 2>/dev/null")
            return ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init) ?? ""
        }()
        XCTAssertFalse(wid.isEmpty, "the \(expect) window")
        func key(_ k: String) {
            sh("DISPLAY=\(display) /usr/bin/xdotool windowfocus --sync \(wid) key \(k) 2>/dev/null")
        }

        // The same view exported as a PNG: the correlation of the screen's picture with it.
        let n = 48
        let exported = { (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".png") } ?? [] }
        func exportAndCompare(_ screen: Raster, _ tag: String) throws -> Double {
            let old = Set(exported())
            key("e")
            guard wait("the exported figure (\(tag))", timeout: 20, { exported().count == old.count + 1 }) else { return 0 }
            let file = exported().first { !old.contains($0) }!
            sh("/usr/bin/convert '\(dir.appendingPathComponent(file).path)' -depth 8 ppm:\(dir.path)/figure-\(tag).ppm")
            let figure = try XCTUnwrap(Raster(ppm: dir.path + "/figure-\(tag).ppm"))
            let fp = try XCTUnwrap(figurePicture(figure), "the image in the figure \(file)")
            return correlation(screen.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: n), figure.grid(x: fp.x, y: fp.y, w: fp.w, h: fp.h, n: n))
        }
        var result = Correlations()
        result.first = try exportAndCompare(shot, "first")

        // A key changes the picture (next head: other attention colours).
        var before = shot.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: n)
        func changed(_ tag: String) -> Bool {
            guard let s = screenshot("\(name)-\(tag)") else { return false }
            let g = s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: n)
            let moved = zip(g, before).map { abs($0 - $1) }.reduce(0, +) / Double(n * n) > 1.0
            if moved { before = g }
            return moved
        }
        key("n")
        XCTAssertTrue(wait("the picture to change after n in \(name)", timeout: 20) { changed("n") })
        // A click in the image's lower-left part picks a query token there (another window).
        sh("DISPLAY=\(display) /usr/bin/xdotool mousemove \(p.x + p.w / 5) \(p.y + p.h * 4 / 5) click 1 2>/dev/null")
        XCTAssertTrue(wait("the picture to change after a click in \(name)", timeout: 20) { changed("click") })
        /// After a change: the picture once two screenshots in a row agree (a stale frame may come
        /// first, then the new run).
        func settled(_ tag: String) -> Raster? {
            var previous: [Double] = [], shot: Raster? = nil
            _ = wait("the picture to settle (\(tag)) in \(name)", timeout: 20) {
                guard let s = screenshot("\(name)-\(tag)") else { return false }
                let g = s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: n)
                defer { previous = g }
                if !previous.isEmpty && zip(g, previous).map({ abs($0 - $1) }).reduce(0, +) / Double(n * n) < 0.2 {
                    shot = s
                    return true
                }
                return false
            }
            return shot
        }
        // Live: the query's window occluded (o, the window brush, Space, o: painting off), the
        // model runs again and the new run replaces the picture; the screen matches its export.
        for k in ["o", "bracketright", "bracketright", "space", "o"] { key(k) }
        XCTAssertTrue(wait("the picture of the occluded run in \(name)", timeout: 20) { changed("cut") })
        if let cutShot = settled("cut-settled") { result.cut = try exportAndCompare(cutShot, "cut") }
        // d: the difference view, in diverging colours; the screen matches its PNG (diff_...).
        key("d")
        XCTAssertTrue(wait("the difference view in \(name)", timeout: 20) { changed("diff") })
        if let diffShot = settled("diff-settled") { result.difference = try exportAndCompare(diffShot, "diff") }
        XCTAssertTrue(exported().contains { $0.hasPrefix("diff_local_s3_") }, "\(exported())")

        // q: the program ends and no picture is left on screen.
        key("q")
        XCTAssertTrue(wait("the explorer to quit in \(name)", timeout: 20) {
            FileManager.default.fileExists(atPath: dir.path + "/rc")
        })
        let rc = (try? String(contentsOfFile: dir.path + "/rc", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(rc, "0", (try? String(contentsOfFile: dir.path + "/err", encoding: .utf8)) ?? "")
        XCTAssertTrue(wait("the screen to be clear after q in \(name)", timeout: 10) {
            guard let s = screenshot("\(name)-after") else { return false }
            let g = s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: 16)
            return (g.max() ?? 0) - (g.min() ?? 0) < 8
        })
        return result
    }

    /// The thresholds both terminals meet: pixels look like the figures, half blocks less so.
    func check(_ pixels: Correlations, _ blocks: Correlations, _ what: String) {
        print("\(what) correlation with the figures (first, cut, difference): pixels \(pixels), blocks \(blocks)")
        for (tag, px, bl) in [("first screen", pixels.first, blocks.first), ("occluded run", pixels.cut, blocks.cut),
                              ("difference view", pixels.difference, blocks.difference)] {
            XCTAssertGreaterThan(px, 0.9, "\(what) \(tag): picture vs the exported figure")
            // Half blocks are the control: coarse, so how close they come depends on the picture
            // (kitty's of the demo's occluded run, a near-uniform window, measure about 0.6).
            XCTAssertGreaterThan(bl, 0.5, "\(what) \(tag): half-block picture vs the exported figure")
        }
        XCTAssertGreaterThan(pixels.first, blocks.first, "pixels look more like the figure than half blocks")
    }

    func testXtermVT340ShowsSixelPicturesAndBlocksAsControl() throws {
        // 160 x 48 cells of 6 x 13 pixels (xterm's default font); TERM=xterm as most people start it.
        let xterm = "/usr/bin/xterm -ti vt340 -geometry 160x48+0+0 -e"
        let area = (0, 30, 560, 540)
        let sixel = try run(terminal: xterm, name: "xterm-sixel", graphics: "auto", term: "xterm", area: area, expect: "xterm",
                            protocolLine: "graphics: sixel")
        let blocks = try run(terminal: xterm, name: "xterm-blocks", graphics: "blocks", term: "xterm", area: area, expect: "xterm",
                             protocolLine: "graphics: blocks")
        check(sixel, blocks, "xterm (sixel)")
    }

    func testXtermWithALargeWindowStillShowsItsPicture() throws {
        // 200 x 60 cells of 8 x 16 pixels: the picture area is wider than 1000 pixels, and xterm
        // drops a sixel picture larger than its maxGraphicSize (1000 x 1000 unless configured)
        // whole; the picture area stayed blank. Detection asks for the limit and the picture
        // keeps within it.
        let bin = productsDirectory.appendingPathComponent("hatscope").path
        let dir = work.appendingPathComponent("xterm-large")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let inner = "cd \(dir.path) && TERM=xterm NO_COLOR= \(hatscopeDevBinary) detect 2>\(dir.path)/detect; "
            + "TERM=xterm NO_COLOR= \(bin) explore 2>\(dir.path)/err; sleep 60"
        try spawn("/usr/bin/xterm -ti vt340 -fa Monospace -fs 8 -geometry 200x60+0+0 -e sh -c \"\(inner)\"")
        var pic: (x: Int, y: Int, w: Int, h: Int)? = nil
        XCTAssertTrue(wait("a picture in the large xterm", timeout: 40) {
            guard let s = screenshot("xterm-large"), let p = findPicture(s, area: (0, 40, 1150, 900)) else { return false }
            pic = p
            return true
        })
        let detect = (try? String(contentsOfFile: dir.path + "/detect", encoding: .utf8)) ?? ""
        XCTAssertTrue(detect.contains("graphics: sixel"), detect)
        XCTAssertTrue(detect.contains("largest picture: 1000x1000 px"), detect)
        if let p = pic {
            XCTAssertGreaterThan(p.w, 500, "the image, not a stray line: \(p)")
            XCTAssertLessThanOrEqual(p.w, 1000); XCTAssertLessThanOrEqual(p.h, 1000)
        }
    }

    func testCtrlZAndFgInXtermBringTheSixelPictureBack() throws {
        // An interactive bash in xterm (VT340), as a person runs it: Ctrl-Z gives the shell a clean
        // screen (no picture left), `fg` draws everything again. The sixel picture lives in the
        // cells ncurses repainted, so it must be sent again (it stayed blank before).
        let dir = work.path
        try "exec env TERM=xterm NO_COLOR= \(hatscopeBinary) explore\n".write(toFile: dir + "/r", atomically: true, encoding: .utf8)
        try spawn("cd \(dir) && exec env PS1='$ ' /usr/bin/xterm -ti vt340 -geometry 160x48+0+0 -e bash --norc --noprofile -i")
        let wid = work.appendingPathComponent("wid").path
        guard wait("the xterm window", timeout: 20, {
            self.sh("DISPLAY=\(self.display) /usr/bin/xdotool search --onlyvisible --class xterm > \(wid) 2>/dev/null") == 0
        }) else { return }
        let window = ((try? String(contentsOfFile: wid, encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init) ?? ""
        func keys(_ args: String) { sh("DISPLAY=\(display) /usr/bin/xdotool windowfocus --sync \(window) \(args) 2>/dev/null") }
        keys("type 'sh r\n'")
        let area = (x: 0, y: 30, w: 560, h: 540)
        var first: (x: Int, y: Int, w: Int, h: Int)? = nil, grid: [Double] = []
        guard wait("the first picture", timeout: 40, {
            guard let s = self.screenshot("suspend-first"), let p = self.findPicture(s, area: area) else { return false }
            first = p; grid = s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: 32)
            return true
        }), let p = first else { return }
        func flat(_ s: Raster) -> Bool {
            let g = s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: 16)
            return (g.max() ?? 0) - (g.min() ?? 0) < 8
        }
        keys("key ctrl+z")
        XCTAssertTrue(wait("the picture to go at Ctrl-Z", timeout: 10) { self.screenshot("suspend-stopped").map(flat) ?? false })
        keys("type 'fg\n'")
        XCTAssertTrue(wait("the same picture after fg", timeout: 15) {
            guard let s = self.screenshot("suspend-back") else { return false }
            return correlation(s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: 32), grid) > 0.99
        })
    }

    func testKittyShowsKittyGraphicsAndBlocksAsControl() throws {
        let kitty = "/usr/bin/kitty --config NONE -o initial_window_width=1100 -o initial_window_height=760 "
            + "-o remember_window_size=no -o font_size=9"
        let area = (0, 40, 660, 620)
        let pixels = try run(terminal: kitty, name: "kitty-graphics", graphics: "auto", term: nil, area: area, expect: "kitty",
                             protocolLine: "graphics: kitty")
        let blocks = try run(terminal: kitty, name: "kitty-blocks", graphics: "blocks", term: nil, area: area, expect: "kitty",
                             protocolLine: "graphics: blocks")
        check(pixels, blocks, "kitty")
    }

    func testACrashLeavesNoKittyPictureBehind() throws {
        // SIGSEGV (a Swift trap is SIGILL/SIGTRAP, handled the same way): the handler deletes the
        // pictures before leaving the alternate screen (kitty would also drop the alternate
        // screen's pictures by itself; the end state is what is checked here).
        let bin = productsDirectory.appendingPathComponent("hatscope").path
        let dir = work.path
        // \$\$: the innermost shell's pid, which exec makes the explorer's.
        let inner = "sh -c 'echo \\$\\$ > \(dir)/explorer.pid; exec env NO_COLOR= \(bin) explore'; sleep 60"
        try spawn("/usr/bin/kitty --config NONE -o initial_window_width=900 -o initial_window_height=600 "
                  + "-o remember_window_size=no -o font_size=9 sh -c \"\(inner)\"", env: "LIBGL_ALWAYS_SOFTWARE=1")
        let area = (x: 0, y: 40, w: 560, h: 480)
        var pic: (x: Int, y: Int, w: Int, h: Int)? = nil
        guard wait("the first frame", timeout: 40, {
            pic = self.screenshot("crash-first").flatMap { self.findPicture($0, area: area) }
            return pic != nil
        }), let p = pic else { return }
        let pid = try XCTUnwrap(Int32((try String(contentsOfFile: dir + "/explorer.pid", encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGSEGV)
        XCTAssertTrue(wait("the picture to go after SIGSEGV", timeout: 10) {
            guard let s = self.screenshot("crash-after") else { return false }
            let g = s.grid(x: p.x, y: p.y, w: p.w, h: p.h, n: 16)
            return (g.max() ?? 0) - (g.min() ?? 0) < 8
        })
    }
}
