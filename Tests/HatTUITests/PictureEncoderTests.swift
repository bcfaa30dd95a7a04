// The picture on screen is the PNG figure's picture, and each protocol carries it intact: the
// screen picture at the figure's scale has the figure body's pixels exactly; the kitty payload
// (raw RGB and PNG) and the iTerm2 payload decode back to the same pixels; the sixel string,
// decoded by ImageMagick, matches within the error of a 256-colour palette. Also the output's
// bookkeeping: unchanged pictures are not sent again.
import Foundation
import XCTest
@testable import HatTUI
import HatImaging
import HatViews

final class PictureEncoderTests: XCTestCase {
    static let view = try! Views.compute(.carrier, recording: Fixture.recording,
                                         selection: KeyHandling.handle(Fixture.state(width: 120, height: 40), .tab).0.selection)
    static let input = FigureRenderer.inputImage(Fixture.recording)

    /// The screen picture of the carrier view (image + N x N matrix) at the figure's scale 2.
    static func screenPicture(width: Int = 900, height: Int = 520) -> ScreenPicture {
        ScreenPictureRenderer.render(view, input: input, options: FigureOptions(), width: width, height: height,
                                     background: (18, 18, 24))
    }

    func testScreenPictureIsTheFiguresBody() throws {
        let options = FigureOptions()   // scale 2
        let figure = FigureRenderer.render(Self.view, input: Self.input, options: options)
        let origin = FigureRenderer.bodyOrigin(Self.view, input: Self.input, options: options)
        let pic = Self.screenPicture(width: 1100, height: 480)   // room for scale 2 exactly
        XCTAssertEqual(pic.scale, 2)
        let o = try XCTUnwrap(pic.imageOrigin)
        // Every pixel of the image part (photo, field, grid, boxes, query) is the figure's.
        var differing = 0
        for y in 0 ..< pic.imageSize.height {
            for x in 0 ..< pic.imageSize.width {
                for c in 0 ..< 3 where pic.image.pixels[((o.y + y) * pic.image.width + o.x + x) * 3 + c]
                    != figure.pixels[((origin.y + y) * figure.width + origin.x + x) * 3 + c] {
                    differing += 1
                }
            }
        }
        XCTAssertEqual(differing, 0)
        // The matrix beside it too: its first cell has the figure's colour.
        let g = try XCTUnwrap(pic.matrix)
        let fc = try XCTUnwrap(FigureRenderer.matrixCellOrigin(Self.view, input: Self.input, options: options, row: 0, col: 0))
        XCTAssertEqual(g.cell, fc.cell)
        let a = (g.y * pic.image.width + g.x) * 3, b = (fc.y * figure.width + fc.x) * 3
        XCTAssertEqual(Array(pic.image.pixels[a ..< a + 3]), Array(figure.pixels[b ..< b + 3]))
    }

    func testClicksMapBackThroughThePixels() throws {
        let area = CellRect(x: 1, y: 2, width: 100, height: 30)
        let (pic, map, side) = PixelPicture.render(Self.view, input: Self.input, area: area, cellWidth: 9, cellHeight: 18,
                                                   options: FigureOptions(), matrixOnly: false, background: CellColor(0, 0, 0))
        XCTAssertEqual(pic.image.width, pic.rect.width * 9)
        XCTAssertEqual(pic.image.height, pic.rect.height * 18)
        // The top-left cell of the image part is input pixel ~(0..9 / scale); the matrix cell
        // under row 3's centre is row 3.
        let p = try XCTUnwrap(map.contentPoint(cellX: map.rect.x + (map.pixels?.imageOrigin?.x ?? 0) / 9 + 1,
                                               cellY: map.rect.y + (map.pixels?.imageOrigin?.y ?? 0) / 18 + 1))
        XCTAssertLessThan(p.x, 40); XCTAssertLessThan(p.y, 40)
        let s = try XCTUnwrap(side)
        let g = try XCTUnwrap(s.pixels?.grid)
        for row in [0, 3, 15] {
            let span = g.rowSpan(row)
            let cy = s.rect.y + (span.top + span.bottom) / 2 / 18
            let cx = s.rect.x + (g.x + g.cell * 5 + g.cell / 2 + g.separatorCols) / 9
            if let e = s.matrixEntry(cellX: cx, cellY: cy) {
                XCTAssertEqual(e.row, row)
            } else {
                // A cell centre can fall on the carrier separator; the row above or below is then
                // exactly one cell away.
                XCTAssertLessThan(g.cell, 18)
            }
        }
    }

