// AppendJournal: appended bytes survive once synced; reopening cuts a torn tail back to the length
// recorded as complete; a journal shorter than that is refused. And the stale temporaries a
// SIGKILLed writer leaves in a locked folder are removed when the folder is locked again.
import XCTest
@testable import HatSystem

final class AppendJournalTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hatscope-journal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testAppendSyncReopenAndCut() throws {
        let path = dir + "/rows.jsonl"
        let j = try AppendJournal(path: path, validLength: 0)
        try j.append(Array("one\n".utf8))
        try j.append(Array("two\n".utf8))
        try j.sync()
        XCTAssertEqual(j.length, 8)
        let complete = j.length
        try j.append(Array("thr".utf8))   // torn: the process dies here
        j.close()
        let again = try AppendJournal(path: path, validLength: complete)
        XCTAssertEqual(String(decoding: try again.read(), as: UTF8.self), "one\ntwo\n")
        try again.append(Array("three\n".utf8))
        XCTAssertEqual(String(decoding: try again.read(from: 4), as: UTF8.self), "two\nthree\n")
        again.close()
        XCTAssertThrowsError(try AppendJournal(path: path, validLength: 100)) { e in
            XCTAssertTrue("\(e)".contains("fewer than the 100 recorded"), "\(e)")
        }
        XCTAssertThrowsError(try AppendJournal(path: dir, validLength: 0))
    }

    func testLockingAFolderRemovesStaleTemporariesOnly() throws {
        let names = [".stats.json.tmp-123-4-0", ".a-b.png.tmp-9-1-2", ".keep.tmp-1-2", "keep.tmp-1-2-3", ".x.tmp-1-2-z", "stats.json"]
        for n in names { FileManager.default.createFile(atPath: dir + "/" + n, contents: Data([1])) }
        let folder = try OutputFolder(dir, option: "--out")
        folder.finish()
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)),
                       [".keep.tmp-1-2", "keep.tmp-1-2-3", ".x.tmp-1-2-z", "stats.json"])
    }
}
