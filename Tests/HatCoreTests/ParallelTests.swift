// Parallel.serial: loops started inside it run on the calling thread only, give the same results,
// and leave other threads' loops parallel.
import Foundation
@testable import HatCore
import XCTest

final class ParallelTests: XCTestCase {
    func testSerialRunsEveryLoopOnTheCallingThread() {
        let me = pthread_self()
        var others = 0, iterations = 0
        let lock = NSLock()
        Parallel.serial {
            Parallel.forEach(64) { _ in
                lock.lock(); iterations += 1; if pthread_equal(pthread_self(), me) == 0 { others += 1 }; lock.unlock()
            }
            Parallel.forRanges(100_000, minPerChunk: 1) { r in
                lock.lock(); iterations += r.count; if pthread_equal(pthread_self(), me) == 0 { others += 1 }; lock.unlock()
            }
            // Nested: still serial inside, and after the inner call returns.
            Parallel.serial { Parallel.forEach(8) { _ in lock.lock(); iterations += 1; lock.unlock() } }
            Parallel.forEach(8) { _ in
                lock.lock(); iterations += 1; if pthread_equal(pthread_self(), me) == 0 { others += 1 }; lock.unlock()
            }
        }
        XCTAssertEqual(iterations, 64 + 100_000 + 16)
        XCTAssertEqual(others, 0)
    }

    func testSerialGivesTheSameProduct() {
        var state: UInt32 = 3
        func rnd() -> Float { state = state &* 1664525 &+ 1013904223; return Float(state >> 8) / Float(1 << 24) - 0.5 }
        let x = Tensor(shape: [96, 200], data: (0..<(96 * 200)).map { _ in rnd() })
        let lin = Linear(weight: Tensor(shape: [300, 200], data: (0..<(300 * 200)).map { _ in rnd() }),
                         bias: Tensor(shape: [300], data: (0..<300).map { _ in rnd() }))
        XCTAssertEqual(Parallel.serial { lin(x) }.data, lin(x).data)
    }
}
