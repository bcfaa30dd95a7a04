// torch.save files written by torch 2.5.1 (tools/gen_checkpoint_fixtures.py): every wrapper,
// storage dtypes, views (transposed, shared storage with offsets, stepped), Parameter and tensor
// subclass rebuilds, the legacy format, a hand-built ZIP64 archive. Values must match exactly
// (every conversion to float32 is exact).
import HatCore
import XCTest
@testable import HatCheckpoint

final class TorchCheckpointTests: XCTestCase {
    private func check(_ fixture: String, ema: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws -> LoadedStateDict {
        let key = ema ? fixture + "#ema" : fixture
        let d = try StateDictLoader.load(path: Fixtures.path(fixture), ema: ema)
        assertTensorsEqual(d.tensors, Fixtures.tensors(key), file: file, line: line)
        let e = Fixtures.entry(key)
        if let source = e["source"] as? String { XCTAssertEqual(d.source, source, file: file, line: line) }
        if let extras = e["extra_keys"] as? [String] {
            let names = d.extras.map { String($0.prefix { $0 != ":" }) }
            XCTAssertEqual(names, extras, "extras of \(key)", file: file, line: line)
        }
        return d
    }

    func testBareStateDict() throws {
        let d = try check("bare.pt")
        XCTAssertEqual(d.format, "zip")
        XCTAssertEqual(d.order, ["conv.weight", "conv.bias", "bn.weight", "bn.running_var", "bn.num_batches_tracked", "head.weight"])
        XCTAssertEqual(d.storedTypes["bn.num_batches_tracked"], .int64)
    }

    func testTrainingDictWithOptimizerNamespaceAndNumpyExtras() throws {
        let d = try check("train_state_dict.pt")
        let joined = d.extras.joined(separator: "\n")
        XCTAssertTrue(joined.contains("epoch: 309"))
        XCTAssertTrue(joined.contains("arch: 'faster_vit_0_224'"))
        XCTAssertTrue(joined.contains("args: argparse.Namespace (5 fields)"), joined)
        XCTAssertTrue(joined.contains("best_metric: numpy float64 0.8125"), joined)
        XCTAssertTrue(joined.contains("step: numpy int64 12"), joined)
        XCTAssertTrue(joined.contains("tags: set (2 items)"), joined)
        XCTAssertTrue(joined.contains("raw: bytes (2)"), joined)
        XCTAssertTrue(joined.contains("optimizer: dict (2 entries)"), joined)
    }

    func testModelKeyAndEMASelection() throws {
        _ = try check("model_key.pt")
        let standard = try check("ema.pt")
        XCTAssertTrue(standard.extras.contains { $0.contains("--ema") }, "info tells the user EMA weights exist")
        _ = try check("ema.pt", ema: true)
        XCTAssertThrowsError(try StateDictLoader.load(path: Fixtures.path("model_key.pt"), ema: true)) {
            guard case CheckpointError.noStateDict = $0 else { return XCTFail("\($0)") }
        }
    }

    /// `torch.save(model)`: the state dict comes from the pickled module's attributes, read as
    /// data (parameters, persistent buffers, submodules), alone or under a wrapper key, with
    /// pickle protocol 2 or 4; a DataParallel's `module.` goes as usual.
    func testWholePickledModulesGiveTheirStateDict() throws {
        for (fixture, module, prefix) in [("whole_small.pt", "__main__.Small", nil as String?),
                                          ("whole_small_p4.pt", "__main__.Small", nil),
                                          ("whole_dp_in_dict.pt", "torch.nn.parallel.data_parallel.DataParallel", "module.")] {
            let d = try check(fixture)
            XCTAssertEqual(d.pickledModule, module, fixture)
            XCTAssertEqual(d.strippedPrefix, prefix, fixture)
            XCTAssertFalse(d.order.contains("scratch"), "a non-persistent buffer is not in the state dict (\(fixture))")
        }
        let linear = try StateDictLoader.load(path: Fixtures.path("whole_module.pt"))
        XCTAssertEqual(linear.order, ["weight", "bias"])
        XCTAssertEqual(linear.source, "model")
        XCTAssertEqual(linear.pickledModule, "torch.nn.modules.linear.Linear")
    }

    /// The official FasterViT saved whole equals the same model's saved state dict, tensor for
    /// tensor, in the same order and element types.
    func testWholeFasterViTEqualsItsStateDict() throws {
        let whole = try StateDictLoader.load(path: Fixtures.path("whole_fastervit.pt"))
        let saved = try StateDictLoader.load(path: Fixtures.path("tiny_fastervit.pth.tar"))
        XCTAssertEqual(whole.pickledModule, "fastervit.models.faster_vit.FasterViT")
        XCTAssertEqual(whole.order, saved.order)
        XCTAssertEqual(whole.storedTypes, saved.storedTypes)
        assertTensorsEqual(whole.tensors, saved.tensors)
    }

    /// Modules shared level after level (2^40 paths): refused at the bound, at once.
    func testExponentiallySharedModulesStopAtTheBound() throws {
        XCTAssertThrowsError(try StateDictLoader.load(path: Fixtures.path("whole_shared.pt"))) {
            guard case CheckpointError.limit(let m) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(m.contains("more than"), m)
        }
    }

    func testAModuleHoldingItselfIsRefused() throws {
        XCTAssertThrowsError(try StateDictLoader.load(path: Fixtures.path("whole_cycle.pt"))) {
            guard case CheckpointError.malformed(let m) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(m.contains("contains itself"), m)
        }
    }

    func testModulePrefixStripped() throws {
        let d = try check("module_prefix.pt")
        XCTAssertEqual(d.strippedPrefix, "module.")
    }

    /// State dicts of a torch.compile'd model (`_orig_mod.`), alone and with DataParallel
    /// outside or inside it, as `torch.save(model.state_dict())` writes them.
    func testCompiledAndDataParallelPrefixesStripped() throws {
        for (fixture, prefix) in [("compiled_prefix.pt", "_orig_mod."), ("compiled_dp_prefix.pt", "_orig_mod.module."),
                                  ("dp_compiled_prefix.pt", "module._orig_mod.")] {
            let d = try check(fixture)
            XCTAssertEqual(d.strippedPrefix, prefix, fixture)
            XCTAssertEqual(d.order.first, "conv.weight", fixture)
        }
    }

    func testStorageTypes() throws {
        let d = try check("dtypes.pt")
        XCTAssertEqual(d.storedTypes["f16"], .float16)
        XCTAssertEqual(d.storedTypes["bf16"], .bfloat16)
        XCTAssertEqual(d.storedTypes["f64"], .float64)
        XCTAssertEqual(d.storedTypes["b"], .bool)
        XCTAssertEqual(d.tensors["scalar"]?.shape, [])
    }

    func testViewsSharedStoragesParametersSubclasses() throws {
        _ = try check("views.pt")
    }

    func testLegacyFormat() throws {
        let d = try check("legacy.pt")
        XCTAssertEqual(d.format, "legacy")
    }

    func testZip64WithDataDescriptorsAndCRC() throws {
        _ = try check("tiny_zip64.pt")
        for name in ["tiny.pt", "tiny_zip64.pt", "views.pt"] {
            let f = try MappedFile(path: Fixtures.path(name))
            XCTAssertNoThrow(try ZipArchive(f.bytes, context: name, verifyCRC: true))
            var b = Fixtures.bytes(name)
            // Flip a byte inside the first data entry: the CRC check catches it.
            let z = try ZipArchive(f.bytes, context: name)
            let e = z.entries.first { $0.name.hasSuffix("data.pkl") }!
            b[e.dataStart + 3] ^= 0x40
            XCTAssertThrowsError(try b.withUnsafeBytes { try ZipArchive($0, context: name, verifyCRC: true) })
        }
    }

    func testNotACheckpoint() throws {
        let p = Fixtures.path("c_f32.npy")
        XCTAssertThrowsError(try TorchCheckpoint(path: p)) { XCTAssertTrue("\($0)".contains("not a torch.save file"), "\($0)") }
        XCTAssertThrowsError(try StateDictLoader.load(path: "/nonexistent/x.pt")) {
            guard case CheckpointError.io = $0 else { return XCTFail("\($0)") }
        }
    }

    func testSafetensorsThroughTheSameLoader() throws {
        let d = try StateDictLoader.load(path: Fixtures.path("mixed.safetensors"))
        XCTAssertEqual(d.format, "safetensors")
        assertTensorsEqual(d.tensors, Fixtures.tensors("mixed.safetensors"))
    }
}
