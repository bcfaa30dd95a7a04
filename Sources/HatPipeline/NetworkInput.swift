// The one way a network input comes in, for every subcommand: a PNG or JPEG photo (through the
// model's eval transform), a .npy array or a safetensors file holding [N, 3, H, W] float values
// (fed as is; N > 1 only where a command runs a batch, `input(for:)` refuses it in one line). The kind is told by the content, not the name; `-` is standard input; the file is
// read once (FIFOs, `<(cmd)`, /dev/stdin work) and never more than its header declares. A
// recording file (docs/recording-format.md; a safetensors file whose metadata says so) is the
// third kind: its recorded `input` is fed, read in place from the mapped file, its maps never
// loaded (to draw a recording without the model, the commands take --recording).
#if canImport(Glibc)
import Glibc
#endif
import HatCheckpoint
import HatCore
import HatImaging
import HatModel
import HatRecording
import HatRecordingFile
import HatSystem

public struct NetworkInput: @unchecked Sendable {
    public enum Kind: String, Sendable { case image, npy, safetensors, recording }
    /// The path as given (`-` for standard input).
    public var path: String
    public var kind: Kind
    /// [1, 3, H, W] float32: what the network is fed ([N, 3, H, W] from `NetworkInputFile.batch(for:)`).
    public var tensor: Tensor
    /// For a photo: how it was resized and cropped (and the 8-bit image the network sees).
    public var preprocessed: ImagePreprocess.Result?
    /// For a photo: its size before preprocessing (to map boxes given in its pixels).
    public var sourceWidth: Int? = nil, sourceHeight: Int? = nil

    /// The file name for titles and labels.
    public var label: String { path == "-" ? "(standard input)" : (path.split(separator: "/").last.map(String.init) ?? path) }
}

/// An input file read and decoded, before a model is chosen: a tensor (whose size can decide the
/// resolution the model is built for) or a photo (preprocessed once the model is known).
public struct NetworkInputFile: @unchecked Sendable {
    public enum Content {
        case tensor(Tensor, NetworkInput.Kind)
        case image(RGBImage)
    }
    public let path: String
    public let content: Content

    /// [H, W] of a tensor input (nil for a photo, or a tensor of the wrong rank: the shape check
    /// names that).
    public var resolution: [Int]? {
        if case let .tensor(t, _) = content, t.shape.count == 4 { return [t.shape[2], t.shape[3]] }
        return nil
    }

    /// How many images it holds: N of a tensor [N, 3, H, W], 1 for a photo.
    public var images: Int {
        if case let .tensor(t, _) = content, t.shape.count == 4 { return t.shape[0] }
        return 1
    }

    /// The network input for `config`, one image: the tensor as is, or the photo through the
    /// model's eval transform. A tensor of several images is refused (commands that show one
    /// image take one; `batch(for:)` takes them all).
    public func input(for config: ModelConfig) throws -> NetworkInput {
        if case let .tensor(t, _) = content, images != 1 {
            throw PipelineError("\(UserMessage.name(path == "-" ? "standard input" : path)) holds \(images) images "
                                + "\(describe(shape: t.shape)); this command takes one ([1, 3, H, W])")
        }
        return try batch(for: config)
    }

    /// The network input for `config` with every image it holds ([N, 3, H, W]; a photo is one).
    public func batch(for config: ModelConfig) throws -> NetworkInput {
        let name = path == "-" ? "standard input" : path
        switch content {
        case let .tensor(t, kind):
            return NetworkInput(path: path, kind: kind, tensor: t, preprocessed: nil)
        case let .image(image):
            let result = try preprocess(image, name: name, config: config)
            return NetworkInput(path: path, kind: .image, tensor: result.tensor, preprocessed: result,
                                sourceWidth: image.width, sourceHeight: image.height)
        }
    }
}

public enum NetworkInputReader {
    /// Largest tensor file read (a 4096 x 4096 float64 input is 384 MB).
    public static let maxTensorBytes = 512 << 20

