// Why a recording file cannot be used: one line each, naming the file and what is wrong, so the
// command line prints `hatscope: <description>`.
import HatRecording

public enum RecordingFileError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be opened or mapped.
    case unreadable(path: String, reason: String)
    /// Not a safetensors file, or not a hatscope recording.
    case notARecording(path: String, reason: String)
    /// `schema_version` missing or other than the one this hatscope reads.
    case schemaVersion(path: String, found: String?)
    /// `geometry_version` missing or other than ModelGeometry.version.
    case geometryVersion(path: String, found: String?)
    /// A metadata field missing or unreadable.
    case metadata(path: String, field: String, reason: String)
    /// A tensor the metadata implies is not in the file.
    case missingTensor(path: String, name: String)
    /// A tensor with a shape or type other than the metadata's geometry implies.
    case tensorMismatch(path: String, name: String, reason: String)
    /// A tensor the metadata does not account for.
    case unexpectedTensor(path: String, name: String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): cannot read the recording: \(r)"
        case let .notARecording(p, r): return "\(p): not a hatscope recording: \(r)"
        case let .schemaVersion(p, f):
            return "\(p): recording schema version \(f ?? "missing"); this hatscope reads version \(RecordingFormat.schemaVersion)"
                + " (re-record it with this hatscope or tools/record_torch.py)"
        case let .geometryVersion(p, f):
            return "\(p): recording made with geometry version \(f ?? "missing"); this hatscope lays out maps by version "
                + "\(ModelGeometry.version) (re-record it)"
        case let .metadata(p, f, r): return "\(p): recording metadata '\(f)' \(r)"
        case let .missingTensor(p, n): return "\(p): recording has no tensor \(n), which its metadata implies"
        case let .tensorMismatch(p, n, r): return "\(p): recording tensor \(n) \(r)"
        case let .unexpectedTensor(p, n): return "\(p): recording holds tensor \(n), which its metadata does not account for"
        }
    }
}
