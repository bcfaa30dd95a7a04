// Issue 17, items 12, 14 and 15, on the real binary: the parser's own errors take the one style
// (one `hatscope:` line, exit 1) for every subcommand and every kind of bad argument; messages a
// person can act on; options that agree with each other.
import Foundation
import XCTest

final class MessagesE2ETests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryFolder("hatmsg") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static let subcommands = ["explore", "record", "predict", "export", "preprocess", "info", "convert", "bench", "tour", "stats", "merge", "occlude", "faithfulness"]

    /// The list above is every subcommand `hatscope --help` names: a new command is covered by the
    /// parser-error test below only if it is listed.
    func testTheListNamesEverySubcommand() throws {
        let help = try runHatscope(["--help"])
        XCTAssertEqual(help.code, 0)
        let section = try XCTUnwrap(help.out.components(separatedBy: "SUBCOMMANDS:").last)
        // The list ends at the first blank line (a "See 'hatscope help ...'" line follows).
        let list = section.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().prefix { !$0.isEmpty }
        let named = list.compactMap { line -> String? in
            // A subcommand's line starts with two spaces and its name; wrapped help text is indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
        XCTAssertEqual(Set(named), Set(Self.subcommands), "hatscope --help against MessagesE2ETests.subcommands")
        XCTAssertEqual(named.count, Self.subcommands.count)
    }

    /// (value options, flags) of a subcommand, read from its --help.
    func options(_ sub: String) throws -> (values: [String], flags: [String]) {
        let help = try runHatscope([sub, "--help"])
        XCTAssertEqual(help.code, 0, sub)
        var values: [String] = [], flags: [String] = []
        var inOptions = false
        for line in help.out.split(separator: "\n").map(String.init) {
            if line.hasPrefix("OPTIONS:") { inOptions = true; continue }
            guard inOptions, line.hasPrefix("  -") else { continue }
            let head = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")[0]
            guard let long = head.components(separatedBy: ", ").last(where: { $0.hasPrefix("--") }) else { continue }
            let name = String(long.split(separator: " ")[0])
            if ["--help", "--version"].contains(name) { continue }
            if long.contains("<") { values.append(name) } else { flags.append(name) }
        }
        XCTAssertFalse(values.isEmpty && flags.isEmpty, "\(sub): no options read from --help")
        return (values, flags)
    }

    /// Item 12: every kind of argument the parser refuses, for every subcommand, is one line and
    /// exit status 1 (never "Error:", a usage block, or 64).
    func testEveryParserErrorOfEverySubcommandIsOneLine() throws {
        let ints = ["--top", "--jobs", "--scale", "--step", "--repeat", "--warmup", "--window", "--query-index",
                    "--carrier-slot", "--carrier", "--max-attention-mb", "--batch", "--stage", "--steps", "--sanity", "--seed", "--class"]
        let invalid: [String: [[String]]] = [
            "predict": [["--top", "0"], ["--top", "-3"]],
            "tour": [["--step", "0"], ["--step", "\(try tourStepCount() + 1)"], ["--color", "rainbow"]],
            "explore": [["--color", "rainbow"], ["--colormap", "nope"]],
            "stats": [["--jobs", "99", "--out", "o", "--image", "i"], ["--scale", "9", "--out", "o", "--image", "i"],
                      ["--colormap", "nope", "--out", "o", "--image", "i"], ["--out", "o"],
                      ["--shard", "0/3", "--out", "o", "--image", "i"], ["--shard", "4/3", "--out", "o", "--image", "i"],
                      ["--shard", "half", "--out", "o", "--image", "i"], ["--batch", "0", "--out", "o", "--image", "i"]],
            "merge": [["only-the-output"], ["--scale", "0", "o", "p"]],
            "occlude": [["--stage", "5", "--out", "o"], ["--batch", "0", "--out", "o"], ["--opacity", "2", "--out", "o"], ["--top", "0", "--out", "o"]],
            "faithfulness": [["--steps", "1", "--out", "o", "--image", "i"], ["--sanity", "-1", "--out", "o", "--image", "i"],
                             ["--out", "o"], ["--shard", "3/2", "--out", "o", "--image", "i"],
                             ["--sources", "gradcam", "--out", "o", "--image", "i"]],
            "record": [["--max-attention-mb", "-1", "--out", "o"]],
        ]
        var cases: [[String]] = [["bogus-subcommand"], ["--no-such-option"], ["-Z"], ["extra", "arguments", "here"]]
        for sub in Self.subcommands {
            let (values, flags) = try options(sub)
            cases.append([sub, "--no-such-option"])
            cases.append([sub, "-Z"])
            if sub != "merge" {   // merge takes any number of arguments: they are files (DatasetCLITests)
                cases.append([sub, "--"] + ["a", "b", "c"])
                cases.append([sub, "unexpected-positional", "and-another", "and-a-third"])
            }
            for v in values { cases.append([sub, v]) }                          // missing value
            for f in flags { cases.append([sub, "\(f)=yes"]) }                  // a flag given a value
            for v in values where ints.contains(v) { cases.append([sub, v, "many"]) }   // not a number
            cases += (invalid[sub] ?? []).map { [sub] + $0 }
        }
        cases += [["record"], ["export"], ["stats", "--image", "x"], ["merge"], ["preprocess", "--out", "x.npy"], ["convert"], ["convert", "only-one"]]
        XCTAssertGreaterThan(cases.count, 120)
        // Four at a time: the parser answers in milliseconds, process start-up is the cost.
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var all: [Int: (code: Int32, out: String, err: String)] = [:]
        }
        let results = Results()
        let all = cases
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in stride(from: worker, to: all.count, by: 4) {
                let r = (try? runHatscope(all[i])) ?? (-1, "", "could not run")
                results.lock.lock(); results.all[i] = r; results.lock.unlock()
            }
        }
        for (i, args) in cases.enumerated() {
            let r = try XCTUnwrap(results.all[i])
            assertOneLineFailure(r, mentions: [], args.joined(separator: " "))
            XCTAssertTrue(r.err.contains("--help"), "\(args): points to the help: \(r.err)")
        }
    }

    /// Item 12: a checkpoint that does not match prints the summary first, then at most ten
    /// indented lines; `info` lists everything.
    func testAMismatchIsASummaryAndAShortList() throws {
        let r = try runHatscope(["predict", "--model", "faster_vit_0_224"])
        XCTAssertEqual(r.code, 1)
        let lines = r.err.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("hatscope: ") && lines[0].contains("does not match"), r.err)
        XCTAssertLessThanOrEqual(lines.count, 11, r.err)
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.hasPrefix("  ") }, r.err)
        XCTAssertTrue(r.err.contains("hatscope info"), r.err)
        let info = try runHatscope(["info", "--model", "faster_vit_0_224"])
        XCTAssertEqual(info.code, 1)
        XCTAssertGreaterThan(info.out.split(separator: "\n").filter { $0.contains("missing ") || $0.contains("mis-shaped ") }.count, 20)
    }

    /// Item 14: messages a person can act on.
    func testMessagesSayWhatToDo() throws {
        // An unwritable output folder: the system's words, not NSCocoaErrorDomain.
        assertOneLineFailure(try shell("$H export --out /proc/hatscope-no/figs"), mentions: ["cannot create"], "export into /proc")
        assertOneLineFailure(try shell("$H stats --image x --out /proc/hatscope-no/st"), mentions: ["cannot create"], "stats into /proc")
        // An extreme aspect ratio says so and what is supported.
        let thin = dir + "/thin.png"
        try makePNG(width: 4000, height: 10).write(to: URL(fileURLWithPath: thin))
        assertOneLineFailure(try shell("$H predict --image \(thin)"), mentions: ["too elongated", "aspect ratios up to"], "4000x10")
        // An empty file name is named as such.
        assertOneLineFailure(try shell("$H predict --image ''"), mentions: ["empty file name"], "--image ''")
        // A bad .npy is a bad array, not a "malformed checkpoint".
        try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 10, 0] + Array("{'descr': ".utf8)).write(to: URL(fileURLWithPath: dir + "/bad.npy"))
        let npy = try shell("$H record --input \(dir)/bad.npy --out \(dir)/r.safetensors")
        assertOneLineFailure(npy, mentions: [".npy"], "bad .npy")
        XCTAssertFalse(npy.err.contains("checkpoint"), npy.err)
        // A JSON array as --config.
        try Data("[1, 2, 3]".utf8).write(to: URL(fileURLWithPath: dir + "/array.json"))
        let json = try shell("$H predict --config \(dir)/array.json")
        assertOneLineFailure(json, mentions: ["json object"], "array config")
        XCTAssertFalse(json.err.contains("field  "), json.err)
        // Control characters in a file name are shown escaped.
        let odd = try shell("$H predict --image $'evil\\x1b[31mred\\nhatscope: forged'")
        assertOneLineFailure(odd, mentions: ["\\x1B[31m", "\\n"], "control characters")
        XCTAssertFalse(odd.err.contains("\u{1B}"), odd.err)
        // The tour's help names the explorer's key for it.
        let tour = try runHatscope(["tour", "--help"]).out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(tour.contains("`t` in the explorer opens the same tour"), tour)
        XCTAssertFalse(tour.contains("`g` in the explorer"), tour)
    }

    /// Item 14: without TERM the explorer says how to set it.
    func testAMissingTermIsExplained() throws {
        let tmux = try TmuxServer(tag: "term")
        try tmux.start("x", "env -u TERM \(shellQuoted(hatscopeBinary)) explore 2>\(dir)/err; echo $? > \(dir)/rc; sleep 20")
        XCTAssertEqual(tmux.waitForFile(dir + "/rc", timeout: 30), "1")
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        assertOneLineFailure((1, "", err), mentions: ["TERM is not set", "export TERM="], "TERM unset")
    }

    /// Item 15: options that name things that do not exist are errors alike; the demo model's
    /// record says nothing about presets.
    func testOptionsAreConsistent() throws {
        assertOneLineFailure(try shell("$H export --out \(dir)/a --view carrier --carrier 100000"), mentions: ["--carrier 100000", "0-15"], "carrier")
        assertOneLineFailure(try shell("$H export --out \(dir)/b --block 99"), mentions: ["block"], "block")
        assertOneLineFailure(try shell("$H record --out \(dir)/r.safetensors --blocks 2.99"), mentions: ["convolutional"], "stage 2")
        assertOneLineFailure(try shell("$H record --out \(dir)/r.safetensors --blocks 3.99"), mentions: ["blocks 0-"], "block 99")
        assertOneLineFailure(try shell("$H record --out \(dir)/r.safetensors --blocks levels.2.blocks.9"), mentions: ["blocks 0-"], "module path")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
        let demo = try shell("$H record --out \(dir)/r.safetensors")
        XCTAssertEqual(demo.code, 0, demo.err)
        XCTAssertFalse(demo.out.contains("no official preset"), demo.out)
        // One numbering: stage 3 block 1 is levels.2.blocks.1 in record and export alike.
        let byStage = try shell("$H record --out \(dir)/s.safetensors --blocks 3.1 && $H export --out \(dir)/e1 --stage 3 --block 1 --view local")
        let byPath = try shell("$H record --out \(dir)/p.safetensors --blocks levels.2.blocks.1 && $H export --out \(dir)/e2 --block levels.2.blocks.1 --view local")
        XCTAssertEqual(byStage.code, 0, byStage.err)
        XCTAssertEqual(byPath.code, 0, byPath.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/s.safetensors")), try Data(contentsOf: URL(fileURLWithPath: dir + "/p.safetensors")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/e1"), try FileManager.default.contentsOfDirectory(atPath: dir + "/e2"))
    }
}
