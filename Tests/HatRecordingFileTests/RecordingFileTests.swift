// The recording file: round trips (float32 exact, float16 = round to nearest), maps read in place
// from the mapping, and the reader's refusals — each a typed error of one line naming the file.
import Foundation
import XCTest
@testable import HatCheckpoint
@testable import HatRecording
@testable import HatRecordingFile

/// A small model with every feature: hierarchical attention in both transformer stages, carriers
/// (ct 2), propagation, 5 classes.
let smallConfig = ModelConfig(name: "small", dim: 4, inDim: 4, depths: [1, 1, 2, 2], heads: [1, 1, 2, 2],
                              windowSize: [7, 7, 4, 4], ctSize: 2, layerScale: 1e-5, hat: [false, false, true, true],
                              doPropagation: true, numClasses: 5, resolution: [128, 192], cropPct: 0.9, cropMode: "center")

/// Attention values that differ everywhere (and are not float16-exact).
func recording(_ config: ModelConfig = smallConfig, resolution: [Int]? = nil) -> Recording {
    var r = SyntheticRecording.make(config: config, resolution: resolution) { e in
        Float(1 + (e.level * 7 + e.block * 5 + e.group * 3 + e.head * 11 + e.query * 13 + e.key * 17) % 23) / 7
    }
    r.input = (0 ..< r.input.count).map { Float($0 % 101) / 50 - 1 }
    r.logits = (0 ..< config.numClasses).map { Float($0) * 0.37 - 1 }
    r.notes = ["a note", "another"]
    r.provenance = Provenance(producer: "test", checkpoint: .init(path: "/x/y.pth.tar", sha256: String(repeating: "ab", count: 32)),
                              input: .init(kind: "image", path: "cat.jpg", sha256: nil),
                              preprocessing: InputPreprocessing(height: 128, width: 192, cropPct: 0.9, cropMode: "center"),
                              classNames: ["a", "b", "c", "d", "e"], interventions: ["--cut-global levels.2"], buffers: "stored")
    return r
}

let tempFolder = FileManager.default.temporaryDirectory.appendingPathComponent("hatrecfile-\(getpid())")

func tempPath(_ name: String) -> String {
    try? FileManager.default.createDirectory(at: tempFolder, withIntermediateDirectories: true)
    return tempFolder.appendingPathComponent(name).path
}

func removeTempFolder() { try? FileManager.default.removeItem(at: tempFolder) }

final class RecordingFileTests: XCTestCase {
    override class func tearDown() { removeTempFolder() }

    func testFloat32RoundTripIsExactAndReadInPlace() throws {
        for res in [[128, 192], [160, 160], [64, 64]] {  // non-square carrier grid, padding, one window
            let rec = recording(resolution: res)
            let path = tempPath("rt32.safetensors")
            try RecordingWriter.write(rec, to: path)
            XCTAssertTrue(RecordingReader.isRecording(path: path))
            let back = try RecordingReader.read(path: path)
            XCTAssertEqual(back, rec, "\(res)")
            XCTAssertEqual(back.provenance, rec.provenance)
            XCTAssertEqual(back.notes, rec.notes)
            let maps = try XCTUnwrap(back.stages.first?.blocks.first?.window)
            XCTAssertTrue(maps.isExternal, "maps stay in the mapped file")
            XCTAssertEqual(maps.element, .float32)
        }
    }

