import Foundation

/// A strict reader of the Prometheus text exposition format 0.0.4, enough to prove `/metrics` parses: comment
/// lines, one `# TYPE` per family before its samples, sample lines `name{label="value",...} value`, valid names,
/// escaped label values, numeric values, no duplicate series, histograms with `le` buckets, `_sum` and `_count`.
struct PrometheusText {
    struct Sample: Hashable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    private(set) var types: [String: String] = [:]
    private(set) var samples: [Sample] = []

    init(_ text: String) throws {
        var seriesSeen: Set<String> = []
        var familiesWithSamples: Set<String> = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count >= 2 else { continue }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, PrometheusText.isMetricName(parts[2]) else {
                        throw ParseError(line: number + 1, reason: "bad TYPE line: \(line)")
                    }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw ParseError(line: number + 1, reason: "unknown type \(parts[3])")
                    }
                    guard types[parts[2]] == nil else { throw ParseError(line: number + 1, reason: "second TYPE for \(parts[2])") }
                    guard !familiesWithSamples.contains(parts[2]) else {
                        throw ParseError(line: number + 1, reason: "TYPE after samples of \(parts[2])")
                    }
                    types[parts[2]] = parts[3]
                }
                continue
            }
            let sample = try PrometheusText.parseSample(line, number: number + 1)
            let family = PrometheusText.family(of: sample.name, types: types)
            familiesWithSamples.insert(family)
            let key = sample.name + "|" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            guard seriesSeen.insert(key).inserted else { throw ParseError(line: number + 1, reason: "duplicate series \(key)") }
            samples.append(sample)
        }
        for (name, type) in types where type == "histogram" {
            let buckets = samples.filter { $0.name == name + "_bucket" }
            let hasInf = buckets.contains { $0.labels["le"] == "+Inf" }
            if !buckets.isEmpty && !hasInf { throw ParseError(line: 0, reason: "histogram \(name) without +Inf bucket") }
            if !buckets.isEmpty && !samples.contains(where: { $0.name == name + "_count" }) {
                throw ParseError(line: 0, reason: "histogram \(name) without _count")
            }
        }
    }

    /// The value of the series `name` with exactly `labels`, if present.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func family(of sample: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return sample
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == ":" else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == ":"
        }
    }

    static func parseSample(_ line: String, number: Int) throws -> Sample {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[line.startIndex..<index])
        guard isMetricName(name) else { throw ParseError(line: number, reason: "bad metric name \(name)") }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while index < line.endIndex, line[index] != "}" {
                var labelEnd = index
                while labelEnd < line.endIndex, line[labelEnd] != "=" { labelEnd = line.index(after: labelEnd) }
                let label = String(line[index..<labelEnd])
                guard isMetricName(label), !label.contains(":"), labelEnd < line.endIndex else {
                    throw ParseError(line: number, reason: "bad label name \(label)")
                }
                index = line.index(after: labelEnd)
                guard index < line.endIndex, line[index] == "\"" else { throw ParseError(line: number, reason: "unquoted label value") }
                index = line.index(after: index)
                var value = ""
                while index < line.endIndex, line[index] != "\"" {
                    if line[index] == "\\" {
                        index = line.index(after: index)
                        guard index < line.endIndex else { break }
                        switch line[index] {
                        case "n": value.append("\n")
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        default: throw ParseError(line: number, reason: "bad escape in label value")
                        }
                    } else {
                        value.append(line[index])
                    }
                    index = line.index(after: index)
                }
                guard index < line.endIndex else { throw ParseError(line: number, reason: "unterminated label value") }
                index = line.index(after: index)
                guard labels.updateValue(value, forKey: label) == nil else {
                    throw ParseError(line: number, reason: "label \(label) twice")
                }
                if index < line.endIndex, line[index] == "," { index = line.index(after: index) }
            }
            guard index < line.endIndex else { throw ParseError(line: number, reason: "unterminated label set") }
            index = line.index(after: index)
        }
        let rest = line[index...].split(separator: " ")
        guard (1...2).contains(rest.count) else { throw ParseError(line: number, reason: "bad sample: \(line)") }
        let text = String(rest[0])
        let value: Double? =
            switch text {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(text)
            }
        guard let value else { throw ParseError(line: number, reason: "bad value \(text)") }
        if rest.count == 2, Int64(rest[1]) == nil { throw ParseError(line: number, reason: "bad timestamp") }
        return Sample(name: name, labels: labels, value: value)
    }
}
