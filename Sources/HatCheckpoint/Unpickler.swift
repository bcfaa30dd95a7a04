// A safe interpreter for the pickle opcodes torch.save writes (protocol 2) plus the common rest of
// protocols 0-4. It never imports or calls anything: GLOBAL yields a name, checked against
// PickleSafety; REDUCE/NEWOBJ of an interpreted name goes to `TorchRebuild`, of any other name
// yields an inert PickleObject. Stack, mark depth, memo, and big integers are bounded; every length
// is bounded by the bytes left; SETITEM/APPEND targets are type-checked; STOP needs exactly one value.

enum PickleOpcode: UInt8 {
    case mark = 0x28, stop = 0x2E, pop = 0x30, popMark = 0x31, dup = 0x32
    case int = 0x49, binInt = 0x4A, binInt1 = 0x4B, binInt2 = 0x4D, none = 0x4E
    case binPersId = 0x51, reduce = 0x52, binString = 0x54, shortBinString = 0x55, binUnicode = 0x58
    case append = 0x61, build = 0x62, global = 0x63, dict = 0x64, emptyDict = 0x7D, appends = 0x65
    case get = 0x67, binGet = 0x68, longBinGet = 0x6A, list = 0x6C, emptyList = 0x5D
    case put = 0x70, binPut = 0x71, longBinPut = 0x72, setItem = 0x73, tuple = 0x74, emptyTuple = 0x29
    case setItems = 0x75, binFloat = 0x47, binBytes = 0x42, shortBinBytes = 0x43
    case proto = 0x80, newObj = 0x81, tuple1 = 0x85, tuple2 = 0x86, tuple3 = 0x87
    case newTrue = 0x88, newFalse = 0x89, long1 = 0x8A, long4 = 0x8B
    case shortBinUnicode = 0x8C, binUnicode8 = 0x8D, binBytes8 = 0x8E, emptySet = 0x8F, addItems = 0x90
    case frozenSet = 0x91, newObjEx = 0x92, stackGlobal = 0x93, memoize = 0x94, frame = 0x95
}

struct Unpickler {
    struct Limits {
        var stack = 1 << 22
        var marks = 10_000
        var memo = 1 << 22
        var bigIntBytes = 4096
        var stringBytes = 1 << 28
    }

    /// Interprets persistent ids (torch storages). Given the pid value, returns the storage value.
    typealias PersistentLoad = (PickleValue) throws -> PickleValue

    private var r: ByteReader
    private let limits: Limits
    private let persistentLoad: PersistentLoad
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Every container created, emptied by `teardown` (see PickleValue.swift).
    private(set) var arena = Arena()

    final class Arena {
        var lists: [PickleList] = []
        var dicts: [PickleDict] = []
        var objects: [PickleObject] = []
        /// Breaks all references between boxes so their release never recurses.
        func teardown() {
            for l in lists { l.items = [] }
            for d in dicts { d.items = [] }
            for o in objects { o.args = .none; o.state = .none; o.extra = [] }
            lists = []; dicts = []; objects = []
        }
    }

