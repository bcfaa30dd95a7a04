// `hatscope bench`: median forward time of the Swift engine, recording off and on.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatPipeline
import HatRecording
import HatSystem

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the forward pass (median of --repeat runs) of one image or a batch, with and without the attention recorder.",
        discussion: """
        Input: a checkpoint (--checkpoint; variant inferred or given with --model/--config) and \
        optionally an input (--input / --image: .npy or .safetensors [N, 3, H, W], or a PNG/JPEG \
        preprocessed with the model's eval transform; - for standard input). Without --input fixed \
        pseudo-random normal inputs at the model's resolution are used. --batch N runs N images as \
        one batch (an input holding one image is repeated N times; one holding N images is used as is).
        Output (stdout): `forward_ms: <median>` (no recorder) and `forward_record_ms: <median>` \
        (every attention map recorded, one recording per image), each the time of the whole \
        batch, then the same per image and in images/s, plus the thread count and load time; \
        then where the time goes: the matrix products of one forward (GFLOP and sgemm calls per \
        image, CPU time inside them), the best-case sgemm rate of the kernels in use on the \
        model's own path, and the floor that rate puts under the forward (sgemm_limit_ms_per_image).
        Interventions (--cut-global levels.2 ...) apply to every image: the time of a forward \
        with them.
        Compare with PyTorch on the same checkpoint and input (runs this command too and prints \
        the ratios): tools/bench_torch.py --model M --checkpoint C --input X.npy --hatscope <this binary>.

        Example:
          hatscope bench --checkpoint fastervit_0_224_1k.pth.tar --input x.npy --repeat 20
          hatscope bench --checkpoint fastervit_0_224_1k.pth.tar --batch 16
        """)

    @OptionGroup var source: ModelOptions

    @OptionGroup var input: InputOption

    @OptionGroup(title: "Interventions (applied to every image; repeatable)") var interventions: InterventionOptions

    @Option(help: "Timed runs per mode (median reported).")
    var `repeat`: Int = 10

    @Option(help: "Untimed warm-up runs per mode.")
    var warmup: Int = 2

    @Option(help: "Images per forward pass (one batch; default: as many as --input holds, else 1).")
    var batch: Int?

    func run() throws {
        guard `repeat` >= 1, `repeat` <= 100_000, warmup >= 0, warmup <= 100_000 else {
            throw CLIError("--repeat must be 1-100000 and --warmup 0-100000")
        }
        if let batch, !(1...Self.maxBatch).contains(batch) { throw CLIError("--batch must be 1-\(Self.maxBatch) (got \(batch))") }
        let t0 = DispatchTime.now()
        let file = try input.inputs.isEmpty ? nil : NetworkInputReader.open(try input.path())
        let run = try source.run(inputResolution: file?.resolution)
        let config = run.config
        let model = run.net
        let loadMs = ms(since: t0)
        let images = batch ?? file?.images ?? 1
        let given = try file?.batch(for: config).tensor
        if let given, let file, given.shape[0] != 1, given.shape[0] != images {
            throw CLIError("\(UserMessage.name(file.path == "-" ? "standard input" : file.path)) holds \(given.shape[0]) images; --batch \(images) needs 1 (repeated) or \(images)")
        }
        let size = given.map { [$0.shape[2], $0.shape[3]] } ?? config.resolution
        try MemoryEstimate.check(config, height: size[0], width: size[1], recording: true, images: images)
        let x = given.map { Self.repeated($0, images) } ?? PseudoRandomInput.make(config: config, images: images)
        try model.validate(input: x)
        let edits = try interventions.resolve(config: config, height: x.shape[2], width: x.shape[3])
        func median(_ v: [Double]) -> Double {
            let r = v.sorted()
            return r.count % 2 == 1 ? r[r.count / 2] : (r[r.count / 2 - 1] + r[r.count / 2]) / 2
        }
        // Wall time per forward, and CPU time of the whole process per forward (all threads;
        // a steadier figure on a busy machine).
        func time(_ record: Bool) throws -> (wall: Double, cpu: Double) {
            for _ in 0..<warmup { _ = try model.forward(x, recorder: record ? AttentionRecorder() : nil, interventions: edits) }
            var runs: [Double] = [], cpu: [Double] = []
            for _ in 0..<`repeat` {
                let s = DispatchTime.now(), c = processCPUms()
                let rec = record ? AttentionRecorder() : nil
                _ = try model.forward(x, recorder: rec, interventions: edits)
                if let rec { _ = try rec.recordings() }
                runs.append(ms(since: s))
                cpu.append(processCPUms() - c)
            }
            return (median(runs), median(cpu))
        }
        let (plain, plainCPU) = try time(false)
        let (recorded, recordedCPU) = try time(true)
        // One more forward with recording, its products counted, and the sgemm rate they could
        // run at: where the time goes, and the floor under it.
        let counted = try ProductAccount.measure {
            let rec = AttentionRecorder()
            _ = try model.forward(x, recorder: rec, interventions: edits)
            _ = try rec.recordings()
        }.account
        let rate = SgemmRate.measure()
        print("model: \(config.name) input: \(describe(shape: x.shape)) threads: \(Parallel.cores) (OpenBLAS \(BLAS.coreName) kernels, \(BLAS.threads) thread per product, products split over the cores)")
        if !edits.isEmpty { print("interventions: " + edits.map(\.description).joined(separator: " ")) }
        print(String(format: "load_ms: %.1f", loadMs))
        print(String(format: "forward_ms: %.2f", plain))
        print(String(format: "forward_record_ms: %.2f", recorded))
        print(String(format: "cpu_ms_per_forward: %.1f (recording off) %.1f (on)", plainCPU, recordedCPU))
        let n = Double(images)
        print(String(format: "per_image_ms: %.2f (recording off) %.2f (on)", plain / n, recorded / n))
        print(String(format: "images_per_s: %.2f (recording off) %.2f (on)", 1000 * n / plain, 1000 * n / recorded))
        let gflop = Double(counted.flops) / 1e9 / n
        print(String(format: "products_gflop_per_image: %.3f (%d sgemm calls per image, counted in one forward with recording; Winograd convolutions count their transformed products)",
                     gflop, counted.products / images))
        print(String(format: "products_cpu_ms_per_image: %.1f of %.1f cpu ms per image with recording (the rest: data layout and Winograd transforms, norms, softmax, recording, waits between parallel parts)",
                     Double(counted.nanoseconds) / 1e6 / n, recordedCPU / n))
        print(String(format: "sgemm_gflops: %.1f (best of 5 products of 1024 x 1024 x 1024 split over the %d cores as the model splits its own)",
                     rate, Parallel.cores))
        print(String(format: "sgemm_limit_ms_per_image: %.2f (the products alone, all at that best-case rate: a floor under the forward with these kernels)",
                     gflop / rate * 1000))
    }

    /// Largest --batch (the memory check refuses what does not fit long before).
    static let maxBatch = 4096

    /// `t` [1, 3, H, W] repeated into [images, 3, H, W]; a tensor already holding `images` as is.
    private static func repeated(_ t: Tensor, _ images: Int) -> Tensor {
        guard t.shape[0] != images else { return t }
        var data: [Float] = []
        data.reserveCapacity(images * t.count)
        for _ in 0..<images { data.append(contentsOf: t.data) }
        return Tensor(shape: [images] + t.shape.dropFirst(), data: data)
    }

    private func processCPUms() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    private func ms(since t: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6
    }
}
