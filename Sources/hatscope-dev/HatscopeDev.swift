// hatscope-dev: the developer's tool, kept out of the user's `hatscope` command line. It prints
// explorer and tour frames as text or PNG (docs, snapshots), drives the explorer's key handler
// with a key string, runs the explorer and the tour on a synthetic recording (no model, for
// tests), and times rendering and startup. End-to-end tests use it; users never need it.
import ArgumentParser
import Foundation
import HatCore
import HatImaging
import HatModel
import HatRecording
import HatRecordingFile
import HatPipeline
import HatSystem
import HatTUI
import HatViews

@main
struct HatscopeDev: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hatscope-dev",
        abstract: "Developer tool: explorer and tour frames as text/PNG, synthetic runs, render and startup timing.",
        subcommands: [Frame.self, Explore.self, Tour.self, Detect.self])

    static func main() {
        ProcessSignals.install()
        EngineOptions.standard.apply()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            ProcessSignals.restoreTerminal()
            CleanupRegistry.removeAll()
            StandardStreams.error(UserMessage.format(summary: "hatscope-dev: " + message(for: error).split(separator: "\n").joined(separator: "; "), prefix: ""))
            Foundation.exit(1)
        }
    }
}

/// Where the explorer's recording comes from.
struct SourceOptions: ParsableArguments {
    @Flag(help: "A drawn scene, no model (fast; works without the demo assets).")
    var synthetic = false
    @Option(help: "A recording file, drawn without the model (as `hatscope explore --recording`).") var recording: String?
    @Option(help: "Checkpoint (default: the embedded demo).") var checkpoint: String?
    @Option(name: [.customLong("input"), .customLong("image")], help: "Network input (default: the demo image).") var input: String?
    @Option(help: "Preset name (with --synthetic: the geometry of the drawn scene).") var model: String?
    @Option(help: "Model configuration JSON.") var config: String?
    @Option(help: "Input resolution HxW.") var resolution: String?
    @Flag(help: "The EMA weights.") var ema = false
    @Option(help: "Relative-position buffers: stored or geometry.") var buffers = "stored"

    func context() throws -> ExplorerContext { try load().context }

    /// The explorer's recording, and the loaded model when there is one (live interventions).
    func load() throws -> (context: ExplorerContext, run: RecordedRun?) {
        let choice = ConfigChoice(preset: model, file: config, resolution: resolution)
        if let recording {
            return (ExplorerContext(recording: try RecordingReader.read(path: recording),
                                    fileLabel: (recording as NSString).lastPathComponent), nil)
        }
        if synthetic {
            return (ExplorerContext(recording: SyntheticScene.recording(config: try choice.chosen()),
                                    checkpointLabel: "synthetic (no model)", imageLabel: "drawn scene"), nil)
        }
        let run = try RecordedRun.make(ModelRequest(checkpoint: checkpoint, choice: choice, ema: ema, buffers: buffers), input: input)
        return (ExplorerContext(recording: run.recording, modelName: run.modelName, checkpointLabel: run.checkpointLabel,
                                imageLabel: run.inputLabel, classNames: run.classNames, isDemo: run.isDemo), run)
    }

    /// The explorer on it, with live interventions when a model is loaded.
    func explorer(_ options: ExplorerOptions) throws -> (Explorer, RecordedRun?) {
        let (context, run) = try load()
        return (Explorer(context: context, options: options, live: run.map { r in LiveSetup(runner: { try r.run($0) }) }), run)
    }
}

/// One frame of the explorer or the tour, printed as text (colours lost) and optionally as PNG.
struct Frame: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one explorer or tour frame as text (and --png as an image).",
        discussion: """
        --keys feeds characters to the explorer's key handler first: every character is its own \
        key, except '>' = Tab and '<' = Shift-Tab; with a model (not --synthetic / --recording) \
        keys that change the interventions run it, and the frame shows the last run. \
        Example: hatscope-dev frame --size 120x38 --keys '>rb'
        """)

    @OptionGroup var source: SourceOptions
    @Option(help: "explore or tour.") var screen = "explore"
    @Option(help: "WIDTHxHEIGHT in cells.") var size = "120x38"
    @Option(help: "Keys for the explorer's handler before the frame.") var keys = ""
    @Option(help: "Tour step (1-\(TourStepKind.allCases.count)).") var step = 1
    @Option(help: "Colour tier: truecolor, 256, 16, 8, mono.") var color = "truecolor"
    @Option(help: "Also write the frame as a PNG here.") var png: String?

    func run() throws {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 <= 1000 }) else { throw ValidationError("--size wants WIDTHxHEIGHT") }
        guard let tier = ColorTier(rawValue: color.lowercased()) else { throw ValidationError("--color: truecolor, 256, 16, 8 or mono") }
        let buffer: CellBuffer
        switch screen {
        case "explore":
            let (explorer, _) = try source.explorer(ExplorerOptions())
            var state = explorer.initialState(width: parts[0], height: parts[1])
            for ch in keys {
                let key: Key = ch == ">" ? .tab : ch == "<" ? .backTab : .char(ch)
                state = KeyHandling.handle(state, key).0
                state.picture = explorer.frame(state, tier: tier).picture
            }
            if !explorer.settle(state) { throw ValidationError("the model did not answer within a minute") }
            buffer = explorer.frame(state, tier: tier).buffer
        case "tour":
            let (context, run) = try source.load()
            var runner: RecordingRunner?
            if let run { runner = { try run.run($0) } }
            let tour = TourScreen(context: context, runner: runner, interventions: [])
            guard (1 ... tour.stepCount).contains(step) else { throw ValidationError("--step must be 1-\(tour.stepCount)") }
            let state = TourState(count: tour.stepCount, index: step - 1, screenWidth: parts[0], screenHeight: parts[1])
            buffer = tour.frame(state, tier: tier)
        default:
            throw ValidationError("--screen must be explore or tour")
        }
        if let png { try ImageIO.writePNG(buffer.image(), to: png) }
        print(buffer.text, terminator: "")
    }
}

