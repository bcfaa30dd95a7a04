// What reaches the terminal per frame (GraphicsOutput.frame, as Terminal.draw uses it): at
// 200 x 60 with real pixels, a key that changes only text re-sends no picture, and a key that
// changes the picture sends exactly one. Counted in bytes and escape strings, for kitty (every
// medium) and sixel.
import Foundation
import XCTest
@testable import HatTUI
import HatViews

final class GraphicsOutputTests: XCTestCase {
    static let mode = PictureMode.pixels(cellWidth: 6, cellHeight: 13)

    func choice(_ p: GraphicsProtocol) -> GraphicsChoice {
        var c = GraphicsChoice(graphics: p, cellWidth: 6, cellHeight: 13, tmuxPassthrough: false,
                               sixelColors: 256, setSixelRegisters: false, reason: "")
        c.kittyFiles = true
        return c
    }

    /// Occurrences of `needle` in `bytes`.
    func count(_ needle: String, in bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: needle).count - 1
    }

    /// Removes the temporary files and shared memory named in kitty transmissions (no kitty reads them here).
    func removeLocal(_ bytes: [UInt8]) {
        for part in String(decoding: bytes, as: UTF8.self).components(separatedBy: "\u{1b}_G").dropFirst()
        where part.contains("t=t,") || part.contains("t=s,") {
            let b64 = part.components(separatedBy: ";").last!.prefix { $0 != "\u{1b}" }
            let name = String(decoding: Data(base64Encoded: String(b64)) ?? Data(), as: UTF8.self)
            if part.contains("t=s,") { KittyFiles.removeShared(name) } else { KittyFiles.remove(name) }
        }
    }

    func testOnlyKeysThatChangeThePictureSendOne() throws {
        let explorer = Explorer(context: Fixture.context, options: ExplorerOptions())
        let cases: [(GraphicsProtocol, KittyTransmission?, String)] = [
            (.kitty, .file, "\u{1b}_Ga=T"), (.kitty, .sharedMemory, "\u{1b}_Ga=T"), (.kitty, .rgb, "\u{1b}_Ga=T"),
            (.kitty, .png, "\u{1b}_Ga=T"), (.sixel, nil, "\u{1b}Pq"),
        ]
        for (p, transmission, start) in cases {
            let what = "\(p) \(transmission.map { $0.rawValue } ?? "")"
            let out = GraphicsOutput(choice: choice(p), env: [:], transmission: transmission)
            var state = explorer.initialState(width: 200, height: 60)
            var previous: CellBuffer? = nil
            func press(_ key: Key?) -> (bytes: [UInt8], frame: Frame) {
                if let key { state = KeyHandling.handle(state, key).0 }
                let f = explorer.frame(state, tier: .truecolor, mode: Self.mode)
                state.picture = f.picture
                state.sideMatrix = f.sideMatrix
                let step = out.frame(f.pictures, buffer: f.buffer, previous: previous)
                XCTAssertFalse(step.clear, what)
                previous = f.buffer
                removeLocal(step.bytes)
                return (step.bytes, f)
            }
            let first = press(nil)
            XCTAssertEqual(first.frame.pictures.count, 1, what)
            XCTAssertEqual(count(start, in: first.bytes), 1, "\(what): the first frame sends its picture")

            // `]` changes the brush: only the status line says so.
            let text = press(.char("]"))
            XCTAssertNotEqual(text.frame.buffer, first.frame.buffer, "\(what): the key changed text")
            XCTAssertEqual(text.frame.pictures, first.frame.pictures)
            XCTAssertEqual(text.bytes.count, 0, "\(what): no picture bytes for a text-only change")
            XCTAssertEqual(press(.char("[")).bytes.count, 0, what)
            XCTAssertEqual(press(nil).bytes.count, 0, "\(what): an unchanged frame sends nothing")

            // The query moves: the picture changes and is sent once (kitty: the old one deleted).
            let moved = press(.right)
            XCTAssertNotEqual(moved.frame.pictures, first.frame.pictures, what)
            XCTAssertEqual(count(start, in: moved.bytes), 1, "\(what): one new picture")
            if p == .kitty { XCTAssertEqual(count("a=d,d=I", in: moved.bytes), 1, "\(what): the old picture deleted") }
            XCTAssertEqual(press(.char("]")).bytes.count, 0, what)
        }
    }
}
