// `hatscope tour`: run the model once on an image, then walk through its forward pass one screen
// per step (TourGuide in HatViews: patch embedding, conv stages, carrier tokens, carrier and
// window attention, one block in order, crossing windows, propagation, the last stage, the
// prediction, every head at once), every number taken from the model and this run. Everything that
// can fail runs before the screen is taken over.
import ArgumentParser
import HatTUI
import HatViews

struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour",
        abstract: "A guided tour of FasterViT's hierarchical attention on your image, step by step.",
        discussion: """
        Inputs: a checkpoint (--checkpoint, default the embedded demo model) and an image \
        (--image / --input: PNG or JPEG, or a .npy / safetensors tensor; default the demo image), \
        or a recording file (--recording; the model does not run). The model runs once; each of the \(TourStepKind.allCases.count) screens then explains one \
        part of the forward pass with the shapes and numbers of the loaded model and this run, \
        highlights it on the picture and says which explorer keys show it; the last one plots how \
        far every head looks (per-head mean attention distance, as `hatscope stats` computes it). \
        Parts the loaded variant does not have (no carrier tokens in the 21k models, no \
        propagation in faster_vit_0/1/2) say why. The step "Does the model need the carriers?" \
        runs the model again with the carriers cut and shows the prediction before and after \
        (with --recording the model is not there to run; the step says so). Intervention options \
        (--cut-global levels.2, ...) make the whole tour one of the changed run.

        Keys: Space, Enter or the right arrow: next step; Backspace or the left arrow: previous; \
        g / G: first / last step; q, Esc or Ctrl-C: leave. `t` in the explorer opens the same \
        tour, `T` its last screen.

        Pictures and colours: --graphics and --color as for explore.

        Needs a terminal.

        Examples:
          hatscope tour
          hatscope tour --checkpoint fastervit_0_224_1k.pth.tar --image cat.jpg
          hatscope tour --image dog.png --step 3 --color 256
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOption
    @OptionGroup var recording: RecordingOptions
    @OptionGroup(title: InterventionOptions.title) var interventions: InterventionOptions

    @Option(help: "Step to start at (1-\(TourStepKind.allCases.count)).")
    var step: Int = 1

    @OptionGroup var screen: ScreenOptions

    func validate() throws {
        guard (1 ... TourStepKind.allCases.count).contains(step) else {
            throw ValidationError("--step must be 1-\(TourStepKind.allCases.count) (got \(step))")
        }
    }

    func run() throws {
        let start = try ScreenStart(command: "tour", alternative: nil, model: model, input: input,
                                    recording: recording, interventions: interventions)
        let context = start.context { run in
            let label = run.isDemo ? "demo checkpoint" : run.checkpointFile + " (sha256 " + String(run.digest.value.prefix(12)) + ")"
            return ExplorerContext(recording: run.recording, modelName: run.modelName, checkpointLabel: label,
                                   classNames: run.classNames, isDemo: run.isDemo)
        }
        var runner: RecordingRunner?
        if let run = start.run { runner = { try run.run($0) } }
        try start.show {
            try TourScreen(context: context, runner: runner, interventions: start.run?.interventions ?? [])
                .run(options: screen.terminal, start: step - 1)
        }
    }
}
