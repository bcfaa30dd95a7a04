// An exact sum of Doubles: every finite Double is an integer multiple of 2^-1074, so the sum is
// kept as one wide two's-complement integer in those units and rounded to a Double only when read.
// The sum therefore does not depend on the order of the additions: statistics summed over images
// in any order, on any number of threads, shards or resumed runs give the same bits.
//
// Layout: `limbs` [34] UInt64, little-endian (limb 0 holds 2^-1074 ... 2^-1011), two's
// complement over all 2176 bits. A Double's 53-bit significand lands in at most two limbs; the
// top limbs leave 2^77 of headroom over the largest Double, so ~10^23 additions cannot overflow.
// Non-finite additions are kept apart (`special`): they make the sum inf or NaN as IEEE would.
//
// Text form (partial results): the value as a hexadecimal integer times a power of two,
// "-0x1a3p-1062", with no trailing zero digit (one spelling per value), "0x0p+0" for zero, and
// "inf", "-inf", "nan".

public struct ExactSum: Sendable, Hashable {
    static let limbCount = 34
    /// Units of the integer: 2^-1074, the smallest subnormal Double.
    static let unitExponent = -1074
    private var limbs: [UInt64]
    /// The IEEE sum of the non-finite values added (nil: none).
    private var special: Double?

    public init() { limbs = [UInt64](repeating: 0, count: Self.limbCount); special = nil }

    public init(_ value: Double) {
        self.init()
        add(value)
    }

    // MARK: - Adding

    public mutating func add(_ x: Double) {
        if !x.isFinite {
            special = (special ?? 0) + x
            return
        }
        if x == 0 { return }
        // x = ±significand * 2^(exponent - 52) with the integer significand; subnormals have the
        // implicit bit clear and exponent -1022.
        let bits = x.bitPattern
        let rawExponent = Int((bits >> 52) & 0x7FF)
        var significand = bits & ((1 << 52) - 1)
        let shift: Int
        if rawExponent == 0 {
            shift = 0                        // subnormal: significand * 2^-1074
        } else {
            significand |= 1 << 52
            shift = rawExponent - 1          // significand * 2^(rawExponent - 1075)
        }
        let limb = shift / 64, offset = shift % 64
        let low = significand << UInt64(offset)
        let high = offset == 0 ? 0 : significand >> UInt64(64 - offset)
        addMagnitude(low, high, at: limb, subtract: x < 0)
    }

    public static func += (a: inout ExactSum, b: Double) { a.add(b) }

