// The options of the commands that run over a dataset (`stats`, `faithfulness`): the folder,
// sharding, batch size and parallelism. The work behind them is HatPipeline's DatasetRunner.
import ArgumentParser
import HatPipeline
import HatSystem

struct DatasetOptions: ParsableArguments {
    @Option(name: .customLong("images"), help: ArgumentHelp("Folder of images (.png, .jpg, .jpeg in any letter case), sorted by the bytes of their names.", valueName: "dir"))
    var folder: String?

    @Flag(help: "Also take the images in the subfolders of --images (e.g. ImageNet's val/<class>/ layout); names are then paths inside it.")
    var recursive = false

    @Option(help: ArgumentHelp("Do part K of N of the input list: the list is cut into blocks (stats: --batch images; faithfulness: one image) and shard K takes blocks floor((K-1)*blocks/N) to floor(K*blocks/N); the same on every machine. Writes partial.json only; `hatscope merge` combines the parts.",
                               valueName: "K/N"))
    var shard: String?

    @Option(help: "Blocks run at once: 0 = automatic (one: a batch already uses every core).")
    var jobs: Int = 0

    func validate() throws {
        guard jobs >= 0 && jobs <= 64 else { throw ValidationError("--jobs must be 0-64 (got \(jobs))") }
        if let s = shard { _ = try ShardSpec(parsing: s) }
    }

    var shardSpec: ShardSpec { (try? shard.map(ShardSpec.init(parsing:))) ?? .whole }

    /// The sorted list of `inputs` then the folder's images, in blocks of `blockSize`.
    func list(inputs: [String], blockSize: Int) throws -> DatasetList {
        try DatasetList.collect(inputs: inputs, folder: folder, recursive: recursive, blockSize: blockSize)
    }

    /// Events that draw `bar` and print notes for skipped inputs and a resumed run.
    func events(_ bar: ProgressLine?, label: String, noteSkips: Bool) -> DatasetRunner.Events {
        DatasetRunner.Events(resumed: { done, total in
            note("resuming an unfinished run: \(done) of \(total) images were done before", progress: bar)
            bar?.update(done, item: "")
        }, progress: { counts, name in
            bar?.update(counts.done, item: name)
        }, skipped: { entry in
            if noteSkips { note("skipped \(entry.name): \(entry.reason)", progress: bar) }
        })
    }
}
