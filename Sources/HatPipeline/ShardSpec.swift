// `--shard K/N`: which part of a dataset run this process does. The sorted input list is cut into
// blocks of `--batch` images (block b = images b*B ..< (b+1)*B; a block is one batch through the
// network), and shard K of N takes the contiguous blocks floor((K-1)*nb/N) ..< floor(K*nb/N) of
// the nb blocks. Whole blocks, so every image goes through the network in the same batch as in a
// single run over the whole list, and the sums come out the same to the last bit. Nothing here
// depends on the machine: the same list gives the same slices everywhere.
import Foundation

public struct ShardSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// K, from 1.
    public let index: Int
    /// N.
    public let count: Int

    /// The whole list.
    public static let whole = ShardSpec(checked: 1, 1)

    /// Largest N taken (a shard per image of ImageNet's training set is far below it).
    public static let maxCount = 1_000_000

    private init(checked index: Int, _ count: Int) { self.index = index; self.count = count }

    /// Reads "K/N" (1 <= K <= N).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw PipelineError("--shard must be K/N, e.g. 3/8 for the third of eight parts (got '\(text)')")
        }
        guard n >= 1, n <= Self.maxCount, k >= 1, k <= n else {
            throw PipelineError("--shard \(text): K must be 1-N and N 1-\(Self.maxCount) (shards are numbered from 1)")
        }
        self.init(checked: k, n)
    }

    public var description: String { "\(index)/\(count)" }
    public var isWhole: Bool { count == 1 }

    /// The blocks of this shard among `blocks` blocks.
    public func blocks(of blocks: Int) -> Range<Int> {
        Self.start(index - 1, count, blocks) ..< Self.start(index, count, blocks)
    }

    /// floor(k * blocks / n) (k <= 10^6, so the product fits for any list a machine can hold).
    private static func start(_ k: Int, _ n: Int, _ blocks: Int) -> Int { k * blocks / n }
}