    /// Adds another exact sum (still exact).
    public mutating func add(_ other: ExactSum) {
        if let s = other.special { special = (special ?? 0) + s }
        var carry: UInt64 = 0
        for i in 0 ..< Self.limbCount {
            let (s1, o1) = limbs[i].addingReportingOverflow(other.limbs[i])
            let (s2, o2) = s1.addingReportingOverflow(carry)
            limbs[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
    }

    public static func += (a: inout ExactSum, b: ExactSum) { a.add(b) }

    /// Adds (or subtracts) high:low shifted left by `limb` limbs, carrying (borrowing) upward.
    private mutating func addMagnitude(_ low: UInt64, _ high: UInt64, at limb: Int, subtract: Bool = false) {
        var carry: UInt64 = 0
        var i = limb
        while i < Self.limbCount {
            let operand: UInt64 = i == limb ? low : (i == limb + 1 ? high : 0)
            if i > limb + 1 && carry == 0 { break }
            let (s1, o1) = subtract ? limbs[i].subtractingReportingOverflow(operand) : limbs[i].addingReportingOverflow(operand)
            let (s2, o2) = subtract ? s1.subtractingReportingOverflow(carry) : s1.addingReportingOverflow(carry)
            limbs[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            i += 1
        }
    }

    // MARK: - Reading

    public var isNegative: Bool { limbs[Self.limbCount - 1] >> 63 == 1 }
    public var isZero: Bool { special == nil && limbs.allSatisfy { $0 == 0 } }

    /// |integer| as limbs.
    private var magnitude: [UInt64] {
        guard isNegative else { return limbs }
        var m = limbs.map { ~$0 }
        var i = 0
        while i < m.count {
            let (s, o) = m[i].addingReportingOverflow(1)
            m[i] = s
            if !o { break }
            i += 1
        }
        return m
    }

    /// The sum correctly rounded to a Double (round half to even), the same for every order of
    /// the additions.
    public var value: Double {
        if let s = special { return s }
        let m = magnitude
        guard let top = m.lastIndex(where: { $0 != 0 }) else { return 0 }
        let p = top * 64 + (63 - m[top].leadingZeroBitCount)   // index of the highest set bit
        func bit(_ i: Int) -> UInt64 { i < 0 ? 0 : (m[i / 64] >> UInt64(i % 64)) & 1 }
        var result: Double
        if p <= 52 {
            // Exact: fits the significand of a subnormal or the smallest normal numbers.
            result = Double(sign: .plus, exponent: Self.unitExponent, significand: Double(m[0]))
        } else {
            let lowest = p - 52                                    // bit index of the ulp
            var significand: UInt64 = 0
            for i in stride(from: p, through: lowest, by: -1) { significand = significand << 1 | bit(i) }
            let round = bit(lowest - 1)
            var sticky = false
            if lowest - 1 > 0 {
                let below = lowest - 1                             // bits 0 ..< below
                for l in 0 ..< below / 64 where m[l] != 0 { sticky = true; break }
                if !sticky, below % 64 != 0, m[below / 64] & ((1 << UInt64(below % 64)) - 1) != 0 { sticky = true }
            }
            if round == 1 && (sticky || significand & 1 == 1) { significand += 1 }
            result = Double(sign: .plus, exponent: lowest + Self.unitExponent, significand: Double(significand))
        }
        return isNegative ? -result : result
    }

    // MARK: - Text form

    /// "-0x1a3p-1062", "0x0p+0", "inf", "-inf" or "nan": the exact value as an odd hexadecimal
    /// integer times a power of two (one spelling per value).
    public var text: String {
        if let s = special { return s.isNaN ? "nan" : (s > 0 ? "inf" : "-inf") }
        var m = magnitude
        guard let low = m.firstIndex(where: { $0 != 0 }) else { return "0x0p+0" }
        // Shift the trailing zero bits out into the exponent.
        let zeros = low * 64 + m[low].trailingZeroBitCount
        let limbShift = zeros / 64, bitShift = UInt64(zeros % 64)
        for i in 0 ..< m.count {
            let a = i + limbShift < m.count ? m[i + limbShift] : 0
            let b = i + limbShift + 1 < m.count ? m[i + limbShift + 1] : 0
            m[i] = bitShift == 0 ? a : (a >> bitShift) | (b << (64 - bitShift))
        }
        let top = m.lastIndex(where: { $0 != 0 }) ?? 0
        var digits = ""
        for i in stride(from: top, through: 0, by: -1) {
            let h = String(m[i], radix: 16)
            digits += i == top ? h : String(repeating: "0", count: 16 - h.count) + h
        }
        let exponent = Self.unitExponent + zeros
        return (isNegative ? "-" : "") + "0x" + digits + "p" + (exponent >= 0 ? "+" : "") + String(exponent)
    }

    /// Reads the text form; nil for anything else (or a value outside the representable range).
    public init?(text: String) {
        self.init()
        switch text {
        case "nan": special = .nan; return
        case "inf": special = .infinity; return
        case "-inf": special = -.infinity; return
        default: break
        }
        var s = Substring(text)
        let negative = s.hasPrefix("-")
        if negative { s = s.dropFirst() }
        guard s.hasPrefix("0x"), let p = s.firstIndex(of: "p") else { return nil }
        let hex = s[s.index(s.startIndex, offsetBy: 2) ..< p]
        guard !hex.isEmpty, hex.count <= 16 * Self.limbCount, let exponent = Int(s[s.index(after: p)...]),
              hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        // value = hex * 2^exponent = hex * 2^(exponent + 1074) units.
        let shift = exponent - Self.unitExponent
        guard shift >= 0, shift + 4 * hex.count <= 64 * Self.limbCount - 2 else { return nil }
        for (i, ch) in hex.reversed().enumerated() {
            guard let d = UInt64(String(ch), radix: 16), d != 0 else { continue }
            let b = shift + 4 * i
            let limb = b / 64, offset = b % 64
            limbs[limb] |= d << UInt64(offset)
            if offset > 60 { limbs[limb + 1] |= d >> UInt64(64 - offset) }
        }
        if negative { self = ExactSum() - self }
    }

    static func - (a: ExactSum, b: ExactSum) -> ExactSum {
        var negated = ExactSum()
        var carry: UInt64 = 1
        for i in 0 ..< limbCount {
            let (s, o) = (~b.limbs[i]).addingReportingOverflow(carry)
            negated.limbs[i] = s
            carry = o ? 1 : 0
        }
        var out = a
        out.add(negated)
        return out
    }
}

extension ExactSum: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = ExactSum(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an exact sum: \(text.prefix(40))"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}
