// Where a recording came from, beyond its numbers: the checkpoint, the input and how it was
// preprocessed, the class names, the interventions and relative-position buffers of the forward
// pass, and what wrote it. Enough for the explorer's panel, a figure's manifest and a person
// reading the file once the model is gone (docs/recording-format.md).

/// timm's eval transform as applied to a photo (absent when the input was a ready tensor).
public struct InputPreprocessing: Codable, Equatable, Sendable {
    public var height: Int, width: Int
    public var cropPct: Float
    public var cropMode: String
    public var interpolation: String
    public var mean: [Float], std: [Float]
    public init(height: Int, width: Int, cropPct: Float, cropMode: String, interpolation: String = "bicubic",
                mean: [Float] = ModelConfig.imagenetMean, std: [Float] = ModelConfig.imagenetStd) {
        self.height = height; self.width = width; self.cropPct = cropPct; self.cropMode = cropMode
        self.interpolation = interpolation; self.mean = mean; self.std = std
    }
}

public struct Provenance: Codable, Equatable, Sendable {
    /// The checkpoint the model was loaded from.
    public struct Checkpoint: Codable, Equatable, Sendable {
        public var path: String
        /// Hex SHA-256 of the file, nil when not computed.
        public var sha256: String?
        /// The embedded demo model.
        public var demo: Bool
        public init(path: String, sha256: String? = nil, demo: Bool = false) {
            self.path = path; self.sha256 = sha256; self.demo = demo
        }
        /// The file name, "demo (fastervit_demo.pth.tar)" for the demo.
        public var label: String {
            let file = path.split(separator: "/").last.map(String.init) ?? path
            return demo ? "demo (\(file))" : file
        }
    }

    /// The file the network input was made from.
    public struct Input: Codable, Equatable, Sendable {
        /// "image" (a photo through the eval transform), "npy" or "safetensors" (a tensor fed as
        /// is), "recording" (another recording's input).
        public var kind: String
        /// As given on the command line ("-" = standard input).
        public var path: String
        /// Hex SHA-256 of the file's bytes, nil when not computed.
        public var sha256: String?
        public init(kind: String, path: String, sha256: String? = nil) {
            self.kind = kind; self.path = path; self.sha256 = sha256
        }
        /// The file name ("(standard input)" for `-`).
        public var label: String { path == "-" ? "(standard input)" : (path.split(separator: "/").last.map(String.init) ?? path) }
    }

    /// What wrote the recording ("hatscope 0.1.0", "tools/record_torch.py ...").
    public var producer: String
    public var checkpoint: Checkpoint?
    public var input: Input?
    public var preprocessing: InputPreprocessing?
    /// Names of the classes by index; empty when unknown.
    public var classNames: [String]
    /// Interventions applied in the forward pass, in their CLI spelling
    /// (`--ablate-head levels.2.blocks.0.attn:3`); empty for the plain forward pass.
    public var interventions: [String]
    /// The relative-position buffers the forward pass used: "stored" (the checkpoint's) or
    /// "geometry" (recomputed from the window geometry).
    public var buffers: String

    public init(producer: String = "", checkpoint: Checkpoint? = nil, input: Input? = nil,
                preprocessing: InputPreprocessing? = nil, classNames: [String] = [], interventions: [String] = [],
                buffers: String = Provenance.defaultBuffers) {
        self.producer = producer; self.checkpoint = checkpoint; self.input = input
        self.preprocessing = preprocessing; self.classNames = classNames; self.interventions = interventions
        self.buffers = buffers
    }

    /// Where nothing says otherwise (synthetic recordings, files without provenance): tables
    /// recomputed from the geometry, as a freshly built model has them.
    public static let defaultBuffers = "geometry"
    /// The values `buffers` may take.
    public static let bufferChoices = ["stored", "geometry"]
}
