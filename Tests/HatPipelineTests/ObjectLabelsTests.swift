// Sidecar object boxes of the pointing game: both object forms, mapping through preprocessing, refusals.
import XCTest
import HatCore
import HatRecording
import HatViews
import HatImaging
@testable import HatPipeline

final class ObjectLabelsTests: XCTestCase {
    func testSidecarBoxesAreReadAndMappedThroughPreprocessing() throws {
        let dir = NSTemporaryDirectory() + "hatscope-labels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertNil(try ObjectLabels.read(folder: dir))
        try Data("""
            {"classes": ["x"], "images": {"a.png": {"label": 0, "objects": [{"x": 100, "y": 50, "r": 10, "shape": "circle"},
             {"box": [30, 40, 10, 20]}]}, "b.png": {"objects": []}}}
            """.utf8).write(to: URL(fileURLWithPath: dir + "/labels.json"))
        let labels = try XCTUnwrap(ObjectLabels.read(folder: dir))
        XCTAssertEqual(labels.boxes["a.png"], [ObjectBox(x0: 90, y0: 40, x1: 110, y1: 60), ObjectBox(x0: 10, y0: 20, x1: 30, y1: 40)])
        // A tensor input: boxes are in network pixels already.
        let x = NetworkInput(path: "a.npy", kind: .npy, tensor: Tensor(zeros: [1, 3, 32, 32]), preprocessed: nil)
        XCTAssertEqual(labels.boxes(for: "a.png", input: x)?.count, 2)
        XCTAssertNil(labels.boxes(for: "b.png", input: x), "no boxes: no pointing trial")
        // A 448 x 448 photo through the demo's transform (crop_pct 1: resized to 224, no crop): halved.
        let demo = ModelConfig.preset(named: "faster_vit_0_224").map { c -> ModelConfig in var d = c; d.cropPct = 1; return d }!
        let photo = try NetworkInputFile(path: "a.png", content: .image(RGBImage(width: 448, height: 448, fill: (9, 9, 9)))).input(for: demo)
        XCTAssertEqual(labels.boxes(for: "a.png", input: photo)?.first, ObjectBox(x0: 45, y0: 20, x1: 55, y1: 30))
        try Data("{\"images\": 3}".utf8).write(to: URL(fileURLWithPath: dir + "/labels.json"))
        XCTAssertThrowsError(try ObjectLabels.read(folder: dir)) { e in XCTAssertTrue("\(e)".contains("not a labels file"), "\(e)") }
    }

    /// labels.json that is a FIFO nobody writes to, a device or not JSON is refused at once
    /// instead of blocking the run or being read to a size limit.
    func testASidecarThatIsNotARegularJSONFileIsRefusedAtOnce() throws {
        let dir = NSTemporaryDirectory() + "hatscope-labels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/fifo", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/zero", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(mkfifo(dir + "/fifo/labels.json", 0o644), 0)
        try FileManager.default.createSymbolicLink(atPath: dir + "/zero/labels.json", withDestinationPath: "/dev/zero")

        let done = DispatchSemaphore(value: 0)
        let message = LockedBox<String>()
        Thread {
            do { _ = try ObjectLabels.read(folder: dir + "/fifo"); message.value = "read" } catch { message.value = "\(error)" }
            done.signal()
        }.start()
        if done.wait(timeout: .now() + 10) == .timedOut {
            // Unblock the reader (a writer that opens and closes gives it the end of the file).
            let fd = open(dir + "/fifo/labels.json", O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
            done.wait()
            XCTFail("reading a FIFO labels.json waited for a writer")
        }
        XCTAssertTrue((message.value ?? "").contains("not a regular file (a FIFO)"), message.value ?? "")

        XCTAssertThrowsError(try ObjectLabels.read(folder: dir + "/zero")) { e in
            XCTAssertTrue("\(e)".contains("not a regular file (a character device)"), "\(e)")
        }
        // A regular file that is not JSON is refused at its first bytes.
        try Data([0x89, 0x50, 0x4E, 0x47] + [UInt8](repeating: 0, count: 1 << 20)).write(to: URL(fileURLWithPath: dir + "/zero/other.json"))
        try FileManager.default.removeItem(atPath: dir + "/zero/labels.json")
        try FileManager.default.moveItem(atPath: dir + "/zero/other.json", toPath: dir + "/zero/labels.json")
        XCTAssertThrowsError(try ObjectLabels.read(folder: dir + "/zero")) { e in
            XCTAssertTrue("\(e)".contains("not a hatscope labels file (not a JSON object)"), "\(e)")
        }
    }
}

/// A value written by one thread and read by another.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