/// The interactive explorer with developer extras.
struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The interactive explorer (synthetic scene, render and startup timing).")

    @OptionGroup var source: SourceOptions
    @Option(help: "Colours: auto, truecolor, 256, 16, 8 or mono.") var color = "auto"
    @Option(help: "Pictures: auto, kitty, sixel, iterm2 or blocks.") var graphics = "auto"
    @Flag(help: "Do not use the mouse.") var noMouse = false
    @Option(help: "Folder for e / E exports.") var exportDir = "."
    @Flag(help: "Time frame rendering (results on stderr).") var benchRender = false
    @Option(help: "kitty pictures through: file, shm, rgb or png (default: the fastest the terminal answered for).")
    var kittyTransmission: String?
    @Option(help: "Rounds of --bench-live (the first is a warm-up).") var rounds = 7
    @Flag(help: "Time live interventions: key -> updated prediction and attention against a plain forward, and keypress -> frame while the model runs (results on stderr; needs a model).") var benchLive = false
    @Flag(help: "Time startup to the first frame, then quit.") var timeStartup = false
    @Option(help: "With --synthetic: live interventions take this long and give the scene back (tests of a run under way).")
    var slowRunMs: Int?

    func run() throws {
        let start = DispatchTime.now()
        if !benchRender && !benchLive { try Terminal.checkUsable(command: "explore", alternative: nil) }
        var transmission: KittyTransmission? = nil
        if let t = kittyTransmission {
            guard let v = KittyTransmission(rawValue: t.lowercased()) else { throw ValidationError("--kitty-transmission: file, shm, rgb or png") }
            transmission = v
        }
        let options = ExplorerOptions(terminal: TerminalOptions(color: color, mouse: !noMouse, graphics: graphics.lowercased(),
                                                                kittyTransmission: transmission),
                                      exportDirectory: exportDir)
        var (explorer, run) = try source.explorer(options)
        if let ms = slowRunMs {
            guard source.synthetic else { throw ValidationError("--slow-run-ms needs --synthetic") }
            let scene = explorer.context
            explorer = Explorer(context: scene, options: options, live: LiveSetup(runner: { _ in
                Thread.sleep(forTimeInterval: Double(ms) / 1000)
                return scene.recording
            }))
        }
        if benchLive {
            guard let run else { throw ValidationError("--bench-live needs a model (not --synthetic or --recording)") }
            let term = Terminal.isInteractive ? try Terminal(options: options.terminal) : nil
            let text = try LiveBenchmark.run(explorer: explorer, plainForward: { _ = try run.logits() }, rounds: max(2, rounds),
                                             terminal: term)
            term?.stop()
            StandardStreams.error(text + "\n")
            return
        }
        if benchRender {
            let text = try RenderBenchmark.run(explorer: explorer, onTerminal: Terminal.isInteractive, options: options)
            StandardStreams.error(text + "\n")
            return
        }
        if timeStartup {
            var ms = 0.0
            try explorer.run(onFirstFrame: {
                ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            }, quitAfterFirstFrame: true)
            StandardStreams.error(String(format: "startup to first frame: %.1f ms\n", ms))
            return
        }
        try explorer.run()
    }
}

/// What the terminal answered to detection and what was decided, without taking the screen.
struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ask the terminal what it can show and print the decision (stderr).")

    @Option(help: "Colours: auto, truecolor, 256, 16, 8 or mono.") var color = "auto"
    @Option(help: "Pictures: auto, kitty, sixel, iterm2 or blocks.") var graphics = "auto"

    func run() throws {
        // Report on stderr: stdout is the terminal being asked.
        let setup = DisplaySetup.probe(TerminalOptions(color: color, mouse: false, graphics: graphics.lowercased()))
        StandardStreams.error(setup.report + "\n")
    }
}

/// The interactive tour on any source.
struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The interactive tour (e.g. on the synthetic scene).")

    @OptionGroup var source: SourceOptions
    @Option(help: "Step to start at.") var step = 1
    @Option(help: "Colours.") var color = "auto"

    func run() throws {
        try Terminal.checkUsable(command: "tour", alternative: nil)
        try TourScreen(context: try source.context()).run(options: TerminalOptions(color: color), start: step - 1)
    }
}
