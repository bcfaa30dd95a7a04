// Which images the faithfulness sanity check runs on.
import XCTest
import HatCore
import HatRecording
import HatViews
import HatImaging
@testable import HatPipeline

final class FaithfulnessJobTests: XCTestCase {
    func testSanityImagesAreSpreadOverTheList() {
        func set(_ s: Int, _ n: Int) -> [Int] {
            let st = FaithfulnessSettings(steps: 4, seed: 0, batch: 8, sanityImages: s)
            return (0 ..< n).filter { st.inSanitySet($0, count: n) }
        }
        XCTAssertEqual(set(4, 12), [0, 3, 6, 9])
        XCTAssertEqual(set(16, 12), Array(0 ..< 12))
        XCTAssertEqual(set(0, 12), [])
        XCTAssertEqual(set(3, 50_000), [0, 16_666, 33_333])
        XCTAssertEqual(set(7, 10).count, 7)
    }
}
