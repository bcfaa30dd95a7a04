// Puts the frame's pictures on screen after ncurses has drawn the text, and takes them off again:
// remembers what is shown where, re-sends a picture only when its pixels changed or the cells
// under it were redrawn, and says when the screen must be cleared first (sixel and iTerm2
// pictures live in the cells: a picture that moved or went away would otherwise stay behind).
import Foundation
import HatImaging

final class GraphicsOutput {
    let choice: GraphicsChoice
    /// How kitty pictures travel.
    let transmission: KittyTransmission
    private struct Shown { var rect: CellRect; var hash: Int; var id: UInt32 }
    private var shown: [Shown] = []
    private var nextID: UInt32 = 0x4853_0001   // "HS..": away from other programs' small ids

    /// `transmission`: forced (benchmarks), or nil to take the fastest the terminal can read.
    init(choice: GraphicsChoice, env: [String: String], transmission forced: KittyTransmission? = nil) {
        self.choice = choice
        transmission = forced ?? GraphicsOutput.transmission(for: choice, env: env)
    }

    /// A file when kitty answered that it reads ours (it runs on this machine), else the tty:
    /// raw RGB locally, PNG over SSH where bytes cost more than encoding time.
    static func transmission(for choice: GraphicsChoice, env: [String: String]) -> KittyTransmission {
        if choice.kittyFiles { return .file }
        return (env["SSH_CONNECTION"] ?? env["SSH_TTY"] ?? "").isEmpty ? .rgb : .png
    }

    static func hash(_ image: RGBImage) -> Int {
        var h = Hasher()
        h.combine(image.width); h.combine(image.height)
        image.pixels.withUnsafeBytes { h.combine(bytes: $0) }
        return h.finalize()
    }

    /// Sixel and iTerm2 pictures are drawn into the cells (they move and go with them); kitty's
    /// float above them.
    var picturesLiveInCells: Bool { choice.graphics == .sixel || choice.graphics == .iterm2 }

    /// Whether the screen must be cleared (and fully redrawn by ncurses) before this frame:
    /// a cell-based picture moved, changed size or went away.
    func needsClear(for pictures: [FramePicture]) -> Bool {
        guard picturesLiveInCells else { return false }
        return shown.contains { old in !pictures.contains { $0.rect == old.rect } }
    }

    /// Forgets every picture, kitty's included (they were deleted: the program was suspended).
    func forgetAll() { shown.removeAll() }

    /// Forgets what is on screen (after a clear: everything must be sent again).
    func screenCleared() {
        if choice.graphics == .kitty { return }
        shown.removeAll()
    }

    /// One frame's pictures: whether the screen must be cleared before ncurses draws `buffer`
    /// (then every cell-based picture is sent again), and the bytes to write after the cells.
    /// `previous`: the cells of the frame before.
    func frame(_ pictures: [FramePicture], buffer: CellBuffer, previous: CellBuffer?) -> (clear: Bool, bytes: [UInt8]) {
        // Pictures that live in cells (sixel, iTerm2) also move when ncurses scrolls lines that
        // moved into place (its hardware-scrolling optimisation uses scrolling regions whatever
        // idlok says): a side panel that grew by a few lines would drag the picture down. A
        // frame whose lines moved is drawn on a cleared screen instead.
        let cleared = needsClear(for: pictures)
            || (picturesLiveInCells && Terminal.linesMoved(from: previous, to: buffer))
        let resized = previous.map { $0.width != buffer.width || $0.height != buffer.height } ?? true
        if cleared || resized { screenCleared() }
        let bytes = update(pictures) { rect in
            cleared || resized || !Terminal.sameCells(previous, buffer, in: rect)
        }
        return (cleared, bytes)
    }

    /// The bytes that bring the screen from what is shown to `pictures`. `damaged(rect)`: ncurses
    /// rewrote some cell inside rect in this frame.
    func update(_ pictures: [FramePicture], damaged: (CellRect) -> Bool) -> [UInt8] {
        var out: [UInt8] = []
        var next: [Shown] = []
        let wrap = choice.tmuxPassthrough
        func emit(_ b: [UInt8]) { out += wrap && choice.graphics != .kitty ? PictureEncoders.tmuxWrap(b) : b }
        for p in pictures {
            let h = GraphicsOutput.hash(p.image)
            let old = shown.first { $0.rect == p.rect }
            switch choice.graphics {
            case .kitty:
                if let o = old, o.hash == h {
                    next.append(o)      // unchanged: kitty keeps it where it is
                    continue
                }
                let id = nextID
                nextID = nextID &+ 1
                let bytes: [UInt8]
                let shared = transmission == .sharedMemory
                let local = shared ? KittyFiles.shared(for: p.image.pixels)
                    : transmission == .file ? KittyFiles.file(for: p.image.pixels) : nil
                if let name = local {
                    let b = PictureEncoders.kittyTransmitFile(name, width: p.image.width, height: p.image.height, id: id,
                                                             columns: p.rect.width, rows: p.rect.height, sharedMemory: shared)
                    bytes = wrap ? PictureEncoders.tmuxWrap(b) : b
                } else {
                    // Through the tty (also when a file or shared memory could not be written).
                    guard let b = try? PictureEncoders.kittyTransmit(p.image, id: id, columns: p.rect.width,
                                                                     rows: p.rect.height, payload: transmission == .png ? .png : .rgb,
                                                                     passthrough: wrap) else { continue }
                    bytes = b
                }
                out += PictureEncoders.saveCursor + PictureEncoders.moveTo(x: p.rect.x, y: p.rect.y) + bytes
                    + PictureEncoders.restoreCursor
                next.append(Shown(rect: p.rect, hash: h, id: id))
            case .sixel, .iterm2:
                if let o = old, o.hash == h, !damaged(p.rect) {
                    next.append(o)
                    continue
                }
                let bytes: [UInt8]?
                if choice.graphics == .sixel {
                    bytes = try? SixelEncoder.encode(p.image, colors: choice.sixelColors)
                } else {
                    bytes = try? PictureEncoders.iterm2(p.image, columns: p.rect.width, rows: p.rect.height)
                }
                guard let b = bytes else { continue }
                out += PictureEncoders.saveCursor + PictureEncoders.moveTo(x: p.rect.x, y: p.rect.y)
                emit(b)
                out += PictureEncoders.restoreCursor
                next.append(Shown(rect: p.rect, hash: h, id: 0))
            case .blocks:
                break
            }
        }
        if choice.graphics == .kitty {
            // Pictures replaced or gone: delete after the new ones are up (no blank frame).
            for o in shown where !next.contains(where: { $0.id == o.id }) {
                let d = PictureEncoders.kittyDelete(id: o.id)
                out += wrap ? PictureEncoders.tmuxWrap(d) : d
            }
        }
        shown = next
        return out
    }

    /// What takes every picture off the screen when leaving (kitty: delete them; sixel and
    /// iTerm2 pictures go with the alternate screen ncurses leaves).
    var removeAll: [UInt8] {
        guard choice.graphics == .kitty else { return [] }
        return choice.tmuxPassthrough ? PictureEncoders.tmuxWrap(PictureEncoders.kittyDeleteAll) : PictureEncoders.kittyDeleteAll
    }
}
