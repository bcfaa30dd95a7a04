// swift-tools-version:6.0
// hatscope: FasterViT on the CPU, its hierarchical attention recorded and explored.
// Dependency direction, "A -> B" = A uses B (picture in docs/architecture.md):
//   HatModel (forward pass, recorder) -> HatCore (tensors, kernels on OpenBLAS), HatRecording
//   HatViews (views, figures, statistics) -> HatRecording, HatImaging
//   HatTUI (terminal explorer, tour) -> HatViews, HatRecording, HatImaging
//   HatRecordingFile (the recording file: writer, memory-mapped reader) -> HatRecording, HatCheckpoint
//   HatPipeline (model loading, the one input reader, runs over many inputs) -> HatModel, HatViews,
//     HatCheckpoint, HatImaging: the one library that wires the engine to the views
//   hatscope (thin executable), hatscope-dev (developer tool) -> HatPipeline, HatTUI, ...
// HatRecording (configuration, the one stage geometry, recording types) uses no other module, and
// the layers that draw never import HatModel. HatSystem (files, signals, messages) uses no other
// module. HatCheckpoint and HatImaging are file formats at the edges; each C library is wrapped by
// exactly one Swift file.
import Foundation
import PackageDescription

// The numeric targets use the build machine's vector instructions, like -march=native: with
// AVX2 and FMA present (read from /proc/cpuinfo) they compile for `haswell`, which makes the
// elementwise kernels (GELU, softmax, LayerNorm, Winograd transforms) 8 floats per instruction
// instead of 4. Results do not change: Swift never contracts a * b + c into an FMA. A binary built
// this way needs such a CPU; HATSCOPE_PORTABLE=1 (then `rm -rf .build`) builds for any x86-64.
let numericSettings: [SwiftSetting] = {
    #if arch(x86_64) && os(Linux)
    if ProcessInfo.processInfo.environment["HATSCOPE_PORTABLE"] != nil { return [] }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    let flags = Set(line.split(separator: " ").map(String.init))
    let haswell: Set<String> = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"]
    return flags.isSuperset(of: haswell) ? [.unsafeFlags(["-target-cpu", "haswell"])] : []
    #else
    return []
    #endif
}()

let package = Package(
    name: "hatscope",
    products: [
        .executable(name: "hatscope", targets: ["hatscope"]),
        .executable(name: "hatscope-dev", targets: ["hatscope-dev"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, each wrapped by exactly one Swift file.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNCursesW", path: "Sources/CNCursesW", providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CSixel", path: "Sources/CSixel", providers: [.apt(["libsixel-dev"])]),

        // Process plumbing: files written whole or into special files, inputs read once and
        // bounded, cleanup and terminal restore on signals, messages on stderr.
        .target(name: "HatSystem"),
        // Numeric core: tensors, OpenBLAS GEMM, the ops FasterViT needs.
        .target(name: "HatCore", dependencies: ["CBLAS"], swiftSettings: numericSettings),
        // torch.save (zip + legacy) and safetensors readers, safetensors writer, .npy.
        .target(name: "HatCheckpoint", dependencies: ["HatCore", "HatSystem"]),
        // Model configuration and presets, the one stage geometry, the recording types. Pure data.
        // (numericSettings: float16 <-> float32 conversion of mapped maps in hardware.)
        .target(name: "HatRecording", swiftSettings: numericSettings),
        // The recording file (docs/recording-format.md): safetensors + metadata, written and read
        // (memory-mapped, validated) without the engine.
        .target(name: "HatRecordingFile", dependencies: ["HatRecording", "HatCheckpoint"], swiftSettings: numericSettings),
        // FasterViT forward pass and the attention recorder that fills a Recording.
        .target(name: "HatModel", dependencies: ["HatCore", "HatRecording"], swiftSettings: numericSettings),
        // PNG/JPEG codecs, timm-exact preprocessing, colormaps, bitmap font.
        .target(name: "HatImaging", dependencies: ["HatCore", "HatSystem", "CPNG", "CJPEG"]),
        // Views computed from a Recording, PNG figures, export, statistics.
        .target(name: "HatViews", dependencies: ["HatRecording", "HatImaging", "HatSystem"]),
        // Terminal explorer: cell buffer, renderer, key handling, ncursesw; pictures as kitty
        // graphics, sixel (libsixel) or iTerm2 images.
        .target(name: "HatTUI", dependencies: ["HatViews", "HatRecording", "HatImaging", "HatSystem", "CNCursesW", "CSixel"]),
        // What the commands share: loading a model, reading network inputs (one reader for every
        // subcommand), runs over many inputs, the stage/block numbering, memory checks.
        .target(name: "HatPipeline", dependencies: ["HatCore", "HatCheckpoint", "HatRecording", "HatRecordingFile", "HatModel", "HatImaging",
                                                    "HatViews", "HatSystem"]),
        // The thin command-line front end.
        .executableTarget(name: "hatscope", dependencies: [
            "HatCore", "HatCheckpoint", "HatRecording", "HatModel", "HatImaging", "HatViews", "HatTUI", "HatSystem",
            "HatPipeline", "HatRecordingFile",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Developer tool (frames as text/PNG, synthetic runs, timing); not part of the user CLI.
        .executableTarget(name: "hatscope-dev", dependencies: [
            "HatCore", "HatRecording", "HatImaging", "HatViews", "HatTUI", "HatSystem", "HatPipeline", "HatRecordingFile",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "HatCoreTests", dependencies: ["HatCore"]),
        .testTarget(name: "HatSystemTests", dependencies: ["HatSystem"]),
        .testTarget(name: "HatRecordingTests", dependencies: ["HatRecording"]),
        .testTarget(name: "HatRecordingFileTests", dependencies: ["HatRecordingFile", "HatRecording", "HatCheckpoint"]),
        .testTarget(name: "HatCheckpointTests", dependencies: ["HatCheckpoint", "HatModel", "HatRecording", "HatCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HatModelTests", dependencies: ["HatModel", "HatRecording", "HatCheckpoint", "HatCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HatImagingTests", dependencies: ["HatImaging", "HatCheckpoint", "HatCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HatViewsTests", dependencies: ["HatViews", "HatRecording", "HatImaging"]),
        .testTarget(name: "HatTUITests", dependencies: ["HatTUI", "HatViews", "HatRecording", "HatImaging"]),
        .testTarget(name: "HatPipelineTests", dependencies: ["HatPipeline", "HatViews", "HatRecording", "HatSystem", "HatCore", "HatImaging"]),
        .testTarget(name: "HatscopeCLITests", dependencies: ["HatCheckpoint", "HatCore", "HatRecording", "HatRecordingFile"],
                    exclude: ["Fixtures"]),
    ]
)
