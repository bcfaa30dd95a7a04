// Element types found in checkpoints and their conversion to float32. Everything the model reads is
// float32; integer buffers (num_batches_tracked, relative_position_index) are converted too so the
// caller sees one tensor type. Stored bytes are little-endian unless the file says otherwise.
import HatCore

public enum ElementType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64
    case int64, int32, int16, int8, uint8, uint16, uint32, uint64, bool

    public var size: Int {
        switch self {
        case .float64, .int64, .uint64: return 8
        case .float32, .int32, .uint32: return 4
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

/// IEEE half -> float, exact for every value (subnormals, infinities, NaN payload top bits).
@inline(__always) func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    var mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // Subnormal: normalise.
        var e: UInt32 = 113 // 127 - 15 + 1
        while mant & 0x400 == 0 { mant <<= 1; e -= 1 }
        mant &= 0x3FF
        return Float(bitPattern: sign | (e << 23) | (mant << 13))
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}


enum ElementConversion {
    /// Element `i` of `raw` (byte offset i * size) as Float.
    @inline(__always)
    static func load(_ raw: UnsafeRawBufferPointer, _ i: Int, _ type: ElementType, bigEndian: Bool) -> Float {
        let o = i &* type.size
        @inline(__always) func int<T: FixedWidthInteger>(_ t: T.Type) -> T {
            let v = raw.loadUnaligned(fromByteOffset: o, as: T.self)
            return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
        }
        switch type {
        case .float32: return Float(bitPattern: int(UInt32.self))
        case .float16: return halfToFloat(int(UInt16.self))
        case .bfloat16: return Float(bitPattern: UInt32(int(UInt16.self)) << 16)
        case .float64: return Float(Double(bitPattern: int(UInt64.self)))
        case .int64: return Float(int(Int64.self))
        case .int32: return Float(int(Int32.self))
        case .int16: return Float(int(Int16.self))
        case .int8: return Float(raw.load(fromByteOffset: o, as: Int8.self))
        case .uint8: return Float(raw[o])
        case .uint16: return Float(int(UInt16.self))
        case .uint32: return Float(int(UInt32.self))
        case .uint64: return Float(int(UInt64.self))
        case .bool: return raw[o] != 0 ? 1 : 0
        }
    }

    /// `count` consecutive elements starting at element `first` of `raw`, converted into `out`.
    static func convertRun(_ raw: UnsafeRawBufferPointer, first: Int, count: Int, _ type: ElementType,
                           bigEndian: Bool, into out: UnsafeMutablePointer<Float>) {
        if count == 0 { return }
        if type == .float32 && !bigEndian {
            // The common case: one memcpy from the mapping.
            UnsafeMutableRawPointer(out).copyMemory(from: raw.baseAddress! + first * 4, byteCount: count * 4)
            return
        }
        for k in 0 ..< count { out[k] = load(raw, first + k, type, bigEndian: bigEndian) }
    }

    /// Materialises a strided view of a storage as a dense row-major float32 tensor.
    /// `storage` holds the storage's bytes; offset and strides count elements (torch convention).
    /// Every reachable element is proven inside the storage with checked arithmetic first.
    static func gather(storage: UnsafeRawBufferPointer, type: ElementType, bigEndian: Bool,
                       offset: Int, shape: [Int], strides: [Int], name: String) throws -> Tensor {
        guard shape.count == strides.count else {
            throw CheckpointError.malformed("\(name): \(shape.count) sizes but \(strides.count) strides")
        }
        let count = try checkedCount(shape, "shape of \(name)")
        if offset < 0 { throw CheckpointError.malformed("\(name): negative storage offset \(offset)") }
        let storageCount = storage.count / type.size
        if count > 0 {
            var last = offset
            for (d, s) in zip(shape, strides) {
                if s < 0 { throw CheckpointError.malformed("\(name): negative stride \(s)") }
                last = try checkedAdd(last, try checkedMul(d - 1, s, "strides of \(name)"), "extent of \(name)")
            }
            if last >= storageCount {
                throw CheckpointError.malformed("\(name): view reaches element \(last) of a storage with \(storageCount) elements")
            }
        }
        if count > 1 << 31 { throw CheckpointError.limit("\(name): \(count) elements") }
        // Row-major strides: the contiguous case converts one run.
        var contiguous = true
        var expect = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expect { contiguous = false; break }
            expect = expect &* shape[i]
        }
        let data = [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            guard let out = buf.baseAddress, count > 0 else { initialized = 0; return }
            if contiguous {
                convertRun(storage, first: offset, count: count, type, bigEndian: bigEndian, into: out)
            } else {
                gatherStrided(storage, type, bigEndian, offset, shape, strides, out)
            }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }

    /// Odometer walk over all indices; the innermost dimension is a strided run.
    private static func gatherStrided(_ raw: UnsafeRawBufferPointer, _ type: ElementType, _ bigEndian: Bool,
                                      _ offset: Int, _ shape: [Int], _ strides: [Int],
                                      _ out: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var base = offset
        var k = 0
        while true {
            for j in 0 ..< inner { out[k + j] = load(raw, base + j * innerStride, type, bigEndian: bigEndian) }
            k += inner
            // Advance the outer dimensions.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                base += strides[d]
                if index[d] < shape[d] { break }
                base -= strides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
