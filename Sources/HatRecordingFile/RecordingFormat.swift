// The recording file (docs/recording-format.md): a safetensors file whose tensors carry the
// official module names, and whose `__metadata__` strings say everything else needed to draw every
// view without the model. One place for the names, shared by the writer, the reader and
// tools/record_torch.py (which spells the same strings).
import HatRecording

public enum RecordingFormat {
    /// `__metadata__["format"]`.
    public static let formatName = "hatscope-recording"
    /// Whether safetensors metadata marks a recording (for input readers that sniff a file's
    /// kind from its header: a recording is drawn, not fed to the model).
    public static func isRecording(metadata: [String: String]) -> Bool { metadata[Field.format] == formatName }

    /// `__metadata__["schema_version"]`: the layout this hatscope writes and reads. A file with
    /// another version is refused (a newer hatscope may read older versions; none exist yet).
    public static let schemaVersion = 1

    /// Metadata fields (values are strings; "JSON" ones hold JSON text).
    public enum Field {
        public static let format = "format"
        public static let schemaVersion = "schema_version"
        /// ModelGeometry.version the maps were laid out with.
        public static let geometryVersion = "geometry_version"
        /// JSON: the ModelConfig (hatscope field names).
        public static let config = "config"
        /// JSON: [height, width] of the network input.
        public static let inputSize = "input_size"
        /// "F32" or "F16": the element type of every attention map.
        public static let mapsDType = "maps_dtype"
        /// JSON: the blocks whose window attention is stored, ["levels.2.blocks.0", ...].
        public static let windowBlocks = "window_blocks"
        /// JSON: the Provenance (producer, checkpoint, source, preprocessing, class names,
        /// interventions, buffers).
        public static let provenance = "provenance"
        /// JSON: notes on what was not recorded and on quirks of the run, [String].
        public static let notes = "notes"
        public static let required = [format, schemaVersion, geometryVersion, config, inputSize, mapsDType, windowBlocks]
        public static let all = required + [provenance, notes]
    }

    // MARK: - Tensor names

    /// [1, 3, H, W] float32: the normalised network input, as fed.
    public static let input = "input"
    /// [1, classes] float32.
    public static let logits = "logits"
    /// [H / stride, W / stride] float32: per position, the L2 norm over channels of convolutional
    /// level L's output (before its downsampler).
    public static func energy(level: Int) -> String { "levels.\(level).energy" }
    /// [windows, heads, T, T]: window attention (carrier tokens first in each window).
    public static func windowMaps(level: Int, block: Int) -> String { "levels.\(level).blocks.\(block).attn.probs" }
    /// [1, heads, N, N]: carrier attention (carrier tokens in grid order).
    public static func carrierMaps(level: Int, block: Int) -> String { "levels.\(level).blocks.\(block).hat_attn.probs" }
    /// [paddedH, paddedW, channels] float32: what the stage's last block adds back from its carriers.
    public static func propagation(level: Int, block: Int) -> String { "levels.\(level).blocks.\(block).propagation" }
    /// "levels.2.blocks.0": a block in `window_blocks`.
    public static func blockName(level: Int, block: Int) -> String { "levels.\(level).blocks.\(block)" }
}

/// Element type of the attention maps in a file (`record --dtype`).
public enum RecordingDType: String, Sendable, CaseIterable {
    case f32, f16
    public var element: AttentionElement { self == .f32 ? .float32 : .float16 }
}
