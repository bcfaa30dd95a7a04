// Typed errors of the checkpoint readers and writers. Every message is one line a user can act on:
// what was being read, what is wrong, and (for refused pickles) why nothing was executed.

public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, mapped, written or renamed.
    case io(String)
    /// The bytes do not follow the format they claim (truncated, out-of-range offsets, bad opcode).
    case malformed(String)
    /// A valid file using something this reader does not handle (a dtype, TorchScript, compression).
    case unsupported(String)
    /// A pickle that names a dangerous global; it is refused and nothing in it is executed.
    case unsafe(String)
    /// A size limit was hit (stack depth, memo, string length, header size).
    case limit(String)
    /// The checkpoint holds no state dict where one was expected (wrapper selection).
    case noStateDict(String)
    /// A .npy array (a network input, not a checkpoint) that cannot be read.
    case array(String)

    /// The message without the kind of failure in front.
    public var message: String {
        switch self {
        case let .io(m), let .malformed(m), let .unsupported(m), let .unsafe(m), let .limit(m), let .noStateDict(m), let .array(m): return m
        }
    }

    public var description: String {
        switch self {
        case .io(let m): return "cannot access file: \(m)"
        case .malformed(let m): return "malformed checkpoint: \(m)"
        case .unsupported(let m): return "unsupported checkpoint content: \(m)"
        case .unsafe(let m): return "refused unsafe pickle: \(m) (nothing in the file was executed)"
        case .limit(let m): return "checkpoint exceeds a safety limit: \(m)"
        case .noStateDict(let m): return "no state dict found: \(m)"
        case .array(let m): return "bad .npy array: \(m)"
        }
    }
}

/// Checked arithmetic helpers: every size, stride and offset read from a file goes through these so
/// that a hostile value produces an error instead of a trap.
@inlinable func checkedAdd(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw CheckpointError.malformed("integer overflow in \(what())") }
    return r
}

@inlinable func checkedMul(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw CheckpointError.malformed("integer overflow in \(what())") }
    return r
}

/// product(shape) with overflow and negative-dimension checks.
func checkedCount(_ shape: [Int], _ what: @autoclosure () -> String) throws -> Int {
    var n = 1
    for d in shape {
        if d < 0 { throw CheckpointError.malformed("negative dimension \(d) in \(what())") }
        n = try checkedMul(n, d, what())
    }
    return n
}
