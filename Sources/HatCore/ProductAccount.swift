// What the matrix products of a piece of work cost, counted inside `BLAS.sgemm`: their floating-
// point operations (2 m n k each), their number, and the time spent in them, summed over the
// threads that ran them. `hatscope bench` uses it to say where a forward's time goes and how far
// it is from the machine's sgemm limit (`SgemmRate`). Counting is off unless `ProductAccount.measure`
// runs, so the model pays one relaxed atomic load per product otherwise.
import Foundation
import Synchronization

public struct ProductAccount: Sendable, Equatable {
    /// Floating-point operations of the products (2 m n k each).
    public var flops: Int
    /// Products (sgemm calls).
    public var products: Int
    /// Wall time inside the products, summed over the threads that ran them (about their CPU time).
    public var nanoseconds: Int

    public init(flops: Int = 0, products: Int = 0, nanoseconds: Int = 0) {
        self.flops = flops
        self.products = products
        self.nanoseconds = nanoseconds
    }

    /// Runs `body` and returns what every product in the process cost while it ran (other work
    /// running at the same time, such as a second model, is counted too). Nested calls each see
    /// their own part.
    public static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, account: ProductAccount) {
        active.add(1, ordering: .relaxed)
        defer { active.subtract(1, ordering: .relaxed) }
        let before = snapshot()
        let result = try body()
        let after = snapshot()
        return (result, ProductAccount(flops: after.flops - before.flops, products: after.products - before.products,
                                       nanoseconds: after.nanoseconds - before.nanoseconds))
    }

    // Counters of the whole process, only advanced while some `measure` runs.
    private static let active = Atomic<Int>(0)
    private static let flopCount = Atomic<Int>(0)
    private static let productCount = Atomic<Int>(0)
    private static let nanoCount = Atomic<Int>(0)

    private static func snapshot() -> ProductAccount {
        ProductAccount(flops: flopCount.load(ordering: .relaxed), products: productCount.load(ordering: .relaxed),
                       nanoseconds: nanoCount.load(ordering: .relaxed))
    }

    /// Called by `BLAS.sgemm` around each product: `body` runs as is when nothing is measured.
    @inline(__always)
    static func count(m: Int, n: Int, k: Int, _ body: () -> Void) {
        guard active.load(ordering: .relaxed) > 0 else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        nanoCount.add(Int(DispatchTime.now().uptimeNanoseconds - start), ordering: .relaxed)
        flopCount.add(2 * m * n * k, ordering: .relaxed)
        productCount.add(1, ordering: .relaxed)
    }
}
