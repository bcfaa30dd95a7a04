// NumPy .npy files (format versions 1-3): magic "\x93NUMPY", version, header length, a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a
// 64-byte boundary, then the array. Read: any float/int dtype of either byte order, C or Fortran
// order, converted to float32. Write: float32, little-endian, C order.
import HatCore

public enum NPY {
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        defer { file.release() }
        return try parse(file.bytes, context: path)
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, context: String) throws -> Tensor {
        var r = ByteReader(bytes, context: context)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
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

    /// Writes `tensor` as '<f4', C order, format 1.0 (header padded so data starts at a multiple of 64).
    public static func write(_ tensor: Tensor, to path: String) throws {
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        guard header.utf8.count <= 65535 else { throw CheckpointError.unsupported("\(path): shape too long for .npy v1") }
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        bytes.append(UInt8(header.utf8.count & 0xFF)); bytes.append(UInt8(header.utf8.count >> 8))
        bytes.append(contentsOf: header.utf8)
        let out = try AtomicFile(path: path)
        try out.write(bytes)
        try tensor.data.withUnsafeBytes { try out.write($0) }
        try out.commit()
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in c: Character) -> String {
        String(self.drop { $0 == c }.reversed().drop { $0 == c }.reversed())
    }
}
