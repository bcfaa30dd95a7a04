// `--recording R`, the third way in next to an image and a tensor: explore, export, stats and tour
// draw a recording file (from `hatscope record` or tools/record_torch.py) instead of running the
// model. With it no checkpoint is opened and no forward pass runs, so the model and input options
// are refused beside it.
import ArgumentParser
import Foundation
import HatRecording
import HatRecordingFile

struct RecordingOptions: ParsableArguments {
    @Option(name: .customLong("recording"), help: ArgumentHelp(
        "A recording file (hatscope record, tools/record_torch.py): draw it; the model does not run.",
        valueName: "file"))
    var paths: [String] = []

    var isGiven: Bool { !paths.isEmpty }

    /// Refuses options that only make sense when the model runs (`given`: option name -> whether
    /// it was given).
    func checkAlone(_ given: [(option: String, present: Bool)]) throws {
        guard isGiven else { return }
        if let clash = given.first(where: \.present) {
            throw CLIError("--recording draws a recorded run without the model: leave out \(clash.option)")
        }
    }

    /// The one recording of a command that shows one.
    func single(for command: String) throws -> (path: String, recording: Recording) {
        guard paths.count == 1 else { throw CLIError("\(command) shows one recording; --recording was given \(paths.count) times") }
        return (paths[0], try RecordingReader.read(path: paths[0]))
    }

    /// Every recording, in order.
    func all() throws -> [(path: String, recording: Recording)] {
        try paths.map { ($0, try RecordingReader.read(path: $0)) }
    }
}