    /// base64 payloads of the APC strings in `bytes`, joined.
    func kittyPayload(_ bytes: [UInt8]) -> (keys: String, data: [UInt8]) {
        let s = String(decoding: bytes, as: UTF8.self)
        var keys = "", b64 = ""
        for part in s.components(separatedBy: "\u{1b}_G").dropFirst() {
            let body = part.components(separatedBy: "\u{1b}\\")[0]
            let kv = body.split(separator: ";", maxSplits: 1)
            if keys.isEmpty { keys = String(kv[0]) }
            XCTAssertLessThanOrEqual(kv.count > 1 ? kv[1].count : 0, 4096, "chunks of at most 4096")
            if kv.count > 1 { b64 += kv[1] }
        }
        return (keys, [UInt8](Data(base64Encoded: b64) ?? Data()))
    }

    func testKittyPayloadsDecodeToThePicture() throws {
        let img = Self.screenPicture().image
        let raw = try PictureEncoders.kittyTransmit(img, id: 7, columns: 100, rows: 26, payload: .rgb)
        let r = kittyPayload(raw)
        XCTAssertTrue(r.keys.contains("f=24") && r.keys.contains("s=\(img.width)") && r.keys.contains("v=\(img.height)"), r.keys)
        XCTAssertTrue(r.keys.contains("c=100") && r.keys.contains("r=26") && r.keys.contains("C=1"), r.keys)
        XCTAssertEqual(r.data, img.pixels)
        let s = String(decoding: raw, as: UTF8.self)
        XCTAssertTrue(s.hasSuffix("\u{1b}\\") && s.contains("m=1") && s.contains("m=0,"))
        let png = kittyPayload(try PictureEncoders.kittyTransmit(img, id: 8, columns: 100, rows: 26, payload: .png))
        XCTAssertTrue(png.keys.contains("f=100"))
        XCTAssertEqual(try PNGCodec.decode(png.data), img)
        // Through tmux: every chunk wrapped, ESC doubled.
        let wrapped = String(decoding: try PictureEncoders.kittyTransmit(img, id: 9, columns: 10, rows: 2, payload: .rgb,
                                                                        passthrough: true), as: UTF8.self)
        XCTAssertTrue(wrapped.hasPrefix("\u{1b}Ptmux;\u{1b}\u{1b}_G"))
    }

    func testITermPayloadDecodesToThePicture() throws {
        let img = Self.screenPicture(width: 300, height: 200).image
        let s = String(decoding: try PictureEncoders.iterm2(img, columns: 30, rows: 10), as: UTF8.self)
        XCTAssertTrue(s.hasPrefix("\u{1b}]1337;File=inline=1;") && s.hasSuffix("\u{07}"))
        XCTAssertTrue(s.contains("width=30;height=10;preserveAspectRatio=0:"))
        let b64 = s.components(separatedBy: ":").last!.dropLast()
        XCTAssertEqual(try PNGCodec.decode([UInt8](Data(base64Encoded: String(b64))!)), img)
    }

