// One clear line (details indented below, at most ten) and exit status 1 for every user-facing
// failure; standard output checked before a successful exit.
import Foundation
import HatSystem

struct CLIError: Error, CustomStringConvertible, DetailedError {
    let summary: String
    let details: [String]
    init(_ message: String, details: [String] = []) { summary = message; self.details = details }
    var description: String { summary }
}

/// Prints `hatscope: <message>` (and the error's detail lines) to stderr, removes temporary files
/// and folders this run created, gives the terminal back, and exits 1. Never traps, even with
/// stderr closed or full.
func fail(_ error: Error) -> Never {
    ProcessSignals.restoreTerminal()
    CleanupRegistry.removeAll()
    StandardStreams.error(UserMessage.format(error))
    exit(1)
}

/// A note on stderr (`hatscope: note: ...`), on its own line even under a progress bar.
func note(_ text: String, progress: ProgressLine? = nil) {
    reportLine(UserMessage.format(summary: "note: " + text), progress: progress)
}

/// Ends a run: everything printed must have reached stdout, else it is an error.
func finish(_ code: Int32) -> Never {
    if !StandardStreams.flushOutput() {
        StandardStreams.error(UserMessage.format(summary: "cannot write to standard output (closed, full or a broken pipe)"))
        exit(1)
    }
    exit(code)
}
