// InputFile: opened once, read once, from regular files and streams alike; the amount read is
// bounded by what the header declares.
import Foundation
import HatSystem
import XCTest

final class InputFileTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hatsystem-in-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A toy format: "TOY" + one byte n: the file is at most 4 + n bytes.
    func toyBound(_ p: UnsafeRawBufferPointer) -> InputFile.Bound {
        guard p.count >= 4 else { return .needMore }
        guard p[0] == 84, p[1] == 79, p[2] == 89 else { return .invalid("not a toy file") }
        return .atMost(4 + Int(p[3]), why: "a toy of \(p[3])")
    }

    func testRegularFileWithinItsBound() throws {
        let path = dir + "/a.toy"
        try Data([84, 79, 89, 3, 1, 2, 3]).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try InputFile.read(path, bound: toyBound), [84, 79, 89, 3, 1, 2, 3])
    }

    func testRegularFileLargerThanItsHeaderSaysIsRefusedUnread() throws {
        let path = dir + "/big.toy"
        try Data([84, 79, 89, 1] + [UInt8](repeating: 0, count: 10_000)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try InputFile.read(path, bound: toyBound)) { e in
            guard case FileError.tooLarge = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("a toy of 1"), "\(e)")
        }
    }

    func testAFIFOIsReadOnceAndCutOffAtItsBound() throws {
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // The writer keeps sending long after the 8 bytes the header allows; the reader must stop
        // after at most one more chunk, not read it all.
        final class Box: @unchecked Sendable { var sent = 0 }
        let box = Box()
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            let header: [UInt8] = [84, 79, 89, 4]
            _ = header.withUnsafeBytes { write(fd, $0.baseAddress!, 4) }
            let junk = [UInt8](repeating: 1, count: 1 << 16)
            for _ in 0 ..< 2000 {   // up to 128 MB
                let n = junk.withUnsafeBytes { write(fd, $0.baseAddress!, junk.count) }
                if n <= 0 { break }
                box.sent += n
            }
            close(fd)
        }
        signal(SIGPIPE, SIG_IGN)
        writer.start()
        XCTAssertThrowsError(try InputFile.read(fifo, bound: toyBound)) { e in
            guard case FileError.tooLarge = e else { return XCTFail("\(e)") }
        }
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertLessThan(box.sent, 8 << 20, "the reader stopped early; the writer got a broken pipe")
    }

    func testUnrecognisedEmptyMissingAndFolder() throws {
        let bad = dir + "/bad", empty = dir + "/empty"
        try Data([1, 2, 3, 4, 5]).write(to: URL(fileURLWithPath: bad))
        try Data().write(to: URL(fileURLWithPath: empty))
        let cases: [(String, String)] = [(bad, "not a toy file"), (empty, "is empty"), (dir + "/none", "No such file"),
                                         (dir, "folder"), ("", "empty file name")]
        for (path, words) in cases {
            XCTAssertThrowsError(try InputFile.read(path, bound: toyBound)) { e in
                XCTAssertTrue("\(e)".lowercased().contains(words.lowercased()), "\(path): \(e)")
            }
        }
    }
}
