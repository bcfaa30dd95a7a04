// The escape strings that put a picture on screen, per protocol. kitty: raw RGB (f=24) through a
// temporary file when the terminal runs on this machine (KittyFiles), else
// through the tty - raw RGB locally, PNG (f=100) over SSH where bytes cost more than encoding
// time - base64 in chunks of 4096 as the protocol requires (m=1 ... m=0); always cell-aligned (c, r), the cursor
// left where it was (C=1), replies off (q=2). iTerm2: a PNG as OSC 1337 File. Sixel: libsixel (SixelEncoder).
// Inside tmux every string is wrapped in its passthrough (ESC P tmux; ... ESC \, ESC doubled).
import Foundation
import HatImaging

/// How kitty pictures travel: the protocol's medium (t=) and format (f=).
public enum KittyTransmission: String, CaseIterable, Sendable {
    /// Raw RGB in a temporary file (t=t, f=24): only its name goes through the tty.
    case file
    /// Raw RGB in a POSIX shared-memory object (t=s, f=24): never chosen by detection (no
    /// faster than a file here), only forced by benchmarks.
    case sharedMemory = "shm"
    /// Raw RGB, base64 through the tty (t=d, f=24).
    case rgb
    /// PNG (zlib level 1), base64 through the tty (t=d, f=100).
    case png
}

enum KittyPayload: Sendable { case rgb, png }

enum PictureEncoders {
    static let chunk = 4096

    /// Transmit and display `image` as kitty image `id` over `columns` x `rows` cells at the
    /// cursor.
    static func kittyTransmit(_ image: RGBImage, id: UInt32, columns: Int, rows: Int, payload: KittyPayload,
                              passthrough: Bool = false) throws -> [UInt8] {
        let data: [UInt8]
        let format: String
        switch payload {
        case .rgb: data = image.pixels; format = "f=24,s=\(image.width),v=\(image.height)"
        case .png: data = try PNGCodec.encode(image, compressionLevel: 1); format = "f=100"
        }
        let b64 = [UInt8](Data(data).base64EncodedData())
        var out: [UInt8] = []
        out.reserveCapacity(b64.count + b64.count / chunk * 16 + 128)
        var start = 0
        var first = true
        repeat {
            let end = min(b64.count, start + chunk)
            let more = end < b64.count ? 1 : 0
            let keys = first ? "a=T,\(format),i=\(id),p=1,c=\(columns),r=\(rows),C=1,q=2,m=\(more)" : "m=\(more),q=2"
            let command = Array("\u{1b}_G\(keys);".utf8) + b64[start..<end] + [0x1b, 0x5c]
            // tmux passes one escape string per wrapper.
            out += passthrough ? tmuxWrap(command) : command
            start = end
            first = false
        } while start < b64.count
        return out
    }

    /// The same from a temporary file (t=t) or a shared-memory object (`sharedMemory`: t=s)
    /// holding the raw RGB: only its name is sent.
    static func kittyTransmitFile(_ path: String, width: Int, height: Int, id: UInt32, columns: Int, rows: Int,
                                  sharedMemory: Bool = false) -> [UInt8] {
        Array(("\u{1b}_Ga=T,t=\(sharedMemory ? "s" : "t"),f=24,s=\(width),v=\(height),i=\(id),p=1,c=\(columns),r=\(rows),C=1,q=2;"
               + Data(path.utf8).base64EncodedString() + "\u{1b}\\").utf8)
    }

    /// Places the already transmitted image `id` again at the cursor.
    static func kittyPlace(id: UInt32, columns: Int, rows: Int) -> [UInt8] {
        Array("\u{1b}_Ga=p,i=\(id),p=1,c=\(columns),r=\(rows),C=1,q=2\u{1b}\\".utf8)
    }

    /// Deletes image `id`, its placements and its data.
    static func kittyDelete(id: UInt32) -> [UInt8] { Array("\u{1b}_Ga=d,d=I,i=\(id),q=2\u{1b}\\".utf8) }

    /// Deletes every image of ours and the others' on this screen (leaving).
    static let kittyDeleteAll: [UInt8] = Array("\u{1b}_Ga=d,d=A,q=2\u{1b}\\".utf8)

    /// An iTerm2 inline image stretched over `columns` x `rows` cells.
    static func iterm2(_ image: RGBImage, columns: Int, rows: Int) throws -> [UInt8] {
        let png = try PNGCodec.encode(image, compressionLevel: 1)
        let b64 = [UInt8](Data(png).base64EncodedData())
        return Array("\u{1b}]1337;File=inline=1;size=\(png.count);width=\(columns);height=\(rows);preserveAspectRatio=0:".utf8)
            + b64 + [0x07]
    }

    /// `bytes` wrapped for tmux's passthrough (needs `set -g allow-passthrough on`, tmux >= 3.3).
    static func tmuxWrap(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = Array("\u{1b}Ptmux;".utf8)
        out.reserveCapacity(bytes.count + bytes.count / 64 + 16)
        for b in bytes {
            if b == 0x1b { out.append(0x1b) }
            out.append(b)
        }
        return out + [0x1b, 0x5c]
    }

    /// Cursor to cell (x, y), 0-based.
    static func moveTo(x: Int, y: Int) -> [UInt8] { Array("\u{1b}[\(y + 1);\(x + 1)H".utf8) }
    static let saveCursor: [UInt8] = [0x1b, 0x37]
    static let restoreCursor: [UInt8] = [0x1b, 0x38]
}
