// OutputFile / OutputBatch / OutputFolder: what a path names decides how it is written; nothing
// half-written or temporary is ever left; special files are written into, never replaced.
import Foundation
import HatSystem
import XCTest

final class OutputFileTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hatsystem-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func listing(_ d: String? = nil) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: d ?? dir).sorted()
    }

    /// A character device to write to that no bug can harm the system with: as root (who could
    /// replace /dev/null) a private copy made with mknod in the test folder; otherwise the
    /// system's, which a non-root process cannot replace.
    func device(_ name: String, minor: UInt32) -> String {
        guard getuid() == 0 else { return "/dev/" + name }
        let path = dir + "/" + name
        XCTAssertEqual(mknod(path, S_IFCHR | 0o666, dev_t(1 << 8 | minor)), 0, "mknod c 1 \(minor)")
        return path
    }

    func fileType(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    func testNewAndExistingFilesAreReplacedWholeWithoutTemporaries() throws {
        let path = dir + "/out.bin"
        try OutputFile.write([1, 2, 3], to: path)
        try OutputFile.write([4, 5], to: path)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), [4, 5])
        XCTAssertEqual(try listing(), ["out.bin"])
    }

    func testACharacterDeviceIsWrittenIntoNotReplaced() throws {
        let null = device("null", minor: 3)   // the issue's `mknod c 1 3`
        let f = try OutputFile(path: null)
        XCTAssertTrue(f.isStream)
        try f.write([UInt8](repeating: 7, count: 1000))
        try f.commit()
        XCTAssertEqual(fileType(null), S_IFCHR)
    }

    func testAFIFOIsWrittenIntoAndStaysAFIFO() throws {
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let payload = [UInt8](repeating: 42, count: 200_000)
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let reader = Thread { box.data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data() }
        reader.start()
        try OutputFile.write(payload, to: fifo)
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual([UInt8](box.data), payload)
        XCTAssertEqual(fileType(fifo), S_IFIFO)
        XCTAssertEqual(try listing(), ["pipe"])
    }

    func testASymbolicLinkKeepsPointingAtItsTarget() throws {
        let target = dir + "/real.bin", link = dir + "/link.bin"
        try OutputFile.write([1], to: target)
        XCTAssertEqual(symlink(target, link), 0)
        try OutputFile.write([9, 9], to: link)
        XCTAssertEqual(fileType(link), S_IFLNK)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: target))), [9, 9])
        XCTAssertEqual(try listing(), ["link.bin", "real.bin"])
    }

    func testFoldersMissingFoldersAndEmptyNamesAreRefused() throws {
        for path in [dir, dir + "/missing/x.bin", ""] {
            XCTAssertThrowsError(try OutputFile.write([1], to: path)) { e in
                guard case FileError.unwritable = e else { return XCTFail("\(path): \(e)") }
            }
        }
        XCTAssertEqual(try listing(), [])
    }

    func testAFailedWriteLeavesNothing() throws {
        // A full device: every write fails with ENOSPC. Through a symbolic link the rule is
        // "special file: write into it", so the failure is reported and nothing is created here.
        let full = device("full", minor: 7)
        let link = dir + "/link"
        XCTAssertEqual(symlink(full, link), 0)
        XCTAssertThrowsError(try OutputFile.write([1, 2, 3], to: link)) { e in
            XCTAssertTrue("\(e)".contains("No space left") || "\(e)".contains("no space left"), "\(e)")
        }
        XCTAssertEqual(fileType(full), S_IFCHR)
        XCTAssertEqual(try listing(), getuid() == 0 ? ["full", "link"] : ["link"])
    }

    func testDiscardedAndAbandonedFilesLeaveNoTemporary() throws {
        let f = try OutputFile(path: dir + "/a.bin")
        try f.write([1, 2])
        XCTAssertEqual(try listing().count, 1, "the hidden temporary exists while writing")
        f.discard()
        XCTAssertEqual(try listing(), [])
        do {
            let g = try OutputFile(path: dir + "/b.bin")
            try g.write([1])
        }
        XCTAssertEqual(try listing(), [], "deinit discards")
    }

    func testABatchAppearsWholeOrNotAtAll() throws {
        let batch = OutputBatch()
        try batch.write([1], to: dir + "/one")
        try batch.write([2], to: dir + "/two")
        XCTAssertFalse(try listing().contains("one"), "nothing final before commit")
        try batch.commit()
        XCTAssertEqual(try listing(), ["one", "two"])

        let failing = OutputBatch()
        try failing.write([3], to: dir + "/three")
        XCTAssertThrowsError(try failing.write([4], to: dir + "/nofolder/four"))
        failing.discard()
        XCTAssertEqual(try listing(), ["one", "two"])
    }

    func testCleanupRemovesRegisteredTemporariesAndCreatedFolders() throws {
        let folder = try OutputFolder(dir + "/new/deeper", option: "--out")
        let f = try OutputFile(path: folder.file("x.png"))
        try f.write([1])
        CleanupRegistry.removeAll()
        XCTAssertEqual(try listing(), [], "temporary file and both created folders are gone")
        f.discard()
        folder.finish()
    }

    func testAFolderIsLockedForOneRunAndRemovedWhenAbandoned() throws {
        let path = dir + "/figs"
        let first = try OutputFolder(path, option: "--out")
        XCTAssertThrowsError(try OutputFolder(path, option: "--out")) { e in
            XCTAssertTrue("\(e)".contains("another hatscope run"), "\(e)")
        }
        first.abandon()
        XCTAssertEqual(try listing(), [], "the folder this run created is removed on failure")
        let second = try OutputFolder(path, option: "--out")
        second.finish()
        XCTAssertEqual(try listing(), ["figs"])
    }

    func testAFileInTheWayOfAFolderIsRefused() throws {
        try OutputFile.write([1], to: dir + "/plain")
        XCTAssertThrowsError(try OutputFolder(dir + "/plain", option: "--out")) { e in
            XCTAssertTrue("\(e)".contains("not a folder"), "\(e)")
        }
    }
}
