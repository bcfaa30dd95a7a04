// `hatscope bench`: median forward time of the Swift engine, recording off and on.
import ArgumentParser
import Foundation
import HatCheckpoint
import HatCore
import HatModel
import HatPipeline
import HatSystem

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the forward pass (median of --repeat runs), with and without the attention recorder.",
        discussion: """
        Input: a checkpoint (--checkpoint; variant inferred or given with --model/--config) and \
        optionally an input (--input / --image: .npy or .safetensors [1, 3, H, W], or a PNG/JPEG \
        preprocessed with the model's eval transform; - for standard input). Without --input a fixed pseudo-random \
        normal input at the model's resolution is used.
        Output (stdout): `forward_ms: <median>` (no recorder) and `forward_record_ms: <median>` \
        (every attention map recorded), plus the thread count and load time.
        Compare with PyTorch on the same checkpoint and input (runs this command too and prints \
        the ratios): tools/bench_torch.py --model M --checkpoint C --input X.npy --hatscope <this binary>.

        Example:
          hatscope bench --checkpoint fastervit_0_224_1k.pth.tar --input x.npy --repeat 20
        """)

    @OptionGroup var source: ModelOptions

    @OptionGroup var input: InputOption

    @Option(help: "Timed runs per mode (median reported).")
    var `repeat`: Int = 10

    @Option(help: "Untimed warm-up runs per mode.")
    var warmup: Int = 2

    func run() throws {
        guard `repeat` >= 1, `repeat` <= 100_000, warmup >= 0, warmup <= 100_000 else {
            throw CLIError("--repeat must be 1-100000 and --warmup 0-100000")
        }
        let t0 = DispatchTime.now()
        let file = try input.inputs.isEmpty ? nil : NetworkInputReader.open(try input.path())
        let run = try source.run(inputResolution: file?.resolution)
        let config = run.config
        let model = run.net
        let loadMs = ms(since: t0)
        let x = try file?.input(for: config).tensor ?? PseudoRandomInput.make(config: config)
        try model.validate(input: x)
        try MemoryEstimate.check(config, height: x.shape[2], width: x.shape[3], recording: true)
        func median(_ v: [Double]) -> Double {
            let r = v.sorted()
            return r.count % 2 == 1 ? r[r.count / 2] : (r[r.count / 2 - 1] + r[r.count / 2]) / 2
        }
        // Wall time per forward, and CPU time of the whole process per forward (all threads;
        // a steadier figure on a busy machine).
        func time(_ record: Bool) throws -> (wall: Double, cpu: Double) {
            for _ in 0..<warmup { _ = try model.forward(x, recorder: record ? AttentionRecorder() : nil) }
            var runs: [Double] = [], cpu: [Double] = []
            for _ in 0..<`repeat` {
                let s = DispatchTime.now(), c = processCPUms()
                let rec = record ? AttentionRecorder() : nil
                _ = try model.forward(x, recorder: rec)
                if let rec { _ = try rec.recording() }
                runs.append(ms(since: s))
                cpu.append(processCPUms() - c)
            }
            return (median(runs), median(cpu))
        }
        let (plain, plainCPU) = try time(false)
        let (recorded, recordedCPU) = try time(true)
        print("model: \(config.name) input: \(describe(shape: x.shape)) threads: \(Parallel.cores) (OpenBLAS \(BLAS.coreName) kernels, \(BLAS.threads) thread per product, products split over the cores)")
        print(String(format: "load_ms: %.1f", loadMs))
        print(String(format: "forward_ms: %.2f", plain))
        print(String(format: "forward_record_ms: %.2f", recorded))
        print(String(format: "cpu_ms_per_forward: %.1f (recording off) %.1f (on)", plainCPU, recordedCPU))
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
