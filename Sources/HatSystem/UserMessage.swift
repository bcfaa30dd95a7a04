// How hatscope speaks to a person on stderr: the first line is always `hatscope: <summary>`;
// details may follow, indented, at most `maxDetailLines` of them (longer lists end with how many
// were left out; `hatscope info` gives full lists). Control characters — from file names, tensor
// names, anything read from a file — are shown escaped, so a message can never move the cursor,
// change colours or forge a second line.

/// An error with a one-line summary and a few lines of detail (a weight mismatch lists keys).
/// Every other error is shown as one line, newlines included (escaped).
public protocol DetailedError: Error {
    var summary: String { get }
    var details: [String] { get }
}

public enum UserMessage {
    public static let prefix = "hatscope: "
    public static let maxDetailLines = 10

    /// The lines to print for `error`, each ending in a newline.
    public static func format(_ error: Error) -> String {
        if let d = error as? DetailedError { return format(summary: d.summary, details: d.details) }
        return format(summary: String(describing: error))
    }

    /// `hatscope: <summary>` and the indented details (at most `maxDetailLines`).
    public static func format(summary: String, details: [String] = [], prefix: String = UserMessage.prefix) -> String {
        let head = escaped(summary)
        var out = prefix + (head.isEmpty ? "error" : head) + "\n"
        for line in details.prefix(maxDetailLines) { out += "  " + escaped(line) + "\n" }
        if details.count > maxDetailLines {
            out += "  ... and \(details.count - maxDetailLines) more\n"
        }
        return out
    }

    /// `s` with every control character (C0, DEL, C1, bidirectional overrides) written as an
    /// escape (`\n`, `\x1B`, `\u{9B}`): what a terminal shows is exactly the characters of the text.
    public static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x00 ..< 0x20, 0x7F: out += "\\x" + hex(scalar.value, width: 2)
            case 0x80 ..< 0xA0: out += "\\u{" + hex(scalar.value, width: 2) + "}"
            case 0x202A ... 0x202E, 0x2066 ... 0x2069: out += "\\u{" + hex(scalar.value, width: 4) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A file name for a message: `(empty file name)` for "", else the name as given.
    public static func name(_ path: String) -> String {
        path.isEmpty ? "(empty file name)" : path
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