    /// ImageMagick's convert (the real one; /usr/local/bin may hold a stand-in).
    static var convert: String? {
        ["/usr/bin/convert", "/usr/bin/magick"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func testSixelDecodesToThePicture() throws {
        guard let convert = Self.convert else {
            throw XCTSkip("ImageMagick is not installed: ./dev.sh test installs it (apt-get install imagemagick)")
        }
        let img = Self.screenPicture().image
        let sixel = try SixelEncoder.encode(img, colors: 256)
        XCTAssertTrue(sixel.starts(with: [0x1b, 0x50]), "DCS")
        XCTAssertEqual(Array(sixel.suffix(2)), [0x1b, 0x5c], "ST")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-sixel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["KEEP"] == nil { try? FileManager.default.removeItem(at: dir) } }
        let six = dir.appendingPathComponent("p.six"), out = dir.appendingPathComponent("p.png")
        try Data(sixel).write(to: six)
        // (A plain PNG: ImageMagick 6.9's png24 writer turns a decoded sixel palette black.)
        let status = system("'\(convert)' 'sixel:\(six.path)' 'png:\(out.path)' >/dev/null 2>&1")
        XCTAssertEqual(status, 0, "ImageMagick reads our sixel")
        let back = try ImageIO.load(path: out.path)
        XCTAssertEqual(back.width, img.width)
        XCTAssertGreaterThanOrEqual(back.height, img.height)
        // A 256-colour palette per picture: small mean error, every pixel close.
        var sum = 0, worst = 0
        for y in 0 ..< img.height {
            for x in 0 ..< img.width {
                for c in 0 ..< 3 {
                    let d = abs(Int(img.pixels[(y * img.width + x) * 3 + c]) - Int(back.pixels[(y * back.width + x) * 3 + c]))
                    sum += d; worst = max(worst, d)
                }
            }
        }
        let mean = Double(sum) / Double(img.width * img.height * 3)
        XCTAssertLessThan(mean, 4.0, "mean abs error per channel")
        XCTAssertLessThan(worst, 80)
    }

    func testSixelBandsDecodeToTheirPalette() throws {
        guard let convert = Self.convert else {
            throw XCTSkip("ImageMagick is not installed: ./dev.sh test installs it (apt-get install imagemagick)")
        }
        // The band writer on 5 given palette entries: one colour in far-apart pieces of a band
        // (segments sharing passes with other colours), runs, a height that is no multiple of 6.
        let w = 61, h = 17
        let palette: [UInt8] = [0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 255, 40, 200, 40] + [UInt8](repeating: 0, count: 251 * 3)
        var index = [UInt8](repeating: 0, count: w * h)     // (h, w)
        var img = RGBImage(width: w, height: h)
        for y in 0 ..< h {
            for x in 0 ..< w {
                let k = x < 3 || x > 55 ? 2 : (x / 7 + y / 4) % 2 == 0 ? 1 : (x * y) % 23 == 0 ? 3 : y % 5 == 0 ? 4 : 0
                index[y * w + x] = UInt8(k)
                for c in 0 ..< 3 { img.pixels[(y * w + x) * 3 + c] = palette[k * 3 + c] }
            }
        }
        let sixel = SixelEncoder.bands(index, width: w, height: h, palette: palette, count: 5)
        XCTAssertTrue(String(decoding: sixel, as: UTF8.self).contains("$"), "several passes per band")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hatscope-sixel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let six = dir.appendingPathComponent("p.six"), out = dir.appendingPathComponent("p.png")
        try Data(sixel).write(to: six)
        XCTAssertEqual(system("'\(convert)' 'sixel:\(six.path)' 'png:\(out.path)' >/dev/null 2>&1"), 0)
        let back = try ImageIO.load(path: out.path)
        XCTAssertEqual(back.width, w)
        XCTAssertGreaterThanOrEqual(back.height, h)
        // Palette entries are sent in percent: each channel within 255 / 200 of the original.
        for y in 0 ..< h {
            for x in 0 ..< w {
                for c in 0 ..< 3 {
                    let d = abs(Int(img.pixels[(y * w + x) * 3 + c]) - Int(back.pixels[(y * back.width + x) * 3 + c]))
                    XCTAssertLessThanOrEqual(d, 2, "pixel (\(x), \(y))")
                    if d > 2 { return }
                }
            }
        }
    }

    func testOnlyChangedPicturesAreSentAgain() {
        let img = Self.screenPicture(width: 200, height: 120).image
        let rect = CellRect(x: 2, y: 3, width: 20, height: 6)
        let kitty = GraphicsOutput(choice: GraphicsChoice(graphics: .kitty, cellWidth: 10, cellHeight: 20, tmuxPassthrough: false,
                                                          sixelColors: 256, setSixelRegisters: false, reason: ""), env: [:])
        let first = kitty.update([FramePicture(rect: rect, image: img)]) { _ in true }
        XCTAssertTrue(String(decoding: first, as: UTF8.self).contains("a=T"))
        XCTAssertTrue(kitty.update([FramePicture(rect: rect, image: img)]) { _ in true }.isEmpty,
                      "kitty keeps an unchanged picture even when the cells below were redrawn")
        var changed = img
        changed.pixels[0] ^= 0xff
        let second = String(decoding: kitty.update([FramePicture(rect: rect, image: changed)]) { _ in false }, as: UTF8.self)
        XCTAssertTrue(second.contains("a=T") && second.contains("a=d,d=I"), "new picture up, the old one deleted")
        XCTAssertTrue(String(decoding: kitty.update([]) { _ in false }, as: UTF8.self).contains("a=d,d=I"))
        XCTAssertEqual(String(decoding: kitty.removeAll, as: UTF8.self), "\u{1b}_Ga=d,d=A,q=2\u{1b}\\",
                       "leaving (q, signals, crashes) deletes every picture")

        // kitty on this machine: the pixels go into a temporary file, only its name is sent.
        var local = GraphicsChoice(graphics: .kitty, cellWidth: 10, cellHeight: 20, tmuxPassthrough: false,
                                   sixelColors: 256, setSixelRegisters: false, reason: "")
        local.kittyFiles = true
        let viaFile = String(decoding: GraphicsOutput(choice: local, env: [:]).update([FramePicture(rect: rect, image: img)]) { _ in true },
                             as: UTF8.self)
        XCTAssertTrue(viaFile.contains("t=t,f=24,s=\(img.width),v=\(img.height)"), viaFile)
        let name = String(viaFile.components(separatedBy: ";").last!.prefix { $0 != "\u{1b}" })
        let path = String(decoding: Data(base64Encoded: name) ?? Data(), as: UTF8.self)
        XCTAssertTrue(path.hasPrefix("/tmp/tty-graphics-protocol-"), path)
        XCTAssertEqual(FileManager.default.contents(atPath: path).map { [UInt8]($0) }, img.pixels)
        unlink(path)

        let sixel = GraphicsOutput(choice: GraphicsChoice(graphics: .sixel, cellWidth: 10, cellHeight: 20, tmuxPassthrough: false,
                                                          sixelColors: 256, setSixelRegisters: false, reason: ""), env: [:])
        XCTAssertFalse(sixel.update([FramePicture(rect: rect, image: img)]) { _ in false }.isEmpty)
        XCTAssertTrue(sixel.update([FramePicture(rect: rect, image: img)]) { _ in false }.isEmpty)
        XCTAssertFalse(sixel.update([FramePicture(rect: rect, image: img)]) { _ in true }.isEmpty,
                       "cells redrawn under a sixel picture erase it: send it again")
        XCTAssertFalse(sixel.needsClear(for: [FramePicture(rect: rect, image: img)]))
        XCTAssertTrue(sixel.needsClear(for: []), "a sixel picture that goes away needs the screen cleared")
    }

    func testThePictureStaysWithinTheLargestTheTerminalShows() {
        // 200 x 60 cells of 8 x 16 pixels: the picture area is wider than xterm's 1000 pixels.
        let s = Fixture.state(width: 200, height: 60)
        let view = Result { try Views.compute(s.view, recording: Fixture.recording, selection: s.selection) }
        let free = Renderer.render(s, view: view, context: Fixture.context, mode: .pixels(cellWidth: 8, cellHeight: 16)).pictures
        XCTAssertGreaterThan(free.map { $0.image.width }.max() ?? 0, 1000, "the case: an unbounded picture is larger")
        let capped = Renderer.render(s, view: view, context: Fixture.context,
                                     mode: .pixels(cellWidth: 8, cellHeight: 16, maxWidth: 1000, maxHeight: 700)).pictures
        XCTAssertFalse(capped.isEmpty)
        for p in capped {
            XCTAssertLessThanOrEqual(p.image.width, 1000); XCTAssertLessThanOrEqual(p.image.height, 700)
            XCTAssertEqual(p.image.width, p.rect.width * 8); XCTAssertEqual(p.image.height, p.rect.height * 16)
        }
    }

    func testLinesThatMoveAreFoundSoCellPicturesAreNotScrolledAway() {
        // The live side panel grows by lines (before -> after, interventions): ncurses would
        // scroll the rows below into place and drag a sixel picture on the same rows with them.
        let pixels = PictureMode.pixels(cellWidth: 7, cellHeight: 14)
        let s = Fixture.state(width: 120, height: 40)
        let plain = Renderer.render(s, view: Result { try Views.compute(s.view, recording: Fixture.recording, selection: s.selection) },
                                    context: Fixture.context, mode: pixels).buffer
        var grown = plain
        for y in stride(from: grown.height - 3, through: 8, by: -1) {          // rows 6-35, 2 rows down
            for x in 0 ..< 120 { grown[x, y] = plain[x, y - 2] }
        }
        XCTAssertTrue(Terminal.linesMoved(from: plain, to: grown))
        XCTAssertFalse(Terminal.linesMoved(from: plain, to: plain), "nothing moved")
        XCTAssertFalse(Terminal.linesMoved(from: nil, to: plain))
        // A changed value in place is no move.
        var edited = plain
        edited.put("0.999", x: 100, y: 20, fg: Theme.standard.text, bg: Theme.standard.background)
        XCTAssertFalse(Terminal.linesMoved(from: plain, to: edited))
        // The real case: the panel of a live run against the plain one.
        let explorer = Explorer(context: Fixture.context, options: ExplorerOptions(),
                                live: LiveSetup(runner: { _ in Fixture.recording }))
        var live = explorer.initialState(width: 120, height: 40)
        live.liveUnavailable = nil
        let before = explorer.frame(live, tier: .truecolor, mode: pixels).buffer
        live = KeyHandling.handle(live, .char("K")).0
        XCTAssertTrue(Terminal.linesMoved(from: before, to: explorer.frame(live, tier: .truecolor, mode: pixels).buffer))
    }
}
