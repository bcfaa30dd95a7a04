// A small pool of worker threads that spin briefly between parallel loops, for `Parallel`.
//
// Why: a forward pass is a chain of a few hundred short parallel loops (tens to hundreds of
// microseconds each) separated by short serial steps. With DispatchQueue.concurrentPerform every
// loop wakes a parked worker through the kernel (a futex wake plus a context switch: tens of
// microseconds on a busy 2-core VM), and the main thread often finishes its half and waits. Here
// each worker keeps polling for the next loop for `spinLimit` polls (~0.1-0.3 ms) after finishing
// one, so back-to-back loops start within a microsecond, and sleeps on a condition variable once
// the model goes quiet (no CPU is burnt between forwards). Waiting threads yield the core every
// few thousand polls, so on a machine with more runnable threads than cores a descheduled worker
// gets the core back instead of being spun against.
//
// Protocol (one slot per worker, no shared job queue, so no ABA races):
//   caller: writes the job (body, count), resets `next`, then sets every worker's state to 1
//           (release); runs iterations itself; waits until every state is back to 0 (acquire).
//   worker: sees state 1 (acquire), claims iterations from `next` until none are left, stores
//           state 0 (release). A worker reads the job fields only while its state is 1, and the
//           caller writes them only while all states are 0.
// One job at a time: a caller that finds the pool busy (a nested or concurrent Parallel call)
// gets `false` and runs the loop some other way.
import Foundation
import Synchronization

final class SpinPool: @unchecked Sendable {
    /// nil on a single core.
    static let shared: SpinPool? = Parallel.cores > 1 ? SpinPool(workers: Parallel.cores - 1) : nil

    private final class Worker: @unchecked Sendable {
        /// 0 idle, 1 a job is posted for this worker.
        let state = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let condition = NSCondition()
    }

    private let workers: [Worker]
    private let owner = Atomic<Bool>(false)
    private let next = Atomic<Int>(0)
    // The current job; written only while every worker is idle (see the protocol above).
    private var count = 0
    private var body: ((Int) -> Void)?
    /// Polls of an idle worker before it sleeps.
    private let spinLimit = 200_000
    /// Polls between yields of the core while waiting (~2-5 us).
    private let yieldAfter = 4_096

    private init(workers n: Int) {
        workers = (0..<n).map { _ in Worker() }
        for w in workers {
            let t = Thread { self.loop(w) }
            t.name = "hatscope-worker"
            t.start()
        }
    }

    /// Runs body(0..<count) over the caller and the workers; false (nothing run) when busy.
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard owner.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.count = count
            next.store(0, ordering: .relaxed)
            for w in workers {
                // Sequentially consistent on both sides (here and in `loop`): the store of the
                // state must not pass the load of `sleeping`, or a sleeping worker is missed.
                w.state.store(1, ordering: .sequentiallyConsistent)
                if w.sleeping.load(ordering: .sequentiallyConsistent) {
                    w.condition.lock(); w.condition.signal(); w.condition.unlock()
                }
            }
            drain()
            // A worker still busy is usually a few microseconds from done; one that was
            // descheduled (more runnable threads than cores) can be milliseconds away, and
            // spinning then only burns the time slice it needs: yield after a short spin.
            for w in workers {
                var spins = 0
                while w.state.load(ordering: .acquiring) != 0 {
                    spins += 1
                    if spins >= yieldAfter { sched_yield() }
                }
            }
            self.body = nil
        }
        owner.store(false, ordering: .releasing)
        return true
    }

    /// Claims and runs iterations until none are left.
    private func drain() {
        let n = count
        guard let body else { return }
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= n { return }
            body(i)
        }
    }

    private func loop(_ w: Worker) {
        while true {
            var polls = 0
            while w.state.load(ordering: .acquiring) == 0 {
                polls += 1
                // Let other runnable threads (the caller among them, on a busy machine) have the
                // core now and then; with none waiting this returns at once.
                if polls % yieldAfter == 0 { sched_yield() }
                if polls >= spinLimit {
                    // Sleep until a job is posted. `sleeping` is set before re-checking the state
                    // under the lock, and the poster signals under the same lock after setting the
                    // state, so a wake-up cannot be lost.
                    w.condition.lock()
                    w.sleeping.store(true, ordering: .sequentiallyConsistent)
                    while w.state.load(ordering: .sequentiallyConsistent) == 0 { w.condition.wait() }
                    w.sleeping.store(false, ordering: .relaxed)
                    w.condition.unlock()
                    polls = 0
                }
            }
            drain()
            w.state.store(0, ordering: .releasing)
        }
    }
}
