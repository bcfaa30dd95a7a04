// Issue 17, items 1-3 and 10, on the real binary: outputs that are devices or FIFOs are written
// into and never replaced; inputs are read once from anything readable (FIFOs, `<(cmd)`,
// /dev/stdin, `-`) and never past what their header declares; a closed or full stderr/stdout
// still ends in one orderly exit status, never a trap.
import Foundation
import XCTest

final class SpecialFilesE2ETests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryFolder("hatspecial") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static let demoImage = DemoTests.assets.appendingPathComponent("demo/images/demo_05.png").path

    /// A character device no bug can harm the system with: as root (who could replace the
    /// system's /dev/full or /dev/null) a private copy made with mknod; otherwise the system's,
    /// which a non-root process cannot replace.
    func device(_ name: String, minor: UInt32) -> String {
        guard getuid() == 0 else { return "/dev/" + name }
        let path = dir + "/" + name
        XCTAssertEqual(mknod(path, S_IFCHR | 0o666, dev_t(1 << 8 | minor)), 0, "mknod c 1 \(minor)")  // glibc makedev(1, minor)
        return path
    }

    func fileType(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    /// Item 1: a character device (made with mknod when we may; /dev/null's twin) given as --out
    /// to every writing command stays a device, and the command succeeds by writing into it.
    func testACharacterDeviceOutputIsWrittenIntoNeverReplaced() throws {
        guard getuid() == 0 else { throw XCTSkip("mknod needs root; the FIFO test covers the rule for special files") }
        let dev = device("n", minor: 3)
        let npy = dir + "/x.npy"
        XCTAssertEqual(try shell("$H preprocess --model faster_vit_0_224 --image \(shellQuoted(Self.demoImage)) --out \(npy)").code, 0)
        let commands = [
            "$H record --out \(dev)",
            "$H convert \(shellQuoted(DemoTests.assets.appendingPathComponent("demo/fastervit_demo.pth.tar").path)) \(dev)",
            "$H preprocess --model faster_vit_0_224 --image \(shellQuoted(Self.demoImage)) --out \(dev) --save-image \(dev)",
        ]
        for c in commands {
            let r = try shell(c)
            XCTAssertEqual(r.code, 0, "\(c): \(r.err)")
            XCTAssertEqual(fileType(dev), S_IFCHR, "\(c) replaced the device")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["n", "x.npy"], "no temporary files")
    }

    /// Item 1: a FIFO as --out receives the whole recording and stays a FIFO.
    func testAFIFOOutputReceivesTheBytesAndStaysAFIFO() throws {
        let fifo = dir + "/pipe", got = dir + "/got.safetensors"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let r = try shell("timeout 60 cat \(fifo) > \(got) & timeout 60 $H record --out \(fifo); rc=$?; "
                          + "[ -p \(fifo) ] || kill %1 2>/dev/null; wait; exit $rc", timeout: 90)
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(fileType(fifo), S_IFIFO)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: got))
        XCTAssertGreaterThan(bytes.count, 1_000_000, "the recording went through the FIFO")
        XCTAssertEqual(bytes.count > 8 ? bytes[bytes.startIndex + 8] : 0, UInt8(ascii: "{"), "a safetensors file")
        // `-` is standard output (the summary then goes to stderr).
        let stdout = try shell("$H record --out - | wc -c")
        XCTAssertEqual(stdout.code, 0, stdout.err)
        XCTAssertEqual(Int(stdout.out.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count)
    }

    /// Item 1: writing into a full device fails with one line, and the device is still there.
    func testAFullDeviceIsOneLine() throws {
        let full = device("full", minor: 7)
        let r = try shell("$H record --out \(full)")
        assertOneLineFailure(r, mentions: ["no space"], "record --out a full device")
        XCTAssertEqual(fileType(full), S_IFCHR)
    }

    /// Item 2: an image from a FIFO, from `<(cat ...)`, from /dev/stdin and from `-` is read once
    /// and classified like the file itself.
    func testInputsFromStreamsAreReadOnce() throws {
        let img = shellQuoted(Self.demoImage)
        let reference = try shell("$H predict --image \(img) --json")
        XCTAssertEqual(reference.code, 0, reference.err)
        let expected = Self.logits(reference.out)
        XCTAssertFalse(expected.isEmpty)
        let fifo = dir + "/in"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let cases = [
            "timeout 60 cat \(img) > \(fifo) & timeout 60 $H predict --image \(fifo) --json",
            "timeout 60 $H predict --image <(cat \(img)) --json",
            "cat \(img) | timeout 60 $H predict --image /dev/stdin --json",
            "cat \(img) | timeout 60 $H predict --image - --json",
            "cat \(img) | timeout 60 $H predict --input - --json",
        ]
        for c in cases {
            let r = try shell(c, timeout: 90)
            XCTAssertEqual(r.code, 0, "\(c): \(r.err)")
            XCTAssertEqual(Self.logits(r.out), expected, c)
        }
        // A .npy through a pipe works the same way.
        let npy = dir + "/x.npy"
        XCTAssertEqual(try shell("$H preprocess --model faster_vit_0_224 --image \(img) --out \(npy)").code, 0)
        let piped = try shell("cat \(npy) | timeout 60 $H record --input - --out \(dir)/r.safetensors")
        XCTAssertEqual(piped.code, 0, piped.err)
    }

    /// Item 3: a stream that sends a small PNG header and then endless data is cut off after what
    /// a 10 x 10 PNG can hold; the process stays small (address space limited to 1 GB here).
    func testAnEndlessStreamAfterASmallHeaderIsCutOff() throws {
        let fifo = dir + "/endless"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let header = "\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\x0dIHDR\\x00\\x00\\x00\\x0a\\x00\\x00\\x00\\x0a\\x08\\x02\\x00\\x00\\x00"
        let r = try shell("(printf '\(header)'; head -c 3000000000 /dev/zero) > \(fifo) 2>/dev/null & "
                          + "(ulimit -v 1500000; timeout 60 $H predict --image \(fifo)); rc=$?; kill %1 2>/dev/null; exit $rc", timeout: 90)
        assertOneLineFailure(r, mentions: ["10x10 png"], "endless PNG")
        // The same for a regular file: refused from its size, without reading it.
        let big = dir + "/big.png"
        XCTAssertEqual(try shell("(printf '\(header)'; head -c 50000000 /dev/zero) > \(big)").code, 0)
        assertOneLineFailure(try shell("$H predict --image \(big)"), mentions: ["10x10 png"], "oversized file")
    }

    /// Item 10: with stderr closed or full, an error still ends with exit status 1 (not a trap);
    /// with stdout closed or full, a command that prints fails with 1 instead of claiming success.
    func testClosedOrFullStandardStreams() throws {
        let full = device("errfull", minor: 7)
        for redirect in ["2>&-", "2>\(full)"] {
            let r = try shell("$H info /nonexistent \(redirect); echo $? >&1")
            XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines), "1", redirect)
            let parse = try shell("$H --no-such-option \(redirect); echo $?")
            XCTAssertEqual(parse.out.trimmingCharacters(in: .whitespacesAndNewlines), "1", "parse error, \(redirect)")
        }
        for redirect in [">&-", ">\(device("full", minor: 7))"] {
            let r = try shell("$H predict \(redirect)")
            assertOneLineFailure(r, mentions: ["standard output"], "predict \(redirect)")
        }
    }

    static func logits(_ json: String) -> [Float] {
        guard let d = json.data(using: .utf8),
              let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any],
              let results = o["results"] as? [[String: Any]], let first = results.first,
              let l = first["logits"] as? [Double] else { return [] }
        return l.map(Float.init)
    }
}
