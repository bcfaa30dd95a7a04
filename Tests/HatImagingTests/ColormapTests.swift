// Colormaps: published anchor colours, monotone lightness (what makes them readable as magnitude),
// clamping and NaN handling.
import XCTest
@testable import HatImaging

final class ColormapTests: XCTestCase {
    /// Relative luminance of sRGB bytes (Rec. 709 weights on linearised values).
    private func luminance(_ c: (UInt8, UInt8, UInt8)) -> Double {
        func lin(_ v: UInt8) -> Double {
            let x = Double(v) / 255
            return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
    }

    func testPublishedEndpoints() {
        // viridis runs from #440154 to #FDE725; magma and inferno start near black; gray is the ramp.
        XCTAssertTrue(Colormap.viridis.rgb(0) == (0x44, 0x01, 0x54))
        XCTAssertTrue(Colormap.viridis.rgb(1) == (0xFD, 0xE7, 0x25))
        XCTAssertTrue(Colormap.gray.rgb(0) == (0, 0, 0))
        XCTAssertTrue(Colormap.gray.rgb(1) == (255, 255, 255))
        XCTAssertLessThan(luminance(Colormap.magma.rgb(0)), 0.01)
        XCTAssertLessThan(luminance(Colormap.inferno.rgb(0)), 0.01)
    }

    func testLightnessIncreasesMonotonically() {
        for map in Colormap.allCases {
            var previous = -1.0
            for i in 0..<256 {
                let l = luminance(map.rgb(Float(i) / 255))
                XCTAssertGreaterThanOrEqual(l, previous - 1e-3, "\(map) at entry \(i)")
                previous = l
            }
            XCTAssertGreaterThan(luminance(map.rgb(1)) - luminance(map.rgb(0)), 0.5, "\(map) lacks range")
        }
    }

    func testClampingAndNaN() {
        for map in Colormap.allCases {
            XCTAssertTrue(map.rgb(-3) == map.rgb(0))
            XCTAssertTrue(map.rgb(7) == map.rgb(1))
            XCTAssertTrue(map.rgb(.infinity) == map.rgb(1))
            XCTAssertTrue(map.rgb(-.infinity) == map.rgb(0))
            XCTAssertTrue(map.rgb(.nan) == (0, 0, 0))
        }
    }

    func testBatchMatchesScalar() {
        let values: [Float] = [0, 0.1, 0.5, 0.999, 1, .nan, -1, 2, 0.25]
        for map in Colormap.allCases {
            let batch = map.rgb(values)
            for (k, v) in values.enumerated() {
                let c = map.rgb(v)
                XCTAssertEqual([batch[3 * k], batch[3 * k + 1], batch[3 * k + 2]], [c.0, c.1, c.2])
            }
        }
    }

    func testTablesAreComplete() {
        for map in Colormap.allCases { XCTAssertEqual(map.table.count, 768, "\(map)") }
        XCTAssertEqual(Colormap.default, .viridis)
        XCTAssertEqual(Colormap(rawValue: "cividis"), .cividis)
    }
}
