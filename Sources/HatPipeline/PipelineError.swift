// The pipeline's own failures (bad options, files that do not fit the model, limits), each a
// one-line summary with optional detail lines (UserMessage prints them).
import HatSystem

public struct PipelineError: Error, CustomStringConvertible, DetailedError {
    public let summary: String
    public let details: [String]
    public init(_ summary: String, details: [String] = []) {
        self.summary = summary
        self.details = details
    }
    public var description: String { ([summary] + details).joined(separator: "\n") }
}