    init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int? = nil, context: String,
         limits: Limits = Limits(), persistentLoad: @escaping PersistentLoad) {
        r = ByteReader(bytes, from: start, to: end, context: context)
        self.limits = limits
        self.persistentLoad = persistentLoad
    }

    /// Byte offset after the last STOP (the next pickle of a legacy file starts there).
    var position: Int { r.position }

    private func bad(_ m: String) -> CheckpointError { .malformed("\(r.context): pickle: \(m) at byte \(r.position)") }

    private mutating func push(_ v: PickleValue) throws {
        if stack.count >= limits.stack { throw CheckpointError.limit("\(r.context): pickle stack deeper than \(limits.stack)") }
        stack.append(v)
    }

    private mutating func pop() throws -> PickleValue {
        if let m = marks.last, stack.count <= m { throw bad("pop across a MARK") }
        guard let v = stack.popLast() else { throw bad("stack underflow") }
        return v
    }

    private mutating func top() throws -> PickleValue {
        if let m = marks.last, stack.count <= m { throw bad("stack top below a MARK") }
        guard let v = stack.last else { throw bad("stack underflow") }
        return v
    }

    /// Items pushed since the last MARK, which is closed.
    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw bad("no MARK") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func newList(_ items: [PickleValue]) -> PickleList {
        let l = PickleList(items); arena.lists.append(l); return l
    }

    private mutating func newDict() -> PickleDict { let d = PickleDict(); arena.dicts.append(d); return d }

    private mutating func newObject(_ type: PickleGlobal, _ args: PickleValue) -> PickleValue {
        let o = PickleObject(type: type, args: args); arena.objects.append(o); return .object(o)
    }

    private mutating func memoPut(_ index: Int) throws {
        if memo.count >= limits.memo && memo[index] == nil { throw CheckpointError.limit("\(r.context): pickle memo over \(limits.memo) entries") }
        memo[index] = try top()
    }

    private mutating func memoGet(_ index: Int) throws {
        guard let v = memo[index] else { throw bad("memo entry \(index) not defined") }
        try push(v)
    }

    private mutating func text(_ n: Int) throws -> String {
        if n > limits.stringBytes { throw CheckpointError.limit("\(r.context): pickle string of \(n) bytes") }
        guard let s = String(validating: try r.take(n), as: UTF8.self) else { throw bad("string is not UTF-8") }
        return s
    }

    /// Protocol-2 byte strings written by Python 2: decoded as Latin-1 like torch does (ASCII in practice).
    private mutating func latin1(_ n: Int) throws -> String {
        if n > limits.stringBytes { throw CheckpointError.limit("\(r.context): pickle string of \(n) bytes") }
        return String(decoding: try r.take(n).map { UInt16($0) }, as: UTF16.self)
    }

    private mutating func long(_ n: Int) throws -> PickleValue {
        if n > limits.bigIntBytes { throw CheckpointError.limit("\(r.context): pickle integer of \(n) bytes") }
        let b = try r.take(n)
        if n == 0 { return .int(0) }
        if n > 8 { return .bigInt(bytes: n) }
        var v: UInt64 = 0
        for i in 0 ..< n { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        if n < 8, b[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) } // sign-extend
        return .int(Int(Int64(bitPattern: v)))
    }

    private func globalName(_ module: String, _ name: String) throws -> PickleValue {
        let g = PickleGlobal(module: module, name: name)
        try PickleSafety.check(g)
        return .global(g)
    }

    private func int(_ v: PickleValue, _ what: String) throws -> Int {
        guard case let .int(i) = v else { throw bad("\(what) is \(v.typeName), expected int") }
        return i
    }

    /// Runs until STOP and returns the single value left.
    mutating func load() throws -> PickleValue {
        while true {
            let byte = try r.u8()
            guard let op = PickleOpcode(rawValue: byte) else { throw bad("unsupported opcode 0x\(String(byte, radix: 16))") }
            switch op {
            case .proto:
                let v = try r.u8()
                if v > 5 { throw bad("unknown protocol \(v)") }
            case .frame: _ = try r.le(UInt64.self)
            case .stop:
                guard marks.isEmpty, stack.count == 1 else { throw bad("STOP with \(stack.count) values and \(marks.count) open MARKs") }
                return stack[0]
            case .mark:
                if marks.count >= limits.marks { throw CheckpointError.limit("\(r.context): pickle MARKs nested deeper than \(limits.marks)") }
                marks.append(stack.count)
            case .pop:
                // As Python's load_pop: with nothing above the last MARK, POP discards the MARK.
                if let m = marks.last, stack.count == m { marks.removeLast() } else { _ = try pop() }
            case .popMark: _ = try popMark()
            case .dup: try push(try top())
            case .none: try push(.none)
            case .newTrue: try push(.bool(true))
            case .newFalse: try push(.bool(false))
            case .binInt: try push(.int(Int(try r.le(Int32.self))))
            case .binInt1: try push(.int(Int(try r.u8())))
            case .binInt2: try push(.int(Int(try r.le(UInt16.self))))
            case .long1: try push(try long(Int(try r.u8())))
            case .long4:
                let n = Int(try r.le(Int32.self))
                if n < 0 { throw bad("negative LONG4 length") }
                try push(try long(n))
            case .int:
                let line = String(decoding: try r.line(limit: 64), as: UTF8.self)
                if line == "00" { try push(.bool(false)) } else if line == "01" { try push(.bool(true)) } else {
                    guard let v = Int(line) else { throw bad("bad INT \(line)") }
                    try push(.int(v))
                }
            case .binFloat: try push(.float(Double(bitPattern: try r.be(UInt64.self))))
            case .binUnicode: try push(.string(try text(Int(try r.le(UInt32.self)))))
            case .shortBinUnicode: try push(.string(try text(Int(try r.u8()))))
            case .binUnicode8:
                let n = try r.le(UInt64.self)
                guard n <= UInt64(r.remaining) else { throw bad("string longer than the data") }
                try push(.string(try text(Int(n))))
            case .binString:
                let n = Int(try r.le(Int32.self))
                if n < 0 { throw bad("negative BINSTRING length") }
                try push(.string(try latin1(n)))
            case .shortBinString: try push(.string(try latin1(Int(try r.u8()))))
            case .binBytes: try push(.bytes(Array(try r.take(Int(try r.le(UInt32.self))))))
            case .shortBinBytes: try push(.bytes(Array(try r.take(Int(try r.u8())))))
            case .binBytes8:
                let n = try r.le(UInt64.self)
                guard n <= UInt64(r.remaining) else { throw bad("bytes longer than the data") }
                try push(.bytes(Array(try r.take(Int(n)))))
            case .emptyTuple: try push(.tuple(newList([])))
            case .tuple1: let a = try pop(); try push(.tuple(newList([a])))
            case .tuple2: let b = try pop(), a = try pop(); try push(.tuple(newList([a, b])))
            case .tuple3: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple(newList([a, b, c])))
            case .tuple: try push(.tuple(newList(try popMark())))
            case .emptyList: try push(.list(newList([])))
            case .list: try push(.list(newList(try popMark())))
            case .emptyDict: try push(.dict(newDict()))
            case .dict:
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("DICT with an odd number of items") }
                let d = newDict()
                for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
                try push(.dict(d))
            case .emptySet: try push(.set(newList([])))
            case .frozenSet: try push(.set(newList(try popMark())))
            case .append:
                let v = try pop()
                try appendItems([v], to: try top())
            case .appends:
                let items = try popMark()
                try appendItems(items, to: try top())
            case .addItems:
                let items = try popMark()
                guard case let .set(s) = try top() else { throw bad("ADDITEMS on a non-set") }
                s.items.append(contentsOf: items)
            case .setItem:
                let v = try pop(), k = try pop()
                try setItems([k, v], on: try top())
            case .setItems:
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("SETITEMS with an odd number of items") }
                try setItems(items, on: try top())
            case .put:
                let line = String(decoding: try r.line(limit: 32), as: UTF8.self)
                guard let i = Int(line), i >= 0 else { throw bad("bad PUT index") }
                try memoPut(i)
            case .binPut: try memoPut(Int(try r.u8()))
            case .longBinPut: try memoPut(Int(try r.le(UInt32.self)))
            case .memoize: try memoPut(memo.count)
            case .get:
                let line = String(decoding: try r.line(limit: 32), as: UTF8.self)
                guard let i = Int(line) else { throw bad("bad GET index") }
                try memoGet(i)
            case .binGet: try memoGet(Int(try r.u8()))
            case .longBinGet: try memoGet(Int(try r.le(UInt32.self)))
            case .global:
                let module = String(decoding: try r.line(limit: 256), as: UTF8.self)
                let name = String(decoding: try r.line(limit: 256), as: UTF8.self)
                try push(try globalName(module, name))
            case .stackGlobal:
                let n = try pop(), m = try pop()
                guard case let .string(name) = n, case let .string(module) = m else { throw bad("STACK_GLOBAL needs two strings") }
                try push(try globalName(module, name))
            case .reduce:
                let args = try pop(), callee = try pop()
                guard case let .global(g) = callee else {
                    // Calling the result of a call (or anything not a plain name) is never interpreted.
                    try push(newObject(PickleGlobal(module: "<call>", name: callee.typeName), args))
                    continue
                }
                guard case let .tuple(a) = args else { throw bad("REDUCE arguments are \(args.typeName), expected tuple") }
                if g.module == "collections", g.name == "OrderedDict" {
                    // OrderedDict() or OrderedDict([(k, v), ...])
                    let d = newDict()
                    if case let .list(pairs)? = a.items.first {
                        for p in pairs.items {
                            guard case let .tuple(kv) = p, kv.items.count == 2 else { throw bad("OrderedDict item is not a pair") }
                            d.items.append((kv.items[0], kv.items[1]))
                        }
                    }
                    try push(.dict(d))
                } else if let v = try TorchRebuild.call(g, a.items, context: r.context) {
                    try push(v)
                } else {
                    try push(newObject(g, args))
                }
            case .newObj:
                let args = try pop(), cls = try pop()
                guard case let .global(g) = cls else { throw bad("NEWOBJ of \(cls.typeName)") }
                if g.module == "collections", g.name == "OrderedDict" { try push(.dict(newDict())) } else { try push(newObject(g, args)) }
            case .newObjEx:
                _ = try pop()
                let args = try pop(), cls = try pop()
                guard case let .global(g) = cls else { throw bad("NEWOBJ_EX of \(cls.typeName)") }
                try push(newObject(g, args))
            case .build:
                let state = try pop()
                switch try top() {
                case .object(let o): o.state = state
                case .dict, .tensor, .list, .set, .tuple: break // OrderedDict `_metadata`, tensor/parameter state: attributes, not data
                default: throw bad("BUILD on \(try top().typeName)")
                }
            case .binPersId:
                let pid = try pop()
                try push(try persistentLoad(pid))
            }
        }
    }

    private func appendItems(_ items: [PickleValue], to target: PickleValue) throws {
        switch target {
        case .list(let l): l.items.append(contentsOf: items)
        case .object(let o): o.extra.append(contentsOf: items)
        default: throw bad("APPEND to \(target.typeName)")
        }
    }

    private func setItems(_ kv: [PickleValue], on target: PickleValue) throws {
        switch target {
        case .dict(let d):
            for i in stride(from: 0, to: kv.count, by: 2) { d.items.append((kv[i], kv[i + 1])) }
        case .object(let o): o.extra.append(contentsOf: kv)
        default: throw bad("SETITEM on \(target.typeName)")
        }
    }
}
