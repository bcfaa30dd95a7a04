// A small strict JSON parser for safetensors headers. Written here (rather than using Foundation)
// to reject what the reference rejects: duplicate keys, trailing garbage, non-integer offsets,
// and to keep integers exact (offsets exceed 2^53 in hostile files).

indirect enum JSONValue: Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }
}

struct JSONParser {
    private let b: UnsafeRawBufferPointer
    private var i = 0
    private let context: String
    private static let maxDepth = 64

    static func parse(_ bytes: UnsafeRawBufferPointer, context: String) throws -> JSONValue {
        var p = JSONParser(b: bytes, context: context)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != bytes.count { throw p.error("trailing bytes after the JSON value") }
        return v
    }

    private init(b: UnsafeRawBufferPointer, context: String) { self.b = b; self.context = context }

    private func error(_ m: String) -> CheckpointError { .malformed("\(context): invalid JSON at byte \(i): \(m)") }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        guard i < b.count, b[i] == c else { throw error("expected '\(Character(UnicodeScalar(c)))'") }
        i += 1
    }

    private mutating func literal(_ s: String, _ v: JSONValue) throws -> JSONValue {
        for c in s.utf8 { try expect(c) }
        return v
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nested too deeply") }
        guard i < b.count else { throw error("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var items: [(String, JSONValue)] = []
            var seen = Set<String>()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(items) }
            while true {
                skipSpace()
                let k = try string()
                if !seen.insert(k).inserted { throw error("duplicate key \"\(k)\"") }
                skipSpace(); try expect(UInt8(ascii: ":")); skipSpace()
                items.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard i < b.count else { throw error("unterminated object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(items)
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw error("unterminated array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(items)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    private mutating func number() throws -> JSONValue {
        let start = i
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        if i == digitsStart { throw error("expected a value") }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            integral = false; i += 1
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            integral = false; i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: b[start ..< i]), as: UTF8.self)
        if integral, let v = Int(text) { return .integer(v) }
        if integral { throw error("integer \(text) out of range") }
        guard let d = Double(text) else { throw error("bad number \(text)") }
        return .number(d)
    }

    private mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0 ..< 4 {
            guard i < b.count, let d = Character(UnicodeScalar(b[i])).hexDigitValue else { throw error("bad \\u escape") }
            v = v << 4 | UInt32(d); i += 1
        }
        return v
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        var out = [UInt8]()
        while true {
            guard i < b.count else { throw error("unterminated string") }
            let c = b[i]; i += 1
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard i < b.count else { throw error("unterminated escape") }
            let e = b[i]; i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var u = try hex4()
                if (0xD800...0xDBFF).contains(u) {
                    try expect(UInt8(ascii: "\\")); try expect(UInt8(ascii: "u"))
                    let lo = try hex4()
                    guard (0xDC00...0xDFFF).contains(lo) else { throw error("unpaired surrogate") }
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                }
                guard let s = UnicodeScalar(u) else { throw error("invalid code point") }
                out.append(contentsOf: Array(String(Character(s)).utf8))
            default: throw error("bad escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not UTF-8") }
        return s
    }
}

/// JSON text for a string (writers).
func jsonQuoted(_ s: String) -> String {
    var r = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": r += "\\\""
        case "\\": r += "\\\\"
        case "\n": r += "\\n"
        case "\r": r += "\\r"
        case "\t": r += "\\t"
        default:
            if u.value < 0x20 { r += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
            else { r.unicodeScalars.append(u) }
        }
    }
    return r + "\""
}