    /// Reads `path` and makes the network input for `config`.
    public static func read(_ path: String, config: ModelConfig) throws -> NetworkInput {
        try open(path).input(for: config)
    }

    /// Reads and decodes `path` (once; `-` is standard input).
    public static func open(_ path: String) throws -> NetworkInputFile {
        // Only a regular file can be a recording here (it is memory-mapped); the check opens
        // nothing else, so a FIFO's writer is never disturbed before the one read below.
        var st = stat()
        if path != "-", stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, RecordingReader.isRecording(path: path) {
            let r: Recording
            do { r = try RecordingReader.read(path: path) } catch let e as RecordingFileError { throw PipelineError(e.description) }
            return NetworkInputFile(path: path, content: .tensor(Tensor(shape: [1, 3, r.inputHeight, r.inputWidth], data: r.input), .recording))
        }
        var kind: NetworkInput.Kind?
        var imageError: ImageError?
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path) { prefix in
                let b = [UInt8](prefix.prefix(16))
                if ImageIO.sniff(b) != nil || (b.count < 8 && PNGCodec.signature.starts(with: b)) {
                    kind = .image
                    let bound = ImageIO.sizeBound(prefix)
                    if case .invalid = bound { imageError = headerError(prefix) }
                    return bound
                }
                if b.count < 9 && NPY.magicPrefix(b) { return .needMore }
                if NPY.sniff(prefix) { kind = .npy; return NPY.sizeBound(prefix, maxBytes: maxTensorBytes) }
                if b.count < 9 { return .needMore }
                if SafeTensors.sniff(prefix) { kind = .safetensors; return SafeTensors.sizeBound(prefix, maxBytes: maxTensorBytes) }
                return .invalid(notAnInput)
            }
        } catch let e as FileError {
            if let imageError { throw PipelineError("\(UserMessage.name(path)): \(imageError)") }
            throw e
        }
        guard let kind else { throw FileError.unrecognised(path: path, reason: notAnInput) }
        let name = path == "-" ? "standard input" : path
        switch kind {
        case .image:
            do { return NetworkInputFile(path: path, content: .image(try ImageIO.decode(bytes, path: name))) } catch let e as ImageError {
                throw PipelineError("\(UserMessage.name(name)): \(e)")
            }
        case .npy:
            let t = try bytes.withUnsafeBytes { try NPY.parse($0, context: name) }
            return NetworkInputFile(path: path, content: .tensor(try checkShape(t, name), .npy))
        case .safetensors, .recording:
            // (A recording on a stream lands here: its `input` tensor, the whole file read once.)
            let file = try bytes.withUnsafeBytes { try SafeTensors.parse($0, context: name) }
            let all = file.dictionary
            let t: Tensor
            if let named = all["input"] { t = named } else if all.count == 1, let only = all.values.first { t = only } else {
                throw PipelineError("\(UserMessage.name(name)): expected one tensor, or one named \"input\" "
                                    + "(found \(all.keys.sorted().prefix(5).joined(separator: ", "))\(all.count > 5 ? ", ..." : ""))")
            }
            return NetworkInputFile(path: path, content: .tensor(try checkShape(t, name), .safetensors))
        }
    }
    static let notAnInput = "not a PNG or JPEG image, a .npy array or a safetensors file"

    /// The image header's own error (too large, empty, corrupt), for a precise message.
    private static func headerError(_ prefix: UnsafeRawBufferPointer) -> ImageError? {
        do { _ = try ImageIO.checkHeader(prefix) } catch let e as ImageError { return e } catch {}
        return nil
    }

    private static func checkShape(_ t: Tensor, _ name: String) throws -> Tensor {
        let s = t.shape
        guard s.count == 4, s[0] >= 1, s[1] == 3 else {
            let channels = s.count == 4 && s[0] >= 1 ? " with \(s[1]) channels" : ""
            throw PipelineError("\(UserMessage.name(name)) holds a \(describe(shape: s)) tensor\(channels); the network takes "
                                + "[1, 3, H, W] (3 RGB channels, H and W multiples of 32)")
        }
        return t
    }
}
