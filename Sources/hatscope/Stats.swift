// `hatscope stats`: per-head attention statistics (mean attention distance in input pixels,
// normalized entropy, share of attention on carrier tokens) for every transformer block, averaged
// over one image or a folder of images, written as stats.csv, stats.json and PNG charts.
//
// Throughput: the engine already spreads one forward pass over the cores (OpenBLAS + parallel
// loops), but its small per-window products leave cores idle. `--jobs` runs that many forward
// passes at once, each on its own thread with OpenBLAS single-threaded; `--jobs 0` (default)
// picks the number of cores when there are at least that many images (see README for timings).
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatImaging
import HatModel
import HatRecording
import HatViews

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-head attention statistics (distance, entropy, carrier share) over one image or a folder.",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and images: --image \
        (repeatable) and/or --images DIR (every .png/.jpg/.jpeg in it, sorted by name), each \
        preprocessed like timm's eval transform; or ready network inputs --input X.npy \
        (or a .safetensors file holding a tensor named "input").

        Output, in --out (created if missing): stats.csv (one row per attention, stage, block and \
        head), stats.json (the same with the definitions and stage shapes), and PNG charts: \
        scatter_distance.png / scatter_entropy.png (x = block, one dot per head; window attention \
        blue, carrier attention orange) and heatmap_<attention>_<number>.png (blocks x heads).

        Definitions: the mean distance is, per query, the sum over keys of probability times the \
        distance in input pixels between the query's and the key's centre (grid tokens at the \
        centre of their cell, carrier tokens at the centre of their pooling box), averaged over \
        the queries. Queries are the real (unpadded) tokens of every window; carrier rows of the \
        window attention are not counted (they have their own series, the carrier attention). \
        Keys include padded tokens, which the model attends to. Normalized entropy divides by \
        ln(number of keys). Averages pool every query of every image.

        Examples:
          hatscope stats --image cat.jpg --out stats
          hatscope stats --checkpoint fastervit_0.pth.tar --images photos/ --out st
          hatscope stats --images photos/ --out stats --jobs 1 --scale 3
        """)

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("image"), help: "Image file (PNG or JPEG); repeatable.")
    var images: [String] = []

    @Option(name: .customLong("images"), help: "Folder of images (.png, .jpg, .jpeg; not recursive).")
    var folder: String?

    @Option(name: .customLong("input"), help: "Network input [1,3,H,W] float32 as .npy (or .safetensors holding \"input\"), fed as is; repeatable.")
    var inputs: [String] = []

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Forward passes run at once: 0 = automatic (one per core when there are enough images), 1 = one at a time.")
    var jobs: Int = 0

    @Option(help: "Integer enlargement of the PNG charts (1-8).")
    var scale: Int = 2

    @Option(help: "Colour map of the heatmaps: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    @Flag(help: "Print the time spent in forward passes and statistics to stderr.")
    var timing = false

    func validate() throws {
        if images.isEmpty && folder == nil && inputs.isEmpty {
            throw ValidationError("give --image FILE, --images DIR or --input X.npy")
        }
        guard jobs >= 0 && jobs <= 64 else { throw ValidationError("--jobs must be 0-64 (got \(jobs))") }
        guard (1 ... 8).contains(scale) else { throw ValidationError("--scale must be 1-8 (got \(scale))") }
        guard Colormap(rawValue: colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        do { try compute() } catch { fail(error) }
    }

    /// Every image path: --image in order, then the folder's images sorted by name.
    func imagePaths() throws -> [String] {
        var paths = images + inputs
        for p in paths where !FileManager.default.isReadableFile(atPath: p) {
            throw CLIError("\(p): no such file or not readable")
        }
        if let dir = folder {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("--images \(dir): no such folder")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            let found = names.filter { n in
                let l = n.lowercased()
                return !n.hasPrefix(".") && (l.hasSuffix(".png") || l.hasSuffix(".jpg") || l.hasSuffix(".jpeg"))
            }
            if found.isEmpty { throw CLIError("--images \(dir): no .png, .jpg or .jpeg files in it") }
            paths += found.map { (dir as NSString).appendingPathComponent($0) }
        }
        return paths
    }

    private func compute() throws {
        let paths = try imagePaths()
        try StatsOutput.prepareFolder(out)
        let loaded = try model.load()
        let net = try FasterViT(config: loaded.config, weights: loaded.weights)
        let workers = jobs > 0 ? min(jobs, paths.count) : (paths.count >= Parallel.cores ? Parallel.cores : 1)
        let bar = isatty(STDERR_FILENO) != 0 ? StatsProgress(total: paths.count) : nil
        let t0 = Date()
        let run = try StatsRunner.run(net: net, paths: paths, workers: workers) { done, name in
            bar?.update(done, name)
        }
        bar?.finish()
        guard let stats = run.accumulator.statistics else { throw StatisticsError.empty }
        let total = Date().timeIntervalSince(t0)

        let t1 = Date()
        let charts = StatsCharts.all(stats, colormap: Colormap(rawValue: colormap) ?? .default, scale: scale)
        try StatsOutput.write(Array(stats.csv().utf8), to: (out as NSString).appendingPathComponent("stats.csv"))
        try StatsOutput.write(Array(try stats.json()), to: (out as NSString).appendingPathComponent("stats.json"))
        for (name, image) in charts {
            try ImageIO.writePNG(image, to: (out as NSString).appendingPathComponent(name))
        }
        let writeMs = Date().timeIntervalSince(t1) * 1000

        for line in stats.textSummary() { print(line) }
        for m in stats.missing { print("  missing: \(m)") }
        print("wrote stats.csv, stats.json and \(charts.count) charts to \(out)")
        if timing {
            let perImage = total / Double(paths.count) * 1000
            FileHandle.standardError.write(Data(String(
                format: "timing: %d image(s), %d job(s): %.0f ms total, %.0f ms per image (forward %.0f ms, statistics %.0f ms summed over jobs), writing %.0f ms\n",
                paths.count, workers, total * 1000, perImage, run.forwardSeconds * 1000, run.statsSeconds * 1000, writeMs).utf8))
        }
    }
}

/// Runs the forward passes (one per image) on `workers` threads and sums the statistics.
enum StatsRunner {
    struct Result {
        var accumulator: HeadStatisticsAccumulator
        var forwardSeconds: Double
        var statsSeconds: Double
    }

    /// One image: preprocess, forward with the recorder, statistics into `acc`.
    static func process(_ path: String, net: FasterViT, into acc: inout HeadStatisticsAccumulator,
                        forward: inout Double, stats: inout Double) throws {
        let tensor = try EngineInput.single(networkInput(path, config: net.config), from: path)
        // Every block is needed; the recorder's memory budget still applies (huge inputs keep
        // fewer blocks and the missing ones are listed).
        let recorder = AttentionRecorder(options: RecorderOptions(blocks: nil, maxAttentionBytes: 1 << 30))
        let t0 = Date()
        _ = try net.forward(tensor, recorder: recorder)
        let recording = try recorder.recording()
        let t1 = Date()
        do { try acc.add(recording) } catch { throw CLIError("\(path): \(error)") }
        forward += t1.timeIntervalSince(t0)
        stats += Date().timeIntervalSince(t1)
    }

    /// A ready input (.npy, or .safetensors holding "input") fed as is, else an image through the
    /// model's eval transform.
    static func networkInput(_ path: String, config: ModelConfig) throws -> Tensor {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return try NPY.read(path: path) }
        if lower.hasSuffix(".safetensors") {
            guard let t = try SafeTensors.read(path: path)["input"] else {
                throw CLIError("\(path): no tensor named \"input\" in it")
            }
            return t
        }
        return try preprocessImage(path: path, config: config).tensor
    }

    static func run(net: FasterViT, paths: [String], workers: Int,
                    progress: @escaping @Sendable (Int, String) -> Void) throws -> Result {
        if workers <= 1 {
            var acc = HeadStatisticsAccumulator()
            var f = 0.0, s = 0.0
            for (i, p) in paths.enumerated() {
                try process(p, net: net, into: &acc, forward: &f, stats: &s)
                progress(i + 1, p)
            }
            return Result(accumulator: acc, forwardSeconds: f, statsSeconds: s)
        }
        // Parallel forwards: each thread owns an accumulator; a lock hands out image indices.
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0, done = 0
            var failure: Error?
            var results: [Result] = []
        }
        let shared = Shared()
        let previous = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(previous) }
        let group = DispatchGroup()
        for _ in 0 ..< workers {
            group.enter()
            Thread {
                var acc = HeadStatisticsAccumulator()
                var f = 0.0, s = 0.0
                while true {
                    shared.lock.lock()
                    let i = shared.next
                    let stop = i >= paths.count || shared.failure != nil
                    shared.next += 1
                    shared.lock.unlock()
                    if stop { break }
                    do {
                        try process(paths[i], net: net, into: &acc, forward: &f, stats: &s)
                    } catch {
                        shared.lock.lock(); if shared.failure == nil { shared.failure = error }; shared.lock.unlock()
                        break
                    }
                    shared.lock.lock(); shared.done += 1; let d = shared.done; shared.lock.unlock()
                    progress(d, paths[i])
                }
                shared.lock.lock(); shared.results.append(Result(accumulator: acc, forwardSeconds: f, statsSeconds: s)); shared.lock.unlock()
                group.leave()
            }.start()
        }
        group.wait()
        if let e = shared.failure { throw e }
        var total = Result(accumulator: HeadStatisticsAccumulator(), forwardSeconds: 0, statsSeconds: 0)
        for r in shared.results {
            try total.accumulator.merge(r.accumulator)
            total.forwardSeconds += r.forwardSeconds
            total.statsSeconds += r.statsSeconds
        }
        return total
    }
}

/// Files of the stats command.
enum StatsOutput {
    static func prepareFolder(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw CLIError("--out \(dir) exists and is not a folder") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CLIError("--out \(dir): cannot create the folder (\(error.localizedDescription))")
        }
    }

    /// Temp name in the same folder, then rename: never a half-written file.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let f = try AtomicFile(path: path)
        do { try f.write(bytes); try f.commit() } catch { f.discard(); throw error }
    }
}

/// "stats [=======>      ] 12/40 cat.jpg" on stderr, redrawn in place.
final class StatsProgress: @unchecked Sendable {
    let total: Int
    private let lock = NSLock()
    init(total: Int) { self.total = total }

    func update(_ done: Int, _ name: String) {
        lock.lock(); defer { lock.unlock() }
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let file = (name as NSString).lastPathComponent
        let line = "\rstats [\(bar)] \(done)/\(total) \(file.prefix(40))\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
