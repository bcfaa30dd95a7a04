// Nothing in a pickle is executed: a checkpoint calling os.system is refused (and the command's
// marker file never appears), dangerous globals are refused whichever opcode names them, unknown
// globals stay inert, and malformed or oversized pickles fail with typed errors.
import Foundation
import HatCore
import XCTest
@testable import HatCheckpoint

final class PickleSafetyTests: XCTestCase {
    let marker = "/tmp/hatscope_checkpoint_test_marker"

    func testOsSystemCheckpointIsRefusedAndNothingRuns() throws {
        for name in ["evil_os_system.pt", "evil_legacy.pt"] {
            try? FileManager.default.removeItem(atPath: marker)
            XCTAssertThrowsError(try StateDictLoader.load(path: Fixtures.path(name)), name) { error in
                guard case CheckpointError.unsafe(let m) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(m.contains("system"), m)
                XCTAssertTrue("\(error)".contains("nothing in the file was executed"))
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the payload must not run")
        }
    }

    /// Protocol-2 pickle bytes: PROTO 2, body, STOP.
    /// With `keep`, the containers stay populated for inspection (they are torn down otherwise).
    private func run(_ body: [UInt8], limits: Unpickler.Limits = .init(), keep: Bool = false) throws -> PickleValue {
        let bytes: [UInt8] = [0x80, 2] + body + [0x2E]
        return try bytes.withUnsafeBytes { b in
            var u = Unpickler(b, from: 0, context: "test", limits: limits) { _ in throw CheckpointError.malformed("no pid") }
            defer { if !keep { u.arena.teardown() } }
            let v = try u.load()
            return v
        }
    }

    private func global(_ m: String, _ n: String) -> [UInt8] { [0x63] + Array("\(m)\n\(n)\n".utf8) }
    private func unicode(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }

    func testDangerousGlobalsRefusedByEveryOpcode() {
        let callArg: [UInt8] = unicode("id") + [0x85, 0x52] // ('id',) REDUCE
        let cases: [(String, [UInt8])] = [
            ("os.system", global("os", "system") + callArg),
            ("posix.system", global("posix", "system") + callArg),
            ("nt.system", global("nt", "system") + callArg),
            ("subprocess.Popen", global("subprocess", "Popen") + callArg),
            ("builtins.eval", global("builtins", "eval") + callArg),
            ("__builtin__.exec", global("__builtin__", "exec") + callArg),
            ("builtins.getattr", global("builtins", "getattr") + callArg),
            ("os.path.join", global("os.path", "join") + callArg),
            ("sys.modules", global("sys", "modules")),
            ("STACK_GLOBAL os.system", unicode("os") + unicode("system") + [0x93] + callArg),
            ("functools.partial", global("functools", "partial")),
        ]
        for (what, body) in cases {
            XCTAssertThrowsError(try run(body), what) { error in
                guard case CheckpointError.unsafe = error else { return XCTFail("\(what): \(error)") }
            }
        }
    }

    func testUnknownGlobalsStayInert() throws {
        // mypkg.Config('x') then BUILD with {'a': 1}: an inert object holding its arguments.
        let body = global("mypkg", "Config") + unicode("x") + [0x85, 0x52] + [0x7D] + unicode("a") + [0x4B, 1, 0x73, 0x62]
        guard case let .object(o) = try run(body, keep: true) else { return XCTFail("expected an inert object") }
        XCTAssertEqual(o.type.description, "mypkg.Config")
        guard case let .dict(state) = o.state, case .int(1)? = state["a"] else { return XCTFail("state kept") }
        // Harmless builtins (set) are inert too.
        XCTAssertNoThrow(try run(global("__builtin__", "set") + [0x5D, 0x85, 0x52]))
    }

    func testMalformedPicklesGiveTypedErrors() {
        let cases: [(String, [UInt8])] = [
            ("two values at STOP", [0x4B, 1, 0x4B, 2]),
            ("open MARK at STOP", [0x28, 0x4B, 1]),
            ("empty stack", []),
            ("undefined memo", [0x68, 5]),
            ("append to int", [0x4B, 1, 0x4B, 2, 0x61]),
            ("setitem on list", [0x5D, 0x4B, 1, 0x4B, 2, 0x73]),
            ("unknown opcode", [0xFF]),
            ("string past the end", [0x58, 0xFF, 0xFF, 0, 0]),
            ("negative LONG4", [0x8B, 0xFF, 0xFF, 0xFF, 0xFF]),
            ("REDUCE of a non-tuple", global("mypkg", "f") + [0x4B, 1, 0x52]),
            ("rebuild without storage", global("torch._utils", "_rebuild_tensor_v2") + [0x4B, 1, 0x4B, 0, 0x29, 0x29, 0x89, 0x4E] + [0x28] + [0x74] + [0x52]),
            ("pop of an empty stack", [0x30]),
            ("pop mark without mark", [0x4B, 1, 0x31]),
        ]
        for (what, body) in cases {
            XCTAssertThrowsError(try run(body), what) { XCTAssertTrue($0 is CheckpointError, "\(what): \($0)") }
        }
    }

    func testLimitsAreEnforced() {
        var limits = Unpickler.Limits()
        limits.marks = 100
        XCTAssertThrowsError(try run([UInt8](repeating: 0x28, count: 101), limits: limits)) {
            guard case CheckpointError.limit = $0 else { return XCTFail("\($0)") }
        }
        limits = .init(); limits.stack = 1000
        XCTAssertThrowsError(try run([UInt8](repeating: 0x4E, count: 1001), limits: limits)) {
            guard case CheckpointError.limit = $0 else { return XCTFail("\($0)") }
        }
        limits = .init(); limits.bigIntBytes = 16
        XCTAssertThrowsError(try run([0x8A, 17] + [UInt8](repeating: 1, count: 17), limits: limits))
    }

    func testDeepNestingAndCyclesReleaseWithoutRecursion() throws {
        // 200k nested one-element tuples, then a list appended to itself: teardown must not recurse.
        var body: [UInt8] = [0x4E]
        body += [UInt8](repeating: 0x85, count: 200_000)
        body += [0x30, 0x5D, 0x71, 0, 0x68, 0, 0x61]
        XCTAssertNoThrow(try run(body))
    }

    /// _rebuild_tensor_v3 (untyped storage + explicit dtype), which torch 2.5 cannot write for the
    /// dtypes hatscope reads, is checked on a hand-built pickle.
    func testRebuildTensorV3() throws {
        let pid: [UInt8] = unicode("storage") + global("torch", "UntypedStorage") + unicode("0") + unicode("cpu") + [0x4B, 8]
        let body: [UInt8] = global("torch._utils", "_rebuild_tensor_v3") + [0x28, 0x28] + pid + [0x74, 0x51] // (storage pid) BINPERSID
            + [0x4B, 1] + [0x4B, 2, 0x85] + [0x4B, 1, 0x85] + [0x89] + [0x29] + global("torch", "bfloat16") + [0x74, 0x52]
        let bytes: [UInt8] = [0x80, 2] + body + [0x2E]
        let value = try bytes.withUnsafeBytes { b -> PickleValue in
            var u = Unpickler(b, from: 0, context: "v3") { pid in
                guard case let .tuple(t) = pid, case let .string(key) = t.items[2] else { throw CheckpointError.malformed("pid") }
                return .storage(StorageRef(key: key, type: .uint8, count: 8))
            }
            return try u.load()
        }
        guard case let .tensor(t) = value else { return XCTFail("expected a tensor, got \(value.typeName)") }
        XCTAssertEqual(t.type, .bfloat16)
        XCTAssertEqual(t.offset, 1)
        XCTAssertEqual(t.shape, [2])
        // Materialise from 8 raw bytes: bf16 elements 1 and 2 of [0, 1.0, -2.0, 0.5].
        let raw: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0xC0, 0, 0x3F]
        let got = try raw.withUnsafeBytes {
            try ElementConversion.gather(storage: $0, type: t.type, bigEndian: false, offset: t.offset, shape: t.shape, strides: t.strides, name: "v3")
        }
        XCTAssertEqual(got.data, [1.0, -2.0])
    }

    func testPopDiscardsAnEmptyMarkLikePython() throws {
        guard case .int(1)? = try? run([0x4B, 1, 0x28, 0x30]) else { return XCTFail("POP after MARK discards the MARK") }
    }

    func testIntegersDecodeLikePython() throws {
        guard case .int(-1)? = try? run([0x8A, 1, 0xFF]) else { return XCTFail("LONG1 -1") }
        guard case .int(70000)? = try? run([0x4A, 0x70, 0x11, 0x01, 0x00]) else { return XCTFail("BININT") }
        guard case .int(1 << 40)? = try? run([0x8A, 6, 0, 0, 0, 0, 0, 1]) else { return XCTFail("LONG1 2^40") }
        guard case .float(1.5)? = try? run([0x47, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]) else { return XCTFail("BINFLOAT") }
    }
}
