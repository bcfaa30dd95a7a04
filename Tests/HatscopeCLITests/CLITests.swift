// End-to-end tests of the built `hatscope` binary: help, version, errors.
import XCTest
import Foundation

/// Runs the hatscope binary built beside the test bundle (or `binary`, e.g. hatscope-dev).
func runHatscope(_ args: [String], stdin: String? = nil, env: [String: String] = [:],
                 binary: String = hatscopeBinary) throws -> (code: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

var productsDirectory: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}

final class CLITests: XCTestCase {
    func testVersion() throws {
        let r = try runHatscope(["--version"])
        XCTAssertEqual(r.code, 0)
        XCTAssertTrue(r.out.contains("0."), r.out)
    }

    func testHelpListsSubcommands() throws {
        let r = try runHatscope(["--help"])
        XCTAssertEqual(r.code, 0)
        for sub in ["explore", "record", "export", "info", "convert", "bench"] {
            XCTAssertTrue(r.out.contains(sub), "help lacks \(sub)")
        }
    }

    func testUnknownOptionIsOneCleanError() throws {
        let r = try runHatscope(["info", "--no-such-flag"])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertFalse(r.err.contains("Fatal error"))
    }
}
