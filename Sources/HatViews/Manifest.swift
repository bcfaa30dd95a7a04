// manifest.json: everything needed to make an exported figure again — tool version, model
// configuration, checkpoint path and sha256, the image (or input tensor) and how it was
// preprocessed, the relative-position buffers used, the interventions of the forward pass, the
// rendering settings, and per figure its
// file, view, selection, value range and numbers. Written with sorted keys and no timestamps, so the same export gives the same bytes.
import Foundation
import HatSystem
import HatImaging
import HatRecording

public struct Manifest: Codable, Equatable, Sendable {
    public struct Checkpoint: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) { self.path = path; self.sha256 = sha256 }
    }

    /// Where the network input came from: an image file (preprocessed as below) or a .npy tensor
    /// fed as is; and the recording file when the figures were drawn from one (`--recording`).
    public struct Source: Codable, Equatable, Sendable {
        public var image: String?
        public var input: String?
        public var recording: String?
        public init(image: String? = nil, input: String? = nil, recording: String? = nil) {
            self.image = image; self.input = input; self.recording = recording
        }
    }

    /// timm's eval transform as applied (absent when the input was a ready tensor).
    public typealias Preprocessing = InputPreprocessing

    /// Which relative-position buffers the model ran on (`--buffers`: "stored" = the
    /// checkpoint's, as the official forward reads them; "geometry" = recomputed) and how the
    /// checkpoint's compare with the geometry, in one line.
    public struct Buffers: Codable, Equatable, Sendable {
        public var choice: String
        public var comparison: String
        public init(choice: String, comparison: String) { self.choice = choice; self.comparison = comparison }
    }

    public struct Rendering: Codable, Equatable, Sendable {
        public var colormap: String
        public var opacity: Float
        public var scale: Int
        public var sharedScale: Bool
        public init(colormap: String, opacity: Float, scale: Int, sharedScale: Bool) {
            self.colormap = colormap; self.opacity = opacity; self.scale = scale; self.sharedScale = sharedScale
        }
        public init(_ o: FigureOptions, sharedScale: Bool) {
            self.init(colormap: o.colormap.rawValue, opacity: o.opacity, scale: o.scale, sharedScale: sharedScale)
        }
    }

    public struct Number: Codable, Equatable, Sendable {
        public var name: String, value: String
        public init(name: String, value: String) { self.name = name; self.value = value }
    }

    public struct Figure: Codable, Equatable, Sendable {
        public var file: String
        public var view: ViewKind
        /// True for a montage of all heads (the selection's head is then irrelevant).
        public var montage: Bool
        public var selection: Selection
        public var title: String
        public var rangeMin: Float, rangeMax: Float
        public var scaleLabel: String
        public var numbers: [Number]
        public init(file: String, view: ViewKind, montage: Bool, selection: Selection, title: String,
                    rangeMin: Float, rangeMax: Float, scaleLabel: String, numbers: [Number]) {
            self.file = file; self.view = view; self.montage = montage; self.selection = selection
            self.title = title; self.rangeMin = rangeMin; self.rangeMax = rangeMax; self.scaleLabel = scaleLabel
            self.numbers = numbers
        }
        /// The entry for a single view written to `file`.
        public init(file: String, result: ViewResult, selection: Selection, montage: Bool = false,
                    range: ClosedRange<Float>? = nil) {
            self.init(file: file, view: result.kind, montage: montage, selection: selection, title: result.title,
                      rangeMin: range?.lowerBound ?? result.rangeMin, rangeMax: range?.upperBound ?? result.rangeMax,
                      scaleLabel: result.scaleLabel,
                      numbers: result.numbers.map { Number(name: $0.0, value: $0.1) })
        }
    }

    /// A requested view that was not written, and why (e.g. no carrier tokens in stage 4).
    public struct Skipped: Codable, Equatable, Sendable {
        public var view: ViewKind
        public var selection: Selection
        public var reason: String
        public init(view: ViewKind, selection: Selection, reason: String) {
            self.view = view; self.selection = selection; self.reason = reason
        }
    }

    public var tool: String
    public var version: String
    public var model: ModelConfig
    public var checkpoint: Checkpoint?
    public var source: Source
    public var preprocessing: Preprocessing?
    public var inputHeight: Int, inputWidth: Int
    public var rendering: Rendering
    public var figures: [Figure]
    public var skipped: [Skipped]
    /// Absent in manifests written before hatscope read stored buffers.
    public var buffers: Buffers?
    /// The interventions of the forward pass the figures show, in their option spelling
    /// (`--cut-global levels.2`); empty for the plain forward, absent in older manifests.
    public var interventions: [String]?

    public init(version: String, model: ModelConfig, checkpoint: Checkpoint?, source: Source,
                preprocessing: Preprocessing?, inputHeight: Int, inputWidth: Int, rendering: Rendering,
                figures: [Figure] = [], skipped: [Skipped] = [], buffers: Buffers? = nil, interventions: [String]? = nil) {
        tool = "hatscope"
        self.version = version; self.model = model; self.checkpoint = checkpoint; self.source = source
        self.preprocessing = preprocessing; self.inputHeight = inputHeight; self.inputWidth = inputWidth
        self.rendering = rendering; self.figures = figures; self.skipped = skipped; self.buffers = buffers
        self.interventions = interventions
    }

    /// Deterministic JSON: sorted keys, pretty-printed, non-finite floats as strings.
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Array(try e.encode(self)) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try d.decode(Manifest.self, from: Data(bytes))
    }

    /// Writes `folder/manifest.json` (whole or not at all; with a batch, when it is committed).
    public func write(toFolder folder: String, batch: OutputBatch? = nil) throws {
        let bytes = try encoded()
        if let batch { try batch.write(bytes, to: folder + "/manifest.json") } else { try OutputFile.write(bytes, to: folder + "/manifest.json") }
    }

    public static func read(path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ViewError.invalidSelection("cannot read manifest '\(path)'")
        }
        return try decode(Array(data))
    }
}

/// Deterministic, descriptive figure file names: `local_s3_b2_h4_w1_q3-5.png` (stage 1-based as
/// in titles; block, head, window 0-based; `hmean` for the head mean; `qc2` for carrier slot 2;
/// `c5` for the carrier view's carrier; `montage` and `shared` for montages).
public enum FigureNaming {
    public static func fileName(_ kind: ViewKind, _ s: Selection, recording: Recording, montage: Bool = false,
                                sharedScale: Bool = false) -> String {
        var parts = [kind.rawValue, "s\(s.level + 1)"]
        if kind == .energy { return parts.joined(separator: "_") + ".png" }
        let stage = recording.stages.first { $0.level == s.level }
        if kind == .propagation {
            return parts.joined(separator: "_") + "_b\((stage?.blocks.count ?? 1) - 1).png"
        }
        parts.append("b\(s.block)")
        parts.append(montage ? (sharedScale ? "montage-shared" : "montage") : (s.head.map { "h\($0)" } ?? "hmean"))
        if kind == .carrier {
            parts.append("c\(s.carrier)")
        } else {
            if let st = stage { parts.append("w\(st.geometry.window(row: s.queryRow, col: s.queryCol))") }
            parts.append(s.carrierSlot.map { "qc\($0)" } ?? "q\(s.queryRow)-\(s.queryCol)")
        }
        return parts.joined(separator: "_") + ".png"
    }
}
