// NumPy .npy files (format versions 1-3): magic "\x93NUMPY", version, header length, a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a
// 64-byte boundary, then the array. Read: any float/int dtype of either byte order, C or Fortran
// order, converted to float32. Write: float32, little-endian, C order.
import HatCore
import HatSystem

public enum NPY {
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        defer { file.release() }
        return try parse(file.bytes, context: path)
    }

    /// True when `bytes` start with the .npy magic.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 6 && Array(bytes.prefix(6)) == magic
    }
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// True when `bytes` (however few) agree with the start of the .npy magic.
    public static func magicPrefix(_ bytes: [UInt8]) -> Bool {
        bytes.count <= 6 ? magic.starts(with: bytes) : Array(bytes.prefix(6)) == magic
    }

    /// The exact size of a .npy file from its first bytes (magic, version, header), refusing one
    /// that declares more than `maxBytes` of data.
    public static func sizeBound(_ prefix: UnsafeRawBufferPointer, maxBytes: Int) -> InputFile.Bound {
        guard prefix.count >= 12 else {
            return magic.starts(with: prefix.prefix(6)) ? .needMore : .invalid("not a .npy file")
        }
        guard sniff(prefix) else { return .invalid("not a .npy file") }
        let major = prefix[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(prefix[8]) | Int(prefix[9]) << 8; start = 10
        case 2, 3:
            headerLength = (0 ..< 4).reduce(0) { $0 | Int(prefix[8 + $1]) << (8 * $1) }; start = 12
        default: return .invalid("bad .npy array: format version \(major)")
        }
        guard headerLength <= 1 << 20 else { return .invalid("bad .npy array: a header of \(headerLength) bytes") }
        guard prefix.count >= start + headerLength else { return .needMore }
        let header = String(decoding: UnsafeRawBufferPointer(rebasing: prefix[start ..< start + headerLength]), as: UTF8.self)
        do {
            let (descr, _, shape) = try parseHeader(header, context: "header")
            let size: Int = ["f8", "i8", "u8"].contains(String(descr.dropFirst())) ? 8
                : ["f4", "i4", "u4"].contains(String(descr.dropFirst())) ? 4
                : ["f2", "i2", "u2"].contains(String(descr.dropFirst())) ? 2 : 1
            let count = try checkedCount(shape, "shape")
            let data = try checkedMul(count, size, "size")
            guard data <= maxBytes else {
                return .invalid("it declares a \(describe(shape: shape)) array of \(data >> 20) MB, over the \(maxBytes >> 20) MB limit")
            }
            return .atMost(start + headerLength + data, why: "a \(describe(shape: shape)) \(descr) array")
        } catch let e as CheckpointError {
            return .invalid("bad .npy array: \(e.message)")
        } catch {
            return .invalid("bad .npy array: \(error)")
        }
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, context: String) throws -> Tensor {
        do { return try parseChecked(bytes, context: context) } catch let e as CheckpointError {
            // Say what the file is: not "malformed checkpoint" for an input array.
            switch e {
            case let .malformed(m), let .unsupported(m), let .limit(m): throw CheckpointError.array(m)
            default: throw e
            }
        }
    }

    static func parseChecked(_ bytes: UnsafeRawBufferPointer, context: String) throws -> Tensor {
        var r = ByteReader(bytes, context: context)
        guard bytes.count >= 10, Array(try r.take(6)) == magic else {
            throw CheckpointError.malformed("\(context): not a .npy file (bad magic)")
        }
        let major = try r.u8()
        _ = try r.u8()
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try r.le(UInt16.self))
        case 2, 3: headerLength = Int(try r.le(UInt32.self))
        default: throw CheckpointError.unsupported("\(context): .npy format version \(major)")
        }
        let header = String(decoding: try r.take(headerLength), as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header, context: context)
        let bigEndian: Bool
        switch descr.first {
        case "<", "|", "=": bigEndian = false
        case ">": bigEndian = true
        default: throw CheckpointError.unsupported("\(context): .npy dtype \(descr)")
        }
        let types: [String: ElementType] = [
            "f4": .float32, "f2": .float16, "f8": .float64, "i8": .int64, "i4": .int32, "i2": .int16,
            "i1": .int8, "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
        ]
        guard let type = types[String(descr.dropFirst())] else {
            throw CheckpointError.unsupported("\(context): .npy dtype \(descr)")
        }
        let count = try checkedCount(shape, "shape of \(context)")
        let byteCount = try checkedMul(count, type.size, "size of \(context)")
        guard r.remaining == byteCount else {
            throw CheckpointError.malformed("\(context): .npy holds \(r.remaining) data bytes, shape \(describe(shape: shape)) of \(descr) needs \(byteCount)")
        }
        let raw = try r.take(byteCount)
        if !fortran {
            return try ElementConversion.gather(storage: raw, type: type, bigEndian: bigEndian, offset: 0,
                                                shape: shape, strides: rowMajorStrides(shape), name: context)
        }
        // Fortran order: the first index varies fastest; gather with column-major strides.
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in 0 ..< shape.count { strides[i] = acc; acc = acc &* max(shape[i], 1) }
        return try ElementConversion.gather(storage: raw, type: type, bigEndian: bigEndian, offset: 0,
                                            shape: shape, strides: strides, name: context)
    }

    /// Extracts descr, fortran_order and shape from the header's dict literal.
    static func parseHeader(_ h: String, context: String) throws -> (String, Bool, [Int]) {
        func field(_ key: String) throws -> Substring {
            guard let k = h.firstRange(of: "'\(key)':") else {
                throw CheckpointError.malformed("\(context): .npy header lacks '\(key)'")
            }
            return h[k.upperBound...].drop { $0 == " " }
        }
        let d = try field("descr")
        guard d.first == "'", let close = d.dropFirst().firstIndex(of: "'") else {
            throw CheckpointError.malformed("\(context): .npy descr is not a simple dtype string")
        }
        let descr = String(d[d.index(after: d.startIndex) ..< close])
        let f = try field("fortran_order")
        let fortran: Bool
        if f.hasPrefix("True") { fortran = true } else if f.hasPrefix("False") { fortran = false } else {
            throw CheckpointError.malformed("\(context): .npy fortran_order is not True/False")
        }
        let s = try field("shape")
        guard s.first == "(", let end = s.firstIndex(of: ")") else {
            throw CheckpointError.malformed("\(context): .npy shape is not a tuple")
        }
        let inner = s[s.index(after: s.startIndex) ..< end]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: " ")
            if t.isEmpty { continue }
            guard let v = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), v >= 0 else {
                throw CheckpointError.malformed("\(context): .npy shape entry '\(t)'")
            }
            shape.append(v)
        }
        return (descr, fortran, shape)
    }

    /// `tensor` as .npy bytes: '<f4', C order, format 1.0 (header padded so data starts at a
    /// multiple of 64).
    public static func encode(_ tensor: Tensor) throws -> [UInt8] {
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        guard header.utf8.count <= 65535 else { throw CheckpointError.unsupported("shape too long for .npy v1") }
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        bytes.append(UInt8(header.utf8.count & 0xFF)); bytes.append(UInt8(header.utf8.count >> 8))
        bytes.append(contentsOf: header.utf8)
        tensor.data.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Writes `tensor` to `path` (OutputFile: whole or not at all; a device or FIFO is written into).
    public static func write(_ tensor: Tensor, to path: String) throws {
        try OutputFile.write(try encode(tensor), to: path)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in c: Character) -> String {
        String(self.drop { $0 == c }.reversed().drop { $0 == c }.reversed())
    }
}
