// SHA-256 (FIPS 180-4) of a file or buffer, to identify the exact checkpoint a recording or figure
// came from. Plain Swift: the package has no crypto dependency.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SHA256 {
    fileprivate static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// Lowercase hex digest of a file, read in 4 MB chunks with read(2) (no mapping, so hashing a
    /// large checkpoint adds 4 MB to resident memory, not the file size).
    public static func hex(ofFile path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CheckpointError.io("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = Hasher()
        let chunk = 4 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io("\(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(start: buf, count: n))
        }
        return hexString(hasher.finalize())
    }

    public static func hex(_ data: UnsafeRawBufferPointer) -> String { hexString(digest(data)) }

    public static func digest(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var h = Hasher()
        h.update(data)
        return h.finalize()
    }

    static func hexString(_ d: [UInt8]) -> String {
        d.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }

    /// Incremental hashing: update with any number of pieces, then finalize once.
    public struct Hasher {
        private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        private var pending: [UInt8] = []
        private var length: UInt64 = 0
        private var w = [UInt32](repeating: 0, count: 64)

        public init() {}

        public mutating func update(_ data: UnsafeRawBufferPointer) {
            guard data.count > 0 else { return }
            length &+= UInt64(data.count)
            var start = 0
            if !pending.isEmpty {
                let take = min(64 - pending.count, data.count)
                pending.append(contentsOf: data[0 ..< take])
                start = take
                if pending.count == 64 {
                    let p = pending
                    p.withUnsafeBytes { blocks($0.baseAddress!, count: 1) }
                    pending.removeAll(keepingCapacity: true)
                }
            }
            let full = (data.count - start) / 64
            if full > 0 { blocks(data.baseAddress! + start, count: full) }
            let used = start + full * 64
            if used < data.count { pending.append(contentsOf: data[used...]) }
        }

        public mutating func finalize() -> [UInt8] {
            let bits = length &* 8
            var tail = pending
            tail.append(0x80)
            while tail.count % 64 != 56 { tail.append(0) }
            for i in (0 ..< 8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
            tail.withUnsafeBytes { blocks($0.baseAddress!, count: tail.count / 64) }
            pending = []
            return h.flatMap { v in (0 ..< 4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
        }

        private mutating func blocks(_ p: UnsafeRawPointer, count: Int) {
            h.withUnsafeMutableBufferPointer { hp in
                SHA256.k.withUnsafeBufferPointer { kp in
                    w.withUnsafeMutableBufferPointer { wp in
                        for b in 0 ..< count { SHA256.block(p + b * 64, hp, kp, wp) }
                    }
                }
            }
        }
    }

    /// One 64-byte block. Locals only and a 16-word rolling schedule, so the optimizer keeps the
    /// state in registers.
    @inline(__always)
    fileprivate static func block(_ p: UnsafeRawPointer, _ h: UnsafeMutableBufferPointer<UInt32>,
                                  _ k: UnsafeBufferPointer<UInt32>, _ w: UnsafeMutableBufferPointer<UInt32>) {
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        let wp = w.baseAddress!, kp = k.baseAddress!
        for i in 0 ..< 16 { wp[i] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)) }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        var i = 0
        while i < 64 {
            let wi: UInt32
            if i < 16 {
                wi = wp[i]
            } else {
                let w15 = wp[(i &- 15) & 15], w2 = wp[(i &- 2) & 15]
                let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
                let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
                wi = wp[i & 15] &+ s0 &+ wp[(i &- 7) & 15] &+ s1
                wp[i & 15] = wi
            }
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ kp[i] &+ wi
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            i &+= 1
        }
        h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
    }
}
