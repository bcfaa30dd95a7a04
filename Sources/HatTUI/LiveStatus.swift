// What the screen says about live interventions: the prediction before (the plain run) and after
// (the run shown), which interventions the shown run had and which are asked for now, whether the
// model is still running (the picture is then stale) and whether the last run failed. The
// explorer fills it from its runs; the renderer and the side panel only read it.
import HatRecording

public struct LiveStatus: Sendable, Equatable {
    /// Softmax probabilities of every class in the plain run, [classes].
    public var before: [Float]
    /// The same for the run shown; nil when the plain run is shown.
    public var after: [Float]?
    /// The shown run's interventions, in their option spelling (empty: the plain run).
    public var shown: [String]
    /// The interventions asked for now (they differ from `shown` while the model runs).
    public var wanted: [String]
    /// True while the model runs again for `wanted`: the picture is from an earlier state.
    public var stale: Bool
    /// Why the last run failed, if it did (the picture stays as it was).
    public var failure: String?
    /// Wall time of the shown run's forward pass (ms), for the panel.
    public var forwardMs: Double?

    public init(before: [Float], after: [Float]? = nil, shown: [String] = [], wanted: [String] = [], stale: Bool = false,
                failure: String? = nil, forwardMs: Double? = nil) {
        self.before = before; self.after = after; self.shown = shown; self.wanted = wanted; self.stale = stale
        self.failure = failure; self.forwardMs = forwardMs
    }

    /// The header's marker: "running" (stale picture), "run failed", "interventions" (the shown
    /// run has some), or nil for the plain run at rest.
    public var marker: String? {
        if stale { return "running" }
        if failure != nil { return "run failed" }
        return shown.isEmpty ? nil : "interventions"
    }

    /// The `count` most probable classes after (before when the plain run is shown): index,
    /// probability before and after.
    public func rows(_ count: Int) -> [(index: Int, before: Float, after: Float)] {
        let now = after ?? before
        let order = now.indices.sorted { now[$0] != now[$1] ? now[$0] > now[$1] : $0 < $1 }
        return order.prefix(count).map { ($0, $0 < before.count ? before[$0] : .nan, now[$0]) }
    }
}
