// The one progress bar of every long command (export --all, stats): `label [=====>    ] 12/40
// name` on stderr, redrawn in place, shown only when stderr is a terminal. Messages that arrive
// while it is shown (a skipped image) get a line of their own: the bar is cleared, the message
// printed, the bar drawn again below it. Safe to use from several threads.

public final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let lock = PthreadLock()
    private var done = 0
    private var item = ""
    private var drawnFilled = -1
    private var shown = false

    /// nil when stderr is not a terminal (then there is nothing to redraw).
    public init?(label: String, total: Int) {
        guard StandardStreams.isTerminal(2) else { return nil }
        self.label = label
        self.total = total
    }

    /// `done` of `total` finished, the last one named `item`.
    public func update(_ done: Int, item: String) {
        lock.lock(); defer { lock.unlock() }
        self.done = done
        self.item = item
        let filled = filledCells
        // Redraw when the bar grows, every 10 items, and at the end.
        guard filled != drawnFilled || done == total || done % 10 == 0 else { return }
        drawnFilled = filled
        draw()
    }

    /// Prints `text` (already formatted, one or more lines) on lines of its own.
    public func message(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        if shown { StandardStreams.error("\r\u{1B}[K") }
        StandardStreams.error(text.hasSuffix("\n") ? text : text + "\n")
        if shown { draw() }
    }

    /// Ends the bar's line.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if shown { StandardStreams.error("\n") }
        shown = false
    }

    private static let width = 30
    private var filledCells: Int { total > 0 ? Self.width * min(done, total) / total : Self.width }

    private func draw() {
        let filled = filledCells
        let bar = String(repeating: "=", count: filled) + (filled < Self.width ? ">" : "")
            + String(repeating: " ", count: max(0, Self.width - filled - 1))
        let name = UserMessage.escaped(String(item.split(separator: "/").last ?? Substring(item)).prefix(40).description)
        StandardStreams.error("\r\(label) [\(bar)] \(done)/\(total) \(name)\u{1B}[K")
        shown = true
    }
}

/// Prints a message on stderr, on its own line even while `progress` is drawn.
public func reportLine(_ text: String, progress: ProgressLine?) {
    if let progress { progress.message(text) } else { StandardStreams.error(text.hasSuffix("\n") ? text : text + "\n") }
}
