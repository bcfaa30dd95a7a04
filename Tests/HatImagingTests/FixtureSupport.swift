// Access to the fixtures made by tools/gen_image_fixtures.py.
import Foundation
@testable import HatImaging

enum Fixture {
    static func path(_ relative: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }

    /// A JSON array of objects (the generator's manifest.json files).
    static func manifest(_ relative: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(relative)))
        return try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }

    /// Binary PPM (P6, maxval 255) as written by the generator: "P6\n<w> <h>\n255\n" + RGB bytes.
    static func ppm(_ relative: String) throws -> RGBImage {
        let b = try bytes(relative)
        var fields: [String] = []
        var i = 0
        while fields.count < 4 {
            var token = ""
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A { i += 1 }
            while i < b.count, b[i] != 0x20, b[i] != 0x0A { token.append(Character(UnicodeScalar(b[i]))); i += 1 }
            fields.append(token)
        }
        i += 1  // the single whitespace after maxval
        precondition(fields[0] == "P6" && fields[3] == "255", "not a P6 PPM: \(relative)")
        let w = Int(fields[1])!, h = Int(fields[2])!
        return RGBImage(width: w, height: h, pixels: Array(b[i..<i + w * h * 3]))
    }
}

/// Largest and mean absolute difference between two equally sized byte images.
func byteDifference(_ a: RGBImage, _ b: RGBImage) -> (max: Int, mean: Double, differing: Int) {
    precondition(a.width == b.width && a.height == b.height)
    var worst = 0, total = 0, differing = 0
    for (x, y) in zip(a.pixels, b.pixels) {
        let d = abs(Int(x) - Int(y))
        worst = max(worst, d); total += d
        if d != 0 { differing += 1 }
    }
    return (worst, Double(total) / Double(max(a.pixels.count, 1)), differing)
}
