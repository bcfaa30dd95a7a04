// The explorer's background forward passes: one worker thread runs the executable's runner
// (RecordingRunner: the model on the loaded input with a list of interventions) for the latest
// request only. A request made while another runs supersedes every older one: when the running
// one ends its result is dropped unless it is still the latest, and the worker goes on with the
// newest. A finished result wakes the key loop through a pipe it polls beside the keyboard, so the
// screen never waits for the model.
import Foundation
import HatRecording
import HatViews

final class LiveRunner: @unchecked Sendable {
    /// A finished run: the request it answers and the recording (or why it failed).
    struct Outcome {
        let id: Int
        let interventions: [Intervention]
        let result: Result<Recording, Error>
        /// Wall time of the forward pass (with recording), milliseconds, time suspended left out.
        let milliseconds: Double
    }

    private let runner: RecordingRunner
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: (id: Int, list: [Intervention])?
    private var finished: Outcome?
    private var latest = 0
    private var running = false
    private var stopped = false
    /// The pipe a finished run writes one byte to: read end polled by the key loop.
    let wakeFD: Int32
    private let signalFD: Int32

    init(runner: @escaping RecordingRunner) {
        self.runner = runner
        var p: [Int32] = [-1, -1]
        if pipe(&p) == 0 {
            for d in p { _ = fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK); _ = fcntl(d, F_SETFD, FD_CLOEXEC) }
        }
        wakeFD = p[0]; signalFD = p[1]
        // The thread holds the runner until `stop`.
        let t = Thread { self.loop() }
        t.name = "hatscope-live"
        t.start()
    }

    deinit {
        if wakeFD >= 0 { close(wakeFD) }
        if signalFD >= 0 { close(signalFD) }
    }

    /// Asks for a run with `list`; returns its id (newer ids supersede older ones).
    @discardableResult
    func request(_ list: [Intervention]) -> Int {
        condition.lock()
        defer { condition.unlock() }
        latest += 1
        pending = (latest, list)
        finished = nil
        condition.signal()
        return latest
    }

    /// Forgets every request (the plain run needs none).
    func cancel() {
        condition.lock()
        latest += 1
        pending = nil
        finished = nil
        condition.unlock()
    }

    /// The result of the latest request once it is in (then nil until the next one finishes).
    func take() -> Outcome? {
        condition.lock()
        defer { condition.unlock() }
        guard let f = finished, f.id == latest else { return nil }
        finished = nil
        return f
    }

    /// Whether the latest request is still being worked on.
    var isBusy: Bool {
        condition.lock()
        defer { condition.unlock() }
        return pending != nil || running
    }

    /// Ends the worker after its current run.
    func stop() {
        condition.lock()
        stopped = true
        pending = nil
        condition.signal()
        condition.unlock()
    }

    /// Waits until the worker has ended (after `stop`): a forward pass still under way is let
    /// finish, since the process must not exit under it (OpenBLAS frees its buffers at exit).
    func join() {
        ended.wait()
        ended.signal()   // later joins return at once
    }
    private let ended = DispatchSemaphore(value: 0)

    /// Lowers the calling thread's scheduling priority to nice +10: the key loop and the
    /// terminal then win a core whenever they need one, and the model gets everything else. On
    /// Linux the nice value belongs to a thread, and `who` 0 names the calling thread, so the rest
    /// of the process keeps its priority. Threads this one creates inherit the value; the engine's
    /// worker pool (HatCore's SpinPool) is made by the first forward pass, which the executable
    /// runs on the main thread before the explorer starts, so the pool keeps normal priority.
    static func yieldToTheScreen() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    private func loop() {
        Self.yieldToTheScreen()
        defer { ended.signal() }
        while true {
            condition.lock()
            while pending == nil && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            let job = pending!
            pending = nil
            running = true
            condition.unlock()

            let t0 = DispatchTime.now().uptimeNanoseconds, s0 = SuspendedTime.nanoseconds
            let result = Result { try runner(job.list) }
            let wall = DispatchTime.now().uptimeNanoseconds - t0, suspended = SuspendedTime.nanoseconds - s0
            let ms = Double(wall - min(wall, suspended)) / 1e6

            condition.lock()
            running = false
            let current = job.id == latest
            if current { finished = Outcome(id: job.id, interventions: job.list, result: result, milliseconds: ms) }
            condition.unlock()
            if current, signalFD >= 0 {
                var byte: UInt8 = 1
                _ = write(signalFD, &byte, 1)
            }
        }
    }
}
