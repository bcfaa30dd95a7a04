// What the end-to-end tests share: where the binaries are, a shell to run them in (pipes, FIFOs,
// closed descriptors, limits), a private tmux server to drive them in a real terminal, and the
// check every failure must pass (one `hatscope:` line, exit status 1).
import Foundation
import XCTest

/// The `hatscope` binary under test: HATSCOPE_TEST_BINARY when set (to run these tests against
/// another build, e.g. to show a test fails on the code before a fix), else the one beside the
/// test bundle.
var hatscopeBinary: String {
    ProcessInfo.processInfo.environment["HATSCOPE_TEST_BINARY"] ?? productsDirectory.appendingPathComponent("hatscope").path
}

/// The developer tool (frames, synthetic runs).
var hatscopeDevBinary: String { productsDirectory.appendingPathComponent("hatscope-dev").path }

/// A fresh folder under the temporary directory, removed by `cleanup`.
func makeTemporaryFolder(_ tag: String) throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Runs `script` with bash; `$H` is the hatscope binary, `$D` the developer tool. Output goes
/// through files (a background process holding a pipe open cannot make this hang).
func shell(_ script: String, timeout: Double = 120) throws -> (code: Int32, out: String, err: String) {
    let dir = try makeTemporaryFolder("hatsh")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = ["-c", script]
    var env = ProcessInfo.processInfo.environment
    env["H"] = hatscopeBinary
    env["D"] = hatscopeDevBinary
    p.environment = env
    _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    p.standardOutput = FileHandle(forWritingAtPath: dir + "/out")
    p.standardError = FileHandle(forWritingAtPath: dir + "/err")
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if p.isRunning {
        p.terminate()
        XCTFail("timed out after \(timeout) s: \(script)")
    }
    p.waitUntilExit()
    let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
    return (p.terminationStatus, out, err)
}

/// How many steps the tour has: its --help says "(1-N)" (the tests follow the tour as it grows).
func tourStepCount() throws -> Int {
    let help = try runHatscope(["tour", "--help"]).out
    return try XCTUnwrap(help.range(of: #"\(1-(\d+)\)"#, options: .regularExpression).flatMap { Int(help[$0].dropFirst(3).dropLast()) },
                         "no step count in tour --help")
}

/// Single-quoted for the shell.
func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// The promise for every failure: exit status 1, exactly one line on stderr, starting with
/// `hatscope: `, no crash report; `mentions` (lower-cased) must appear in it.
func assertOneLineFailure(_ r: (code: Int32, out: String, err: String), mentions words: [String] = [],
                          _ context: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.code, 1, "\(context): exit status; stderr: \(r.err)", file: file, line: line)
    let lines = r.err.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    XCTAssertEqual(lines.count, 1, "\(context): one line expected:\n\(r.err)", file: file, line: line)
    XCTAssertTrue(r.err.hasPrefix("hatscope: "), "\(context): \(r.err)", file: file, line: line)
    XCTAssertTrue(r.err.hasSuffix("\n"), "\(context): the line ends: \(r.err)", file: file, line: line)
    for w in words {
        XCTAssertTrue(r.err.lowercased().contains(w.lowercased()), "\(context): should mention \(w): \(r.err)", file: file, line: line)
    }
    for bad in ["Fatal error", "Error:", "Usage:", "NSCocoaErrorDomain", "Press space", "Swift runtime"] {
        XCTAssertFalse(r.err.contains(bad), "\(context): \(bad) in \(r.err)", file: file, line: line)
    }
}

/// A private tmux server (one per test) with helpers to start a command in a window of a given
/// size, read the screen, send keys and wait for conditions.
final class TmuxServer {
    let socket: String
    let work: String

    static var available: Bool { system("tmux -V >/dev/null 2>&1 </dev/null") == 0 }

