// Switches for developers, kept out of the user's command line: environment variables.
import Foundation

enum DeveloperSwitches {
    /// HATSCOPE_TIMING=1: `export` and `stats` print where the time went (stderr).
    static var timing: Bool { ProcessInfo.processInfo.environment["HATSCOPE_TIMING"] == "1" }
}
