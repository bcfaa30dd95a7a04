import XCTest
@testable import HatCore

final class TensorTests: XCTestCase {
    func testElementCount() {
        XCTAssertEqual(Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]).data.count, Tensor.count(of: [2, 3]))
        XCTAssertEqual(Tensor.count(of: []), 1)
    }

    func testDictionaryWeightSourceReportsShapeAndUse() throws {
        let src = DictionaryWeightSource(["a": Tensor(zeros: [2, 2]), "b": Tensor(zeros: [3])])
        XCTAssertThrowsError(try src.tensor("a", shape: [4])) { e in
            XCTAssertEqual(e as? WeightError, .shapeMismatch(name: "a", expected: [4], actual: [2, 2]))
        }
        XCTAssertThrowsError(try src.tensor("c", shape: [1]))
        _ = try src.tensor("a", shape: [2, 2])
        XCTAssertEqual(src.unused, ["b"])
    }
}
