// `hatscope explore` (the default subcommand): load the model and image, run the model once with
// the attention recorder, then open the terminal explorer. Everything that can fail runs before
// the screen is taken over, so failures are one line on stderr and exit 1.
import ArgumentParser
import Foundation
import HatCore
import HatImaging
import HatModel
import HatTUI
import HatViews

struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Explore FasterViT's hierarchical attention in the terminal (the default command).",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and an image (--image, PNG or JPEG, default the demo image). The model runs once; afterwards every key only redraws. Output: the interactive explorer; `e` / `E` write PNG figures (the same files as `hatscope export`) into --export-dir.

        Keys: arrows or h/j/k/l move the query token, Tab / Shift-Tab cycle views, s/S stage, b/B block, n/N head (then the mean of heads), m mean on/off, w/W window, r/R carrier token, t guided tour (T: per-head statistics), c colour map, e export view, E export all heads, ? help, q or Esc quit. Mouse: a click picks the query token, the wheel steps heads (--no-mouse turns the mouse off).

        Pictures: --graphics auto shows real pixels with the kitty graphics protocol, sixel or iTerm2 images when the terminal answers that it has them (half blocks inside tmux/screen or when unsure); kitty, sixel, iterm2 force one, blocks turns them off.

        Colours: --color auto asks the terminal (COLORTERM, then palette entry 255, XTGETTCAP, a 24-bit colour read back) and uses 24-bit, 256, 16 or 8 colours; a value forces a tier; NO_COLOR is honoured.

        Needs a terminal; to write figures without one use `hatscope export`.

        Examples:
          hatscope
          hatscope explore --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg
          hatscope explore --image dog.png --color 256 --export-dir figs
        """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Image to explore (PNG or JPEG); default: the demo image.")
    var image: String?

    @Option(help: "Colours: auto, truecolor, 256, 16, 8 or mono.")
    var color: String = "auto"

    @Option(help: "Pictures: auto, kitty, sixel, iterm2 or blocks (half blocks).")
    var graphics: String = "auto"

    @Flag(help: "Do not use the mouse.")
    var noMouse = false

    @Option(help: "Folder for PNG figures written with e / E.")
    var exportDir: String = "."

    @Option(help: "Initial colour map: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    @Flag(help: .hidden) var synthetic = false
    @Flag(help: .hidden) var benchRender = false
    @Option(help: .hidden) var printFrame: String?
    @Flag(help: .hidden) var timeStartup = false
    @Option(help: .hidden) var framePng: String?
    @Option(help: .hidden) var keys: String = ""
    @Flag(help: .hidden) var detect = false

    func validate() throws {
        guard ["auto", "truecolor", "256", "16", "8", "mono"].contains(color.lowercased()) else {
            throw ValidationError("--color must be auto, truecolor, 256, 16, 8 or mono (got \(color))")
        }
        guard GraphicsProtocol(rawValue: graphics.lowercased()) != nil || graphics.lowercased() == "auto" else {
            throw ValidationError("--graphics must be auto, kitty, sixel, iterm2 or blocks (got \(graphics))")
        }
        guard Colormap(rawValue: colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let start = DispatchTime.now()
        let interactive = printFrame == nil && !benchRender
        if interactive && !Terminal.isInteractive {
            fail(CLIError("explore needs a terminal (stdin and stdout must be a TTY); to write figures without one use `hatscope export`"))
        }
        var isDir: ObjCBool = false
        if interactive && !(FileManager.default.fileExists(atPath: exportDir, isDirectory: &isDir) && isDir.boolValue) {
            fail(CLIError("--export-dir \(exportDir): no such folder"))
        }
        if detect {
            // What the terminal answered and what was decided, without taking the screen.
            // Report on stderr: stdout is the terminal being asked.
            let setup = DisplaySetup.probe(TerminalOptions(color: color, mouse: false, graphics: graphics.lowercased()))
            FileHandle.standardError.write(Data((setup.report + "\n").utf8))
            return
        }
        let context: ExplorerContext
        do { context = try loadContext() } catch { fail(error) }
        let options = ExplorerOptions(terminal: TerminalOptions(color: color, mouse: !noMouse, graphics: graphics.lowercased()),
                                      exportDirectory: exportDir, colormap: colormap)
        let explorer = Explorer(context: context, options: options)
        if let spec = printFrame {
            let parts = spec.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2 else { fail(CLIError("--print-frame wants WIDTHxHEIGHT")) }
            let tier = ColorTier(rawValue: color == "auto" ? "truecolor" : color.lowercased()) ?? .truecolor
            // --keys: characters fed to the key handler first (debugging, docs).
            var state = explorer.initialState(width: parts[0], height: parts[1])
            for ch in keys {
                let key: Key = ch == ">" ? .tab : ch == "<" ? .backTab : .char(ch)
                state = KeyHandling.handle(state, key).0
            }
            let f = explorer.frame(state, tier: tier)
            if let png = framePng {
                do { try ImageIO.writePNG(f.buffer.image(), to: png) } catch { fail(error) }
            }
            print(f.buffer.text, terminator: "")
            return
        }
        if benchRender {
            // Results on stderr so stdout can stay the terminal being measured.
            do {
                let text = try RenderBenchmark.run(explorer: explorer, onTerminal: Terminal.isInteractive, options: options)
                FileHandle.standardError.write(Data((text + "\n").utf8))
            } catch { fail(error) }
            return
        }
        do {
            if timeStartup {
                // Startup to first frame: leave at once and say how long it took.
                var ms = 0.0
                try explorer.run(onFirstFrame: {
                    ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
                }, quitAfterFirstFrame: true)
                FileHandle.standardError.write(Data(String(format: "startup to first frame: %.1f ms\n", ms).utf8))
            } else {
                try explorer.run()
            }
        } catch {
            fail(error)
        }
    }

    /// Model + image -> one recorded forward pass (or the synthetic recording).
    func loadContext() throws -> ExplorerContext {
        if synthetic {
            // --model / --config pick the configuration whose geometry the synthetic recording takes.
            let config = try model.choice.chosen()
            return ExplorerContext(recording: SyntheticScene.recording(config: config), checkpointLabel: "synthetic (no model)",
                                   imageLabel: "drawn scene")
        }
        let loaded = try model.load()
        let net = try FasterViT(config: loaded.config, weights: loaded.weights)
        let imagePath = try image ?? DemoAssets.defaultImage
        let input = try preprocessImage(path: imagePath, config: loaded.config).tensor    // [1, 3, H, W]
        // Every block's attention is kept while it fits the recorder's budget (all official
        // variants at 224); otherwise the recorder keeps the last block per stage and says so.
        let recorder = AttentionRecorder()
        _ = try net.forward(input, recorder: recorder)
        var recording = try recorder.recording()
        // Said in the Notes panel when it matters: stored buffers that differ, or --buffers geometry.
        let audit = loaded.bufferAudit(resolution: [input.shape[2], input.shape[3]])
        if audit.forwardBuffersDiffer || loaded.buffers == .geometry { recording.notes.append(audit.summary()) }
        let isDemo = model.checkpoint == nil
        let file = (loaded.checkpointPath as NSString).lastPathComponent
        return ExplorerContext(recording: recording, modelName: loaded.config.name,
                               checkpointLabel: isDemo ? "demo (\(file))" : file,
                               imageLabel: (imagePath as NSString).lastPathComponent,
                               classNames: Predict.classNames(for: loaded))
    }
}
