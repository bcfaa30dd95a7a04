// ExactSum: the sum of Doubles kept exactly, so it does not depend on the order of additions;
// its rounding checked against a second, independent exact algorithm (Shewchuk's partials, with
// the round-half-even correction of Python's math.fsum), and its text form round-tripped.
import XCTest
@testable import HatViews

final class ExactSumTests: XCTestCase {
    /// Correctly rounded sum by Shewchuk's non-overlapping partials (a different algorithm).
    static func referenceSum(_ xs: [Double]) -> Double {
        var partials: [Double] = []
        for var x in xs {
            var i = 0
            for y0 in partials {
                var y = y0
                if abs(x) < abs(y) { swap(&x, &y) }
                let hi = x + y
                let lo = y - (hi - x)
                if lo != 0 { partials[i] = lo; i += 1 }
                x = hi
            }
            partials.removeSubrange(i...)
            partials.append(x)
        }
        guard var n = partials.indices.last else { return 0 }
        var hi = partials[n]
        var lo = 0.0
        while n > 0 {
            let x = hi
            n -= 1
            let y = partials[n]
            hi = x + y
            let yr = hi - x
            lo = y - yr
            if lo != 0 { break }
        }
        // Half-way case: round as the remaining partials say.
        if n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0)) {
            let y = lo * 2
            let x = hi + y
            if y == x - hi { hi = x }
        }
        return hi
    }

    func sum(_ xs: [Double]) -> ExactSum {
        var s = ExactSum()
        for x in xs { s += x }
        return s
    }

    func testKnownSums() {
        XCTAssertEqual(sum([1e100, 1, -1e100]).value, 1)
        XCTAssertEqual(sum(Array(repeating: 0.1, count: 10)).value, 1.0)
        XCTAssertNotEqual(Array(repeating: 0.1, count: 10).reduce(0, +), 1.0, "plain summation rounds differently")
        XCTAssertEqual(sum([1, 1e-16, 1e-16]).value, 1.0000000000000002)
        XCTAssertEqual(sum([.leastNonzeroMagnitude, .leastNonzeroMagnitude]).value, 2 * .leastNonzeroMagnitude)
        XCTAssertEqual(sum([.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 3]).value, 3)
        XCTAssertEqual(sum([.greatestFiniteMagnitude, .greatestFiniteMagnitude]).value, .infinity, "overflow rounds to inf")
        XCTAssertEqual(sum([-2.5, 0.5]).value, -2)
        XCTAssertEqual(sum([]).value, 0)
        XCTAssertTrue(sum([1, .nan]).value.isNaN)
        XCTAssertEqual(sum([1, .infinity]).value, .infinity)
        XCTAssertTrue(sum([.infinity, -.infinity]).value.isNaN)
        // Ties: 2^53 + 1 rounds to even (2^53), 2^53 + 3 to 2^53 + 4.
        XCTAssertEqual(sum([9007199254740992, 1]).value, 9007199254740992)
        XCTAssertEqual(sum([9007199254740992, 3]).value, 9007199254740996)
        XCTAssertEqual(sum([9007199254740992, 1, 1e-300]).value, 9007199254740994, "anything below a tie breaks it upward")
    }

    func testOrderDoesNotMatterAndRoundingIsCorrect() {
        var seeded = SeededGenerator(seed: 2026)
        for round in 0 ..< 200 {
            let n = Int.random(in: 1 ... 60, using: &seeded)
            let xs: [Double] = (0 ..< n).map { _ in
                let e = Int.random(in: round % 2 == 0 ? -60 ... 60 : -1070 ... 1000, using: &seeded)
                return Double(sign: Bool.random(using: &seeded) ? .plus : .minus, exponent: e,
                              significand: Double.random(in: 1 ..< 2, using: &seeded))
            }
            let forward = sum(xs), backward = sum(xs.reversed()), shuffled = sum(xs.shuffled(using: &seeded))
            XCTAssertEqual(forward, backward)
            XCTAssertEqual(forward, shuffled)
            XCTAssertEqual(forward.value.bitPattern, Self.referenceSum(xs).bitPattern, "round \(round): \(xs)")
            // Summing in two groups and adding the groups is the same too.
            let cut = n / 2
            var a = sum(Array(xs[..<cut])), b = sum(Array(xs[cut...]))
            b += a
            a = b
            XCTAssertEqual(a, forward)
        }
    }

    func testTextRoundTripsAndIsCanonical() throws {
        var seeded = SeededGenerator(seed: 7)
        for _ in 0 ..< 100 {
            let xs = (0 ..< 5).map { _ in Double(sign: Bool.random(using: &seeded) ? .plus : .minus,
                                                 exponent: Int.random(in: -1074 ... 1020, using: &seeded),
                                                 significand: Double.random(in: 1 ..< 2, using: &seeded)) }
            let s = sum(xs)
            let back = try XCTUnwrap(ExactSum(text: s.text), s.text)
            XCTAssertEqual(back, s)
            XCTAssertEqual(back.text, s.text)
            XCTAssertEqual(sum(xs.reversed()).text, s.text, "one spelling per value")
        }
        XCTAssertEqual(ExactSum().text, "0x0p+0")
        XCTAssertEqual(ExactSum(1).text, "0x1p+0")
        XCTAssertEqual(ExactSum(-0.75).text, "-0x3p-2")
        XCTAssertEqual(ExactSum(text: "0x3p-2")?.value, 0.75)
        for special in ["nan", "inf", "-inf"] { XCTAssertEqual(ExactSum(text: special)?.text, special) }
        for bad in ["", "0x", "1.5", "0xZp1", "0x1p", "0x1p-2000", "0x1p+2000", "--0x1p1", String(repeating: "f", count: 600)] {
            XCTAssertNil(ExactSum(text: bad), bad)
        }
        let json = try JSONEncoder().encode([ExactSum(0.1)])
        XCTAssertEqual(try JSONDecoder().decode([ExactSum].self, from: json), [ExactSum(0.1)])
        XCTAssertThrowsError(try JSONDecoder().decode([ExactSum].self, from: Data("[\"0.1\"]".utf8)))
    }
}

/// A small deterministic generator (xorshift64*) for seeded tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
