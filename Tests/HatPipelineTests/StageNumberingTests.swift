// The one stage/block numbering of every option (README, "Stages and blocks"): stages 1-4 or the
// official `levels.L`, blocks from 0 inside their stage or `levels.L.blocks.B`, lists checked
// against the model's depths; every refusal names the option.
import XCTest
@testable import HatPipeline
import HatRecording

final class StageNumberingTests: XCTestCase {
    let f0 = ModelConfig.preset(named: "faster_vit_0_224")!   // depths [2, 3, 6, 5]

    func testAStageIsCountedFromOneOrNamedByItsOfficialLevel() throws {
        XCTAssertEqual(try StageNumbering.level("3", option: "--stage"), 2)
        XCTAssertEqual(try StageNumbering.level(" 1 ", option: "--stage"), 0)
        XCTAssertEqual(try StageNumbering.level("levels.2", option: "--stage"), 2)
        XCTAssertEqual(try StageNumbering.level("levels.0", option: "--stage"), 0)
        for bad in ["0", "5", "-1", "levels.4", "levels.", "levels.x", "stage3", ""] {
            XCTAssertThrowsError(try StageNumbering.level(bad, option: "--stage"), bad) { e in
                XCTAssertTrue("\(e)".hasPrefix("--stage"), "\(e)")
            }
        }
    }

    func testABlockIsANumberOrAPathThatAlsoNamesItsStage() throws {
        let plain = try StageNumbering.block("4", option: "--block")
        XCTAssertNil(plain.level)
        XCTAssertEqual(plain.block, 4)
        let path = try StageNumbering.block("levels.3.blocks.1", option: "--block")
        XCTAssertEqual(path.level, 3)
        XCTAssertEqual(path.block, 1)
        for bad in ["-1", "x", "levels.2", "levels.2.block.0", "levels.4.blocks.0", "levels.2.blocks.-1", "3.0"] {
            XCTAssertThrowsError(try StageNumbering.block(bad, option: "--block"), bad) { e in
                XCTAssertTrue("\(e)".hasPrefix("--block"), "\(e)")
            }
        }
    }

    func testAListMixesBothSpellingsAndIsCheckedAgainstTheDepths() throws {
        let set = try StageNumbering.blockList("3.0, 3.5,levels.3.blocks.4,4.4", config: f0, option: "--blocks")
        XCTAssertEqual(Set(set.map { "\($0.level).\($0.block)" }), ["2.0", "2.5", "3.4"], "stage 3 = levels.2; duplicates collapse")
        // Stage 3 of faster_vit_0_224 has blocks 0-5, stage 4 blocks 0-4.
        XCTAssertThrowsError(try StageNumbering.blockList("3.6", config: f0, option: "--blocks")) { e in
            XCTAssertTrue("\(e)".contains("blocks 0-5"), "\(e)")
        }
        XCTAssertThrowsError(try StageNumbering.blockList("levels.3.blocks.5", config: f0, option: "--blocks")) { e in
            XCTAssertTrue("\(e)".contains("blocks 0-4"), "\(e)")
        }
        // Stages 1-2 are convolutional: no attention block to name.
        XCTAssertThrowsError(try StageNumbering.blockList("2.0", config: f0, option: "--blocks")) { e in
            XCTAssertTrue("\(e)".contains("convolutional"), "\(e)")
        }
        for bad in ["", "3", "3.0,", "5.0", "0.0", "3.x", "3.0.1"] {
            XCTAssertThrowsError(try StageNumbering.blockList(bad, config: f0, option: "--blocks"), bad) { e in
                XCTAssertTrue("\(e)".hasPrefix("--blocks"), "\(e)")
            }
        }
    }

    func testAStageWithoutBlocksSaysSo() throws {
        var empty = f0
        empty.depths = [2, 3, 0, 5]
        XCTAssertThrowsError(try StageNumbering.check(level: 2, block: 0, config: empty, option: "--block", item: "0")) { e in
            XCTAssertTrue("\(e)".contains("has no blocks"), "\(e)")
        }
        XCTAssertNoThrow(try StageNumbering.check(level: 3, block: 4, config: empty, option: "--block", item: "4"))
    }
}