    func testFloat16StoresTheNearestHalf() throws {
        let rec = recording()
        let path = tempPath("rt16.safetensors")
        try RecordingWriter.write(rec, dtype: .f16, to: path)
        let back = try RecordingReader.read(path: path)
        XCTAssertEqual(back.input, rec.input, "only maps are float16")
        XCTAssertEqual(back.logits, rec.logits)
        XCTAssertEqual(back.stages.map(\.propagation), rec.stages.map(\.propagation))
        var compared = 0
        for (s, t) in zip(rec.stages, back.stages) {
            for (a, b) in zip(s.blocks, t.blocks) {
                for (m, n) in [(a.window, b.window), (a.carrier, b.carrier)] {
                    guard let m, let n else { XCTAssertNil(m ?? n); continue }
                    XCTAssertEqual(n.element, .float16)
                    XCTAssertEqual(n.probs, m.probs.map { Float(Float16($0)) })
                    XCTAssertNotEqual(n.probs, m.probs, "the values are not half-exact, so rounding happened")
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, 8)  // 2 blocks x (window + carrier) in levels 2 and 3 (level 3: 1 x 2 windows)
        // Smaller on disk: maps are most of the file.
        let a = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        try RecordingWriter.write(rec, to: tempPath("rt32b.safetensors"))
        let b = try FileManager.default.attributesOfItem(atPath: tempPath("rt32b.safetensors"))[.size] as! Int
        XCTAssertLessThan(a, b)
    }

    func testMappedAccessorsAgreeWithMemory() throws {
        let rec = recording()
        let path = tempPath("acc.safetensors")
        for dtype in RecordingDType.allCases {
            try RecordingWriter.write(rec, dtype: dtype, to: path)
            let back = try RecordingReader.read(path: path)
            let m = rec.stages[0].blocks[1].window!, n = back.stages[0].blocks[1].window!
            let expect = dtype == .f16 ? m.probs.map { Float(Float16($0)) } : m.probs
            let mem = AttentionMaps(groups: m.groups, heads: m.heads, queries: m.queries, keys: m.keys, probs: expect)
            for g in 0 ..< m.groups {
                for h in 0 ..< m.heads {
                    XCTAssertEqual(n.withMatrix(group: g, head: h) { Array($0) }, mem.withMatrix(group: g, head: h) { Array($0) })
                    XCTAssertEqual(n.row(g, h, 3), mem.row(g, h, 3))
                    XCTAssertEqual(n.at(g, h, 2, 5), mem.at(g, h, 2, 5))
                }
            }
            var chunks: [Float] = []
            n.forEachChunk(maxValues: 100) { chunks += $0 }
            XCTAssertEqual(chunks, expect)
        }
    }

    func testUnalignedFloat32MapsAreReadCorrectly() throws {
        // An external float32 map at an odd byte offset (as after an odd number of float16 values).
        final class Bytes: ExternalBytes, @unchecked Sendable {
            let storage: UnsafeMutableRawPointer
            var base: UnsafeRawPointer { UnsafeRawPointer(storage) }
            var released: [Range<Int>] = []
            init(_ values: [Float]) {
                storage = .allocate(byteCount: values.count * 4 + 2, alignment: 8)
                values.withUnsafeBytes { (storage + 2).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            func done(_ range: Range<Int>) { released.append(range) }
            deinit { storage.deallocate() }
        }
        let values = (0 ..< 2 * 3 * 4).map { Float($0) * 0.25 }
        let bytes = Bytes(values)
        let maps = AttentionMaps(groups: 1, heads: 2, queries: 3, keys: 4, bytes: bytes, offset: 2, element: .float32)
        XCTAssertEqual(maps.probs, values)
        XCTAssertEqual(maps.withMatrix(group: 0, head: 1) { Array($0) }, Array(values[12 ..< 24]))
        XCTAssertEqual(bytes.released, [2 + 48 ..< 2 + 96], "the matrix's bytes are handed back")
        XCTAssertEqual(maps.row(0, 1, 2), Array(values[20 ..< 24]))
    }

    func testRecordingsWithoutSomeWindowMapsRoundTrip() throws {
        var rec = recording()
        rec.stages[0].blocks[0].window = nil  // as the recorder's budget or --blocks leaves it
        let path = tempPath("partial.safetensors")
        try RecordingWriter.write(rec, to: path)
        let back = try RecordingReader.read(path: path)
        XCTAssertNil(back.stages[0].blocks[0].window)
        XCTAssertEqual(back, rec)
        let file = try MappedFile(path: path)
        let h = try withExtendedLifetime(file) { try SafeTensors.header(file.bytes, context: path) }
        XCTAssertEqual(h.metadata["window_blocks"], #"["levels.2.blocks.1","levels.3.blocks.0","levels.3.blocks.1"]"#)
    }

    func testWriterRefusesARecordingThatDoesNotMatchItsGeometry() {
        var rec = recording()
        rec.stages[0].blocks[1].carrier = nil  // carrier maps are always recorded where carriers exist
        XCTAssertThrowsError(try RecordingWriter.write(rec, to: tempPath("bad.safetensors"))) { e in
            XCTAssertEqual(e as? RecordingFileError, .tensorMismatch(path: tempPath("bad.safetensors"),
                                                                     name: "levels.2.blocks.1.hat_attn.probs",
                                                                     reason: "is not in the recording (cannot write it)"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tempPath("bad.safetensors")))
    }
}
