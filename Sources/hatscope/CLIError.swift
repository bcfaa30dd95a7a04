// One clear line and a non-zero exit for every user-facing failure.
import ArgumentParser
import Foundation

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Prints `hatscope: <message>` to stderr and exits 1. Used by every subcommand for errors from
/// the libraries so users never see a Swift error dump.
func fail(_ error: Error) -> Never {
    let text = String(describing: error)
    FileHandle.standardError.write(("hatscope: " + text + "\n").data(using: .utf8)!)
    exit(1)
}
