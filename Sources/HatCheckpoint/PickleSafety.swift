// Which globals a pickle may name. Nothing is ever imported or called; this policy decides only
// (1) which names the reader interprets (the allowlist: OrderedDict, torch's rebuild functions,
// storage and dtype names) and (2) which names make the whole file refused because no checkpoint
// has a legitimate reason to mention them (process execution, code evaluation, file access,
// attribute tricks). Every other global becomes an inert value.

enum PickleSafety {
    /// Modules whose mere mention refuses the file (and any submodule: "os.path", "subprocess.x").
    static let refusedModules: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "pickle", "_pickle",
        "marshal", "runpy", "pty", "ctypes", "code", "codeop", "commands", "multiprocessing", "signal",
        "webbrowser", "pdb", "bdb", "timeit", "tempfile", "io", "_io", "pathlib", "glob", "asyncio",
        "threading", "_thread", "platform", "urllib", "http", "ftplib", "smtplib", "telnetlib",
        "operator", "functools", "inspect", "types", "gc", "ssl", "select", "selectors", "cProfile",
        "profile", "trace", "site", "sysconfig", "distutils", "setuptools", "pip", "zipimport",
        "torch.hub", "torch.jit", "torch._dynamo", "torch.utils.cpp_extension", "numpy.testing",
        "numpy.f2py", "numpy.distutils", "nt", "_posixsubprocess", "posixpath", "ntpath", "genericpath",
    ]

    /// Builtins that are plain data constructors; every other builtin (eval, exec, getattr,
    /// __import__, open, compile, ...) refuses the file.
    static let harmlessBuiltins: Set<String> = [
        "set", "frozenset", "list", "dict", "tuple", "bytearray", "bytes", "slice", "complex", "range",
        "int", "float", "bool", "str", "object",
    ]

    static let builtinModules: Set<String> = ["builtins", "__builtin__", "__builtins__"]

    /// Throws `CheckpointError.unsafe` for a refused global; returns otherwise.
    static func check(_ g: PickleGlobal) throws {
        let m = g.module
        var prefix = m
        while true {
            if refusedModules.contains(prefix) {
                throw CheckpointError.unsafe("the pickle names \(g), which could run code or touch the system")
            }
            guard let dot = prefix.lastIndex(of: ".") else { break }
            prefix = String(prefix[..<dot])
        }
        if builtinModules.contains(m) && !harmlessBuiltins.contains(g.name) {
            throw CheckpointError.unsafe("the pickle names \(g), which could evaluate code or reach arbitrary objects")
        }
        // Attribute paths ("os.system" hidden as name "path.join", dunder tricks) are refused too.
        if g.name.hasPrefix("__") && g.name != "__builtin__" {
            throw CheckpointError.unsafe("the pickle names \(g), a special attribute")
        }
    }

    /// Storage classes of the zip and legacy formats.
    static let storageTypes: [String: ElementType] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "DoubleStorage": .float64, "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16,
        "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool, "UntypedStorage": .uint8,
    ]

    /// torch dtype globals (`torch.float32`), used by `_rebuild_tensor_v3`.
    static let dtypes: [String: ElementType] = [
        "float32": .float32, "float": .float32, "float16": .float16, "half": .float16,
        "bfloat16": .bfloat16, "float64": .float64, "double": .float64, "int64": .int64, "long": .int64,
        "int32": .int32, "int": .int32, "int16": .int16, "short": .int16, "int8": .int8, "uint8": .uint8,
        "uint16": .uint16, "uint32": .uint32, "uint64": .uint64, "bool": .bool,
    ]
}
