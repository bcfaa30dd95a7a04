// `hatscope tour`: run the model once on an image, then walk through its forward pass one screen
// per step (TourGuide in HatViews: patch embedding, conv stages, carrier tokens, carrier and
// window attention, one block in order, crossing windows, propagation, the last stage, the
// prediction, every head at once), every number taken from the model and this run. Everything that
// can fail runs before the screen is taken over.
import ArgumentParser
import Foundation
import HatCore
import HatImaging
import HatModel
import HatTUI
import HatViews

struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour",
        abstract: "A guided tour of FasterViT's hierarchical attention on your image, step by step.",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and an image \
        (--image, PNG or JPEG, default the demo image), or a recording file (--recording; the \
        model does not run). The model runs once; each of the \
        \(TourStepKind.allCases.count) screens then explains one part of the forward pass with the \
        shapes and numbers of the loaded model and this run, highlights it on the picture and says \
        which explorer keys show it; the last one plots how far every head looks (per-head mean \
        attention distance, as `hatscope stats` computes it). Parts the loaded variant does not \
        have (no carrier tokens in the 21k models, no propagation in faster_vit_0/1/2) say why.

        Keys: Space, Enter or the right arrow: next step; Backspace or the left arrow: previous; \
        g / G: first / last step; q or Esc: leave. `t` in the explorer opens the same tour, `T` \
        its last screen.

        Pictures and colours: --graphics and --color as for explore.

        Needs a terminal.

        Examples:
          hatscope tour
          hatscope tour --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg
          hatscope tour --image dog.png --step 3 --color 256
          hatscope tour --recording rec.safetensors
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var recording: RecordingOptions

    @Option(help: "Image (PNG or JPEG); default: the demo image.")
    var image: String?

    @Option(help: "Step to start at (1-\(TourStepKind.allCases.count)).")
    var step: Int = 1

    @Option(help: "Colours: auto, truecolor, 256, 16, 8 or mono.")
    var color: String = "auto"

    @Option(help: "Pictures: auto, kitty, sixel, iterm2 or blocks (half blocks).")
    var graphics: String = "auto"

    @Flag(help: "Do not use the mouse.")
    var noMouse = false

    @Flag(help: .hidden) var synthetic = false
    @Option(help: .hidden) var printFrame: String?
    @Option(help: .hidden) var framePng: String?

    func validate() throws {
        guard (1 ... TourStepKind.allCases.count).contains(step) else {
            throw ValidationError("--step must be 1-\(TourStepKind.allCases.count) (got \(step))")
        }
        guard ["auto", "truecolor", "256", "16", "8", "mono"].contains(color.lowercased()) else {
            throw ValidationError("--color must be auto, truecolor, 256, 16, 8 or mono (got \(color))")
        }
        guard GraphicsProtocol(rawValue: graphics.lowercased()) != nil || graphics.lowercased() == "auto" else {
            throw ValidationError("--graphics must be auto, kitty, sixel, iterm2 or blocks (got \(graphics))")
        }
    }

    func run() throws {
        if printFrame == nil && !Terminal.isInteractive {
            fail(CLIError("tour needs a terminal (stdin and stdout must be a TTY)"))
        }
        let context: ExplorerContext
        do { context = try loadContext() } catch { fail(error) }
        let screen = TourScreen(context: context)
        if let spec = printFrame {
            // Debugging and docs: print one step's frame as text.
            let parts = spec.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2 else { fail(CLIError("--print-frame wants WIDTHxHEIGHT")) }
            let tier = ColorTier(rawValue: color == "auto" ? "truecolor" : color.lowercased()) ?? .truecolor
            let state = TourState(count: screen.stepCount, index: step - 1, screenWidth: parts[0], screenHeight: parts[1])
            let buffer = screen.frame(state, tier: tier)
            if let png = framePng {
                do { try ImageIO.writePNG(buffer.image(), to: png) } catch { fail(error) }
            }
            print(buffer.text, terminator: "")
            return
        }
        do {
            try screen.run(options: TerminalOptions(color: color, mouse: !noMouse, graphics: graphics.lowercased()), start: step - 1)
        } catch {
            fail(error)
        }
    }

    /// Model + image -> one recorded forward pass, with the class names that fit the model.
    func loadContext() throws -> ExplorerContext {
        if recording.isGiven {
            try recording.checkAlone(model.givenOptions + [("--image", image != nil), ("--synthetic", synthetic)])
            let (path, rec) = try recording.single(for: "tour")
            return ExplorerContext(recording: rec, fileLabel: (path as NSString).lastPathComponent)
        }
        if synthetic {
            return ExplorerContext(recording: SyntheticScene.recording(), checkpointLabel: "synthetic (no model)")
        }
        let loaded = try model.load()
        loaded.digest.start()  // the manifest / header shows the hash: hash while the model runs
        let net = try FasterViT(config: loaded.config, weights: loaded.weights)
        let path = try image ?? DemoAssets.defaultImage
        let tensor = try preprocessImage(path: path, config: loaded.config).tensor
        // Every block is kept for the statistics step (the recorder's memory budget keeps only
        // the last blocks of huge inputs; the step then says how many are missing).
        let recorder = AttentionRecorder()
        _ = try net.forward(tensor, recorder: recorder)
        let recording = try recorder.recording()
        let names: [String]
        if model.checkpoint == nil {
            names = (try? DemoAssets.classNames) ?? []
        } else {
            names = DemoAssets.classNames(forCheckpoint: loaded.checkpointPath, count: recording.logits.count) ?? []
        }
        let label = model.checkpoint == nil ? "demo checkpoint"
            : (loaded.checkpointPath as NSString).lastPathComponent + " (sha256 " + String(loaded.checkpointSHA256.prefix(12)) + ")"
        return ExplorerContext(recording: recording, modelName: loaded.config.name, checkpointLabel: label, classNames: names)
    }
}
