// Text exports of `HeadStatistics`: one CSV row per (attention, stage, block, head), and a JSON
// document carrying the same rows plus the definitions, so a reader of the file alone knows what
// each number means.
import Foundation
import HatRecording

extension HeadStatistics {
    /// The definitions written into stats.json (kept short; the full text is in HeadStatistics.swift).
    public static let definitions: [String: String] = [
        "meanDistance": "input pixels; per query sum_k p(k) * |centre(query) - centre(key)|, averaged over queries. "
            + "Grid tokens sit at the centre of their stride x stride cell, carrier tokens at the centre of the pooling box their content came from.",
        "normalizedEntropy": "per query -sum_k p(k) ln p(k) / ln(number of keys), averaged over queries; 0 = one key, 1 = uniform.",
        "carrierShare": "window attention only: per query the probability on the window's carrier keys, averaged over queries.",
        "paddingShare": "window attention on padded stages only: per query the probability on zero-padded keys.",
        "queries.window": "the real (unpadded) grid tokens of every window; the carrier rows of the window attention are not included.",
        "queries.carrier": "all carrier tokens of the stage (global attention).",
        "keys": "all keys of the attention: T = c*c + w*w for window attention (padded tokens included, as the model attends to them), N for carrier attention.",
        "averaging": "sums pooled over every query of every recording; each recording's sums are added exactly, so any grouping of the same images (threads, shards, resumed runs, merged parts) gives the same numbers.",
        "spread": "distanceSpread / entropySpread / carrierSpread: sample standard deviation over the pooled queries (overQueries) and over the images' own means (overImages, with two images or more).",
        "depth": "transformer block index counted across the transformer stages (stage 3 block 0 = 0).",
    ]

    static let csvHeader = "attention,stage,level,block,depth,head,mean_distance_px,normalized_entropy,carrier_share,padding_share,queries,keys,"
        + "images,mean_distance_sd_images,normalized_entropy_sd_images,carrier_share_sd_images"

    /// CSV, one header line then one row per head (window series first, then carrier).
    /// Empty cells mean "does not apply" (no carriers, no padding, a spread over one image).
    public func csv() -> String {
        var out = Self.csvHeader + "\n"
        func num(_ v: Double?) -> String {
            guard let v else { return "" }
            return v.isFinite ? String(format: "%.6g", v) : "nan"
        }
        for s in window + carrier {
            out += [s.attention.rawValue, String(s.level + 1), String(s.level), String(s.block), String(s.depth),
                    String(s.head), num(s.meanDistance), num(s.normalizedEntropy), num(s.carrierShare),
                    num(s.paddingShare), String(s.queries), String(s.keys), String(s.images),
                    num(s.distanceSpread.overImages), num(s.entropySpread.overImages),
                    num(s.carrierSpread?.overImages)].joined(separator: ",") + "\n"
        }
        return out
    }

    /// Pretty-printed JSON with sorted keys: model, input size, recordings, stages, definitions,
    /// window and carrier series, missing blocks. Non-finite numbers become the string "nan".
    public func json() throws -> Data {
        struct Document: Encodable {
            let model: String
            let input: [Int]
            let recordings: Int
            let stages: [StatsStage]
            let definitions: [String: String]
            let window: [HeadStat]
            let carrier: [HeadStat]
            let missing: [String]
            let skipped: [Skipped]
            let coverage: [String]
        }
        let doc = Document(model: model, input: [inputHeight, inputWidth], recordings: recordings, stages: stages,
                           definitions: Self.definitions, window: window, carrier: carrier, missing: missing,
                           skipped: skipped, coverage: coverage)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(doc)
    }

    /// One line per stage and attention for a terminal: the head range of each number, then what
    /// each number shown means.
    public func textSummary() -> [String] {
        var lines = ["\(model) at \(inputHeight) x \(inputWidth), \(recordings) recording(s)"]
        for st in stages {
            lines.append("stage \(st.level + 1): \(st.summary)")
            for kind in AttentionKind.allCases {
                let rows = series(kind).filter { $0.level == st.level }
                guard !rows.isEmpty else { continue }
                let d = rows.map(\.meanDistance), e = rows.map(\.normalizedEntropy)
                var line = "  \(kind.rawValue) attention: mean distance \(Self.span(d)) px, entropy \(Self.span(e))"
                let c = rows.compactMap(\.carrierShare)
                if !c.isEmpty { line += ", carrier share \(Self.span(c))" }
                lines.append(line)
            }
        }
        var shown: [StatsMetric] = [.meanDistance, .normalizedEntropy]
        if (window + carrier).contains(where: { $0.carrierShare != nil }) { shown.append(.carrierShare) }
        let names: [StatsMetric: String] = [.meanDistance: "mean distance", .normalizedEntropy: "entropy", .carrierShare: "carrier share"]
        for m in shown { lines.append("\(names[m]!): " + m.definition) }
        return lines
    }

    /// "a-b" over the values, or "a" when they agree to the printed precision.
    static func span(_ v: [Double]) -> String {
        guard let lo = v.min(), let hi = v.max() else { return "n/a" }
        func f(_ x: Double) -> String {
            if x != 0 && abs(x) < 0.001 { return String(format: "%.1e", x) }
            return String(format: abs(x) >= 10 ? "%.1f" : "%.3f", x)
        }
        let a = f(lo), b = f(hi)
        return a == b ? a : "\(a)-\(b)"
    }
}