    init(tag: String) throws {
        guard Self.available else {
            throw XCTSkip("tmux is not installed: the terminal end-to-end tests need it (./dev.sh test installs it)")
        }
        socket = "hatscope-\(tag)-\(getpid())-\(UUID().uuidString.prefix(6))"
        work = try makeTemporaryFolder("hattmux")
        // A session that outlives the others, so the server never exits (and restarts racily)
        // between a test's sessions.
        try start("keeper", "sleep 600")
    }

    deinit {
        _ = try? run(["kill-server"])
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Runs tmux through the shell with output to a file: Foundation's Process would wait
    /// forever, because the server started by the first call inherits its descriptors.
    @discardableResult
    func run(_ args: [String]) throws -> String {
        let outPath = work + "/tmux-out-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let line = (["tmux", "-L", socket] + args).map(shellQuoted).joined(separator: " ")
            + " </dev/null >" + shellQuoted(outPath) + " 2>/dev/null"
        _ = system(line)
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    /// Starts `command` (a shell line) in a new session `name` of width x height.
    func start(_ name: String, width: Int = 100, height: Int = 30, _ command: String) throws {
        try run(["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height), command])
    }

    func screen(_ name: String) throws -> String { try run(["capture-pane", "-p", "-t", name]) }

    /// A tmux format value of the pane (`alternate_on`, `mouse_any_flag`, `pane_dead`, ...).
    func format(_ name: String, _ variable: String) throws -> String {
        try run(["display-message", "-p", "-t", name, "#{\(variable)}"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func keys(_ name: String, _ k: [String]) throws { try run(["send-keys", "-t", name] + k) }

    /// Sends raw bytes to the pane (hex, so any byte value gets through unchanged).
    func bytes(_ name: String, _ b: [UInt8]) throws {
        try run(["send-keys", "-t", name, "-H"] + b.map { String(format: "%02x", $0) })
    }

    /// Polls the screen until `condition` holds; fails after `timeout` seconds.
    @discardableResult
    func waitFor(_ name: String, _ what: String, timeout: Double = 15, file: StaticString = #filePath, line: UInt = #line,
                 _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen(name)
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("timed out waiting for \(what); screen:\n\(last)", file: file, line: line)
        return last
    }

    /// Waits for a file the command writes when it ends (its exit status) and returns it.
    func waitForFile(_ path: String, timeout: Double = 15) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.1)
        return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A minimal PNG (8-bit RGB, stored deflate blocks) of `width` x `height` in one colour: test
/// images of any shape without an image library.
func makePNG(width: Int, height: Int, rgb: (UInt8, UInt8, UInt8) = (200, 80, 40)) -> Data {
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0 ..< 8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let tb = Array(type.utf8) + body
        return be32(UInt32(body.count)) + tb + be32(crc32(tb))
    }
    var raw: [UInt8] = []
    raw.reserveCapacity(height * (1 + 3 * width))
    for _ in 0 ..< height {
        raw.append(0)
        for _ in 0 ..< width { raw += [rgb.0, rgb.1, rgb.2] }
    }
    var z: [UInt8] = [0x78, 0x01]
    var i = 0
    repeat {
        let n = min(65535, raw.count - i)
        z.append(i + n == raw.count ? 1 : 0)
        z += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        z += raw[i ..< i + n]
        i += n
    } while i < raw.count
    var a: UInt32 = 1, b: UInt32 = 0
    for v in raw { a = (a + UInt32(v)) % 65521; b = (b + a) % 65521 }
    z += be32(b << 16 | a)
    let ihdr = be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0]
    return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", []))
}

/// A float32 .npy of `shape` filled with `value`.
func writeNPY(_ path: String, shape: [Int], value: Float) throws {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.map(String.init).joined(separator: ", ") + "), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
    d.append(Data(header.utf8))
    var values = [Float](repeating: value, count: shape.reduce(1, *))
    values.withUnsafeMutableBytes { d.append(contentsOf: $0) }
    try d.write(to: URL(fileURLWithPath: path))
}
