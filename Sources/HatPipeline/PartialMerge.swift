// Combining partial results (`hatscope merge OUT PART...`): parts of one run (same command, model,
// checkpoint, options and input list) covering disjoint blocks are pooled into one partial
// result; since sums are exact, the numbers are those of a single run over the same images,
// whatever the order of the parts. Anything else is refused with one line naming the two parts
// and what differs. Blocks no part covers are reported as missing shards (or missing images when
// the parts were cut differently); the merge still succeeds, so merges can be done in steps.
import Foundation
import HatSystem

public enum PartialMerge {
    public struct Merged<Summary: DatasetSummary, Row: Codable & Sendable> {
        public var partial: PartialResult<Summary, Row>
        /// "missing shards 3/8, 5/8 (250 of 1000 images)", or nil when every block is covered.
        public var missing: String?
    }

    /// Pools `parts` (path, partial) in the order given (the result does not depend on it).
    public static func merge<S, R>(_ parts: [(path: String, partial: PartialResult<S, R>)]) throws -> Merged<S, R> {
        guard let first = parts.first else { throw PipelineError("merge needs at least one partial result") }
        let name = { (i: Int) in UserMessage.name(parts[i].path) }
        for (i, p) in parts.enumerated().dropFirst() {
            if let why = first.partial.fingerprint.difference(from: p.partial.fingerprint) {
                throw PipelineError("\(name(0)) and \(name(i)) cannot be merged: \(why); merge takes the parts of one run")
            }
            let a = first.partial.list, b = p.partial.list
            if a != b {
                throw PipelineError("\(name(0)) and \(name(i)) cannot be merged: they were made from different input lists "
                                    + "(\(a.count) images in blocks of \(a.blockSize), list sha256 \(a.digest.prefix(12)); "
                                    + "\(b.count) in blocks of \(b.blockSize), sha256 \(b.digest.prefix(12)))")
            }
        }
        let list = first.partial.list
        // Overlaps: block ranges in order; a range starting inside an earlier one is an overlap.
        var ranges: [(BlockRange, Int)] = []
        for (i, p) in parts.enumerated() {
            for r in p.partial.blocks {
                guard r.upper <= list.blocks else {
                    throw PipelineError("\(name(i)) names blocks up to \(r.upper), but its list has \(list.blocks)")
                }
                ranges.append((r, i))
            }
        }
        ranges.sort { $0.0 < $1.0 }
        for k in ranges.indices.dropFirst() {
            for j in 0 ..< k where ranges[j].0.upper > ranges[k].0.lower {
                let a = ranges[j].1, b = ranges[k].1
                let overlap = ranges[k].0.lower
                let image = overlap * list.blockSize
                let named = (parts[a].partial.covered + parts[b].partial.covered).first { $0.index >= image }?.name
                throw PipelineError("\(name(a)) and \(name(b)) overlap: both cover "
                                    + (named.map { "\($0) (image \(image + 1) of \(list.count))" } ?? "image \(image + 1) of \(list.count)")
                                    + (a == b ? "" : " (shards \(parts[a].partial.shards.joined(separator: ",")) and \(parts[b].partial.shards.joined(separator: ",")))"))
            }
        }
        var summary = S()
        var covered: [CoveredInput] = [], skipped: [SkippedInput] = [], rows: [IndexedRow<R>] = []
        var shards: [String] = []
        for (i, p) in parts.enumerated() {
            do { try summary.merge(p.partial.summary) } catch {
                throw PipelineError("\(name(i)) does not fit the parts before it: \(error)")
            }
            covered += p.partial.covered; skipped += p.partial.skipped; rows += p.partial.rows
            shards += p.partial.shards
        }
        covered.sort { $0.index < $1.index }
        skipped.sort { $0.index < $1.index }
        rows.sort { $0.index < $1.index }
        let blocks = BlockRange.normalized(ranges.map(\.0))
        let merged = PartialResult(fingerprint: first.partial.fingerprint, list: list, shards: sortedShards(shards),
                                   blocks: blocks, covered: covered, skipped: skipped, summary: summary, rows: rows)
        return Merged(partial: merged, missing: missing(blocks: blocks, shards: shards, list: list))
    }

    /// "3/8" before "10/8"; unparsable ones last, as they are.
    static func sortedShards(_ s: [String]) -> [String] {
        func key(_ x: String) -> (Int, Int) {
            let p = x.split(separator: "/").compactMap { Int($0) }
            return p.count == 2 ? (p[1], p[0]) : (Int.max, Int.max)
        }
        return s.sorted { key($0) < key($1) }
    }

    /// What the covered blocks leave out, in shards when all parts were made as shards of one N.
    static func missing(blocks: [BlockRange], shards: [String], list: DatasetListInfo) -> String? {
        var gaps: [Range<Int>] = []
        var at = 0
        for r in blocks {
            if r.lower > at { gaps.append(at ..< r.lower) }
            at = max(at, r.upper)
        }
        if at < list.blocks { gaps.append(at ..< list.blocks) }
        guard !gaps.isEmpty else { return nil }
        func images(_ r: Range<Int>) -> Int { min(list.count, r.upperBound * list.blockSize) - r.lowerBound * list.blockSize }
        let missingImages = gaps.reduce(0) { $0 + images($1) }
        let counts = Set(shards.compactMap { s -> Int? in
            let p = s.split(separator: "/").compactMap { Int($0) }
            return p.count == 2 ? p[1] : nil
        })
        if counts.count == 1, let n = counts.first {
            let lost = (1 ... n).compactMap { k -> String? in
                let spec = try? ShardSpec(parsing: "\(k)/\(n)")
                guard let r = spec?.blocks(of: list.blocks), !r.isEmpty else { return nil }
                return gaps.contains { $0.overlaps(r) } ? "\(k)/\(n)" : nil
            }
            if !lost.isEmpty {
                let shown = lost.count > 12 ? lost.prefix(12).joined(separator: ", ") + ", ..." : lost.joined(separator: ", ")
                return "missing shard\(lost.count == 1 ? "" : "s") \(shown) (\(missingImages) of \(list.count) images not covered)"
            }
        }
        let shown = gaps.prefix(6).map { r in
            let lo = r.lowerBound * list.blockSize + 1, hi = min(list.count, r.upperBound * list.blockSize)
            return lo == hi ? "image \(lo)" : "images \(lo)-\(hi)"
        }.joined(separator: ", ") + (gaps.count > 6 ? ", ..." : "")
        return "missing \(shown) of the sorted list (\(missingImages) of \(list.count) images not covered)"
    }
}
