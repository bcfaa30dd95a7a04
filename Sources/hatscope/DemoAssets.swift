// Finding the embedded demo (model, images, class names) at run time.
//
// The demo files live in the repository's `assets/` folder rather than in SwiftPM resources:
// resources of an executable target end up in a separate bundle folder that is easy to lose when
// the binary is copied, while `assets/` sits at a fixed place relative to every build folder
// (`.build/release/hatscope`, `.build/x86_64-unknown-linux-gnu/release/hatscope`, `.build-x/debug/...`).
// Lookup order:
//   1. $HATSCOPE_ASSETS (must be a folder holding demo/fastervit_demo.pth.tar),
//   2. the executable's folder and its ancestors: `<dir>/assets` or `<dir>/share/hatscope/assets`,
//   3. `./assets` in the current directory.
import Foundation

/// Why the embedded demo could not be used; one line each, naming what to do.
enum DemoAssetsError: Error, CustomStringConvertible {
    case overrideInvalid(String)
    case notFound(searched: [String])
    case unreadable(String, String)

    var description: String {
        switch self {
        case .overrideInvalid(let dir):
            return "HATSCOPE_ASSETS=\(dir) does not hold demo/\(DemoAssets.checkpointName); point it at the repository's assets/ folder"
        case .notFound(let searched):
            return "the embedded demo (assets/demo/\(DemoAssets.checkpointName)) was not found next to the executable "
                + "(looked in \(searched.prefix(3).joined(separator: ", "))\(searched.count > 3 ? ", ..." : "")); "
                + "set HATSCOPE_ASSETS to the repository's assets/ folder or pass --checkpoint"
        case .unreadable(let path, let why):
            return "cannot read \(path): \(why)"
        }
    }
}

enum DemoAssets {
    static let checkpointName = "fastervit_demo.pth.tar"
    /// The image the explorer and `predict` open when none is given: a "same colour" example
    /// whose two shapes (blue square top right, blue circle bottom left) sit in diagonally
    /// opposite stage-3 windows, so the answer has to cross the carrier tokens.
    static let defaultImageName = "demo_05.png"

    /// Absolute path of the `assets/` folder.
    static func root() throws -> String {
        let fm = FileManager.default
        func holdsDemo(_ dir: String) -> Bool {
            fm.fileExists(atPath: dir + "/demo/" + checkpointName)
        }
        if let env = ProcessInfo.processInfo.environment["HATSCOPE_ASSETS"], !env.isEmpty {
            let dir = absolute(env)
            guard holdsDemo(dir) else { throw DemoAssetsError.overrideInvalid(env) }
            return dir
        }
        var searched: [String] = []
        if let exe = executablePath() {
            // Walk up from the executable's folder; 6 levels covers every SwiftPM build layout.
            var dir = (exe as NSString).deletingLastPathComponent
            for _ in 0..<6 {
                for candidate in [dir + "/assets", dir + "/share/hatscope/assets"] {
                    if holdsDemo(candidate) { return candidate }
                    searched.append(candidate)
                }
                let parent = (dir as NSString).deletingLastPathComponent
                if parent == dir { break }
                dir = parent
            }
        }
        let cwd = fm.currentDirectoryPath + "/assets"
        if holdsDemo(cwd) { return cwd }
        searched.append(cwd)
        throw DemoAssetsError.notFound(searched: searched)
    }

    /// The demo checkpoint (official training-dict format, 2 classes).
    static var checkpoint: String {
        get throws { try root() + "/demo/" + checkpointName }
    }

    /// The demo image used when no --image is given.
    static var defaultImage: String {
        get throws { try root() + "/demo/images/" + defaultImageName }
    }

    /// The demo model's class names, in logit order.
    static var classNames: [String] {
        get throws { try readLines(try root() + "/demo/classes.txt") }
    }

    /// The 1000 ImageNet-1k class names in index order, first synonym only ("tench").
    static func imagenetClasses() throws -> [String] {
        try readLines(try root() + "/imagenet_classes.txt").map { line in
            String(line.split(separator: ",", maxSplits: 1).first ?? Substring(line))
                .trimmingCharacters(in: .whitespaces)
        }
    }

    /// Names for the classes of the model loaded from `checkpointPath`, or nil when none fit:
    /// a `classes.txt` (or `<checkpoint name>.classes.txt`) beside the checkpoint with exactly
    /// `count` lines wins; otherwise ImageNet-1k names when `count` is 1000.
    static func classNames(forCheckpoint checkpointPath: String, count: Int) -> [String]? {
        let dir = (checkpointPath as NSString).deletingLastPathComponent
        let base = (checkpointPath as NSString).lastPathComponent
        for candidate in [checkpointPath + ".classes.txt", dir + "/" + base + ".classes.txt", dir + "/classes.txt"] {
            if let names = try? readLines(candidate), names.count == count { return names }
        }
        if count == 1000, let names = try? imagenetClasses(), names.count == 1000 { return names }
        return nil
    }

    /// Non-empty lines of a UTF-8 text file.
    static func readLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DemoAssetsError.unreadable(path, "no such file or not readable")
        }
        return String(decoding: data, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The running executable's absolute path (symlinks resolved), if the platform tells us.
    private static func executablePath() -> String? {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return link
        }
        if let path = Bundle.main.executablePath { return absolute(path) }
        return nil
    }

    private static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let full = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        return (full as NSString).standardizingPath
    }
}
