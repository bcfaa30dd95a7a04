// What `explore` and `tour` do before they take over the terminal, and after they give it back:
// the option checks, the terminal check, then a recording file read or the model run once on the
// input (everything that can fail, so failures are one line before the screen changes); the run's
// notes are said once the screen is gone. One path, so the two commands load, refuse and report
// alike.
import Foundation
import HatPipeline
import HatRecording
import HatTUI

struct ScreenStart {
    enum Source {
        /// A recording file (the model does not run): its recording and file name.
        case file(Recording, name: String)
        /// The model run once on the input (with the command line's interventions).
        case run(RecordedRun)
    }

    let source: Source

    /// `alternative`: what to use instead when there is no terminal (said in that error).
    init(command: String, alternative: String?, model: ModelOptions, input: InputOption,
         recording: RecordingOptions, interventions: InterventionOptions) throws {
        try recording.checkAlone(model.givenOptions + [("--input", !input.inputs.isEmpty)] + interventions.givenOptions)
        try Terminal.checkUsable(command: command, alternative: alternative)
        if recording.isGiven {
            let (path, rec) = try recording.single(for: command)
            source = .file(rec, name: (path as NSString).lastPathComponent)
        } else {
            source = .run(try RecordedRun.make(model.request, input: input.inputs.isEmpty ? nil : try input.path(),
                                               interventions: { try interventions.resolve(config: $0, height: $1, width: $2) }))
        }
    }

    /// The screen's context: a recording file's, or `fromRun`'s for the model's run.
    func context(fromRun: (RecordedRun) -> ExplorerContext) -> ExplorerContext {
        switch source {
        case .file(let rec, let name): return ExplorerContext(recording: rec, fileLabel: name)
        case .run(let run): return fromRun(run)
        }
    }

    /// The model's run, nil for a recording file.
    var run: RecordedRun? {
        if case .run(let r) = source { return r }
        return nil
    }

    /// Shows `screen`, then says the run's notes (after the screen, where they stay readable).
    func show(_ screen: () throws -> Void) throws {
        try screen()
        for n in run?.notes ?? [] { note(n) }
    }
}
