// Sidecar object boxes for the pointing game: `labels.json` in the --images folder, as the demo
// images carry it:
//   {"images": {"<name inside the folder>": {"objects": [ {"x": 169, "y": 175, "r": 24}, ... ]}}}
// An object is a centre and a radius (box x-r..x+r, y-r..y+r) or {"box": [x0, y0, x1, y1]}, in the
// pixels of the image file; boxes are mapped through the model's preprocessing (resize, then
// crop) into network-input pixels. Other fields are ignored.
import Foundation
import HatSystem
import HatViews

public struct ObjectLabels: Sendable {
    /// Boxes per image name, in the image file's pixels.
    public let boxes: [String: [ObjectBox]]

    public static let fileName = "labels.json"

    /// The sidecar of `folder`, or nil when it has none. A sidecar that cannot be read is an error.
    public static func read(folder: String) throws -> ObjectLabels? {
        let path = (folder.hasSuffix("/") ? folder : folder + "/") + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // Like the images beside it, only a regular file is read: a FIFO nobody writes to would
        // block the run, and a device is refused at its first bytes.
        if let kind = DatasetItem.specialKind(path) { throw PipelineError("\(UserMessage.name(path)): not a regular file (\(kind))") }
        let text = String(decoding: try InputFile.read(path) { PartialFile.jsonBound($0, what: "labels file", limit: 256 << 20) }, as: UTF8.self)
        struct Object: Decodable {
            var x: Double?, y: Double?, r: Double?
            var box: [Double]?
        }
        struct Entry: Decodable { var objects: [Object]? }
        struct File: Decodable { var images: [String: Entry] }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(text.utf8)) } catch {
            throw PipelineError("\(UserMessage.name(path)) is not a labels file ({\"images\": {name: {\"objects\": [...]}}}): \(PartialFile.reason(error))")
        }
        var out: [String: [ObjectBox]] = [:]
        for (name, entry) in file.images {
            out[name] = (entry.objects ?? []).compactMap { o in
                if let b = o.box, b.count == 4, b.allSatisfy(\.isFinite) {
                    return ObjectBox(x0: min(b[0], b[2]), y0: min(b[1], b[3]), x1: max(b[0], b[2]), y1: max(b[1], b[3]))
                }
                if let x = o.x, let y = o.y, let r = o.r, x.isFinite, y.isFinite, r.isFinite {
                    return ObjectBox(x0: x - abs(r), y0: y - abs(r), x1: x + abs(r), y1: y + abs(r))
                }
                return nil
            }
        }
        return ObjectLabels(boxes: out)
    }

    /// The boxes of `name` in network-input pixels of `input`, or nil when it has none listed.
    public func boxes(for name: String, input: NetworkInput) -> [ObjectBox]? {
        guard let list = boxes[name], !list.isEmpty else { return nil }
        guard let p = input.preprocessed, let w = input.sourceWidth, let h = input.sourceHeight, w > 0, h > 0 else { return list }
        let sx = Double(p.resizedWidth) / Double(w), sy = Double(p.resizedHeight) / Double(h)
        return list.map {
            ObjectBox(x0: $0.x0 * sx - Double(p.cropLeft), y0: $0.y0 * sy - Double(p.cropTop),
                      x1: $0.x1 * sx - Double(p.cropLeft), y1: $0.y1 * sy - Double(p.cropTop))
        }
    }
}
