// UserMessage: one summary line with the prefix, at most ten indented detail lines, control
// characters escaped so a file name cannot forge lines or move the cursor.
import HatSystem
import XCTest

final class UserMessageTests: XCTestCase {
    struct Detailed: DetailedError {
        let summary: String
        let details: [String]
    }

    func testPlainErrorsAreOneLineWithNewlinesEscaped() {
        struct E: Error, CustomStringConvertible { let description = "cannot read 'a\nhatscope: forged\u{1B}[2J'" }
        let text = UserMessage.format(E())
        XCTAssertEqual(text, "hatscope: cannot read 'a\\nhatscope: forged\\x1B[2J'\n")
    }

    func testDetailsAreIndentedAndCapped() {
        let e = Detailed(summary: "mismatch", details: (1 ... 25).map { "key \($0)" })
        let lines = UserMessage.format(e).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.first, "hatscope: mismatch")
        XCTAssertEqual(lines.count, 1 + UserMessage.maxDetailLines + 1)
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.hasPrefix("  ") })
        XCTAssertEqual(lines.last, "  ... and 15 more")
    }

    func testEscapes() {
        XCTAssertEqual(UserMessage.escaped("a\tb\u{7F}\u{9B}c\u{202E}é"), "a\\tb\\x7F\\u{9B}c\\u{202E}é")
        XCTAssertEqual(UserMessage.name(""), "(empty file name)")
    }
}
