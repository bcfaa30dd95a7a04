// `hatscope explore` (the default subcommand): load the model and image, run the model once with
// the attention recorder, then open the terminal explorer. Everything that can fail runs before
// the screen is taken over, so failures are one line on stderr and exit 1.
import ArgumentParser
import HatImaging
import HatTUI

struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Explore FasterViT's hierarchical attention in the terminal (the default command).",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and an image (--image / --input: PNG or JPEG, or a .npy / safetensors tensor [1, 3, H, W], - for standard input; default the demo image), or a recording file (--recording, from `hatscope record` or tools/record_torch.py; the model does not run). The model runs once; afterwards keys redraw, and interventions run it again in the background. Output: the interactive explorer; `e` / `E` write PNG figures (the same files as `hatscope export`) into --export-dir.

        Keys: arrows or h/j/k/l move the query token, Tab / Shift-Tab cycle views, s/S stage, b/B block, n/N head (then the mean of heads), m mean on/off, w/W window, r/R carrier token, t guided tour (T: per-head statistics), c colour map, e export view, E export all heads, ? help, q, Esc or Ctrl-C quit; every other key is ignored. Mouse: a click picks the query token, the wheel steps heads (--no-mouse turns the mouse off).

        Live interventions (not with --recording): o occlusion painting (arrows or the mouse move the brush, Space or a click / drag occludes, [ ] brush size: token, 2x2, window), x switches the current head of the current block off / on, K cycles the carrier cuts of the current stage (cut carriers, cut global, no propagation, none), u undo, U remove all, d difference view (after minus before, diverging colours; e exports it). The model runs again in the background; the side panel shows the prediction before -> after and the active interventions, a marker says when the picture is stale. Intervention options given on the command line (--cut-global levels.2 ...) are the first live ones.

        Pictures: --graphics auto shows real pixels with the kitty graphics protocol, sixel or iTerm2 images when the terminal answers that it has them (half blocks inside tmux/screen or when unsure); kitty, sixel, iterm2 force one, blocks turns them off.

        Colours: --color auto asks the terminal (COLORTERM, then palette entry 255, XTGETTCAP, a 24-bit colour read back) and uses 24-bit, 256, 16 or 8 colours; a value forces a tier; NO_COLOR is honoured.

        Needs a terminal; to write figures without one use `hatscope export`.

        Examples:
          hatscope
          hatscope explore --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg
          hatscope explore --image dog.png --color 256 --export-dir figs
          hatscope explore --recording rec.safetensors
          hatscope explore --image assets/demo/images/demo_00.png --cut-global levels.2
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup var recording: RecordingOptions
    @OptionGroup(title: InterventionOptions.title) var interventions: InterventionOptions

    @OptionGroup var screen: ScreenOptions

    @Option(help: "Folder for PNG figures written with e / E (created at the first export).")
    var exportDir: String = "."

    @Option(help: "Initial colour map: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.default.rawValue

    func validate() throws {
        guard Colormap.named(colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let start = try ScreenStart(command: "explore", alternative: "to write figures without one use `hatscope export`",
                                    model: model, input: input, recording: recording, interventions: interventions)
        // The explorer starts on the plain run ("before"); the command line's interventions are
        // its first live ones, already run.
        let context = start.context { run in
            ExplorerContext(recording: run.plain ?? run.recording, modelName: run.modelName,
                            checkpointLabel: run.checkpointLabel, imageLabel: run.inputLabel,
                            classNames: run.classNames, isDemo: run.isDemo)
        }
        let live = start.run.map { run in
            LiveSetup(runner: { try run.run($0) }, initial: run.interventions,
                      initialRecording: run.plain == nil ? nil : run.recording)
        }
        let options = ExplorerOptions(terminal: screen.terminal, exportDirectory: exportDir, colormap: colormap)
        try start.show { try Explorer(context: context, options: options, live: live).run() }
    }
}
