/// Count, mean, median and 90th percentile of a list of durations (seconds).
///
/// Median: the middle value, or the mean of the two middle values for an even count.
/// p90: nearest rank — the value at rank ⌈0.9 × n⌉ of the sorted list. Empty lists have a
/// count of 0 and no other values.
public struct Summary: Sendable, Hashable, Codable {
    public let count: Int
    public let mean: Double?
    public let median: Double?
    public let p90: Double?

    public init(_ values: [Double]) {
        count = values.count
        guard !values.isEmpty else {
            mean = nil
            median = nil
            p90 = nil
            return
        }
        let sorted = values.sorted()
        mean = sorted.reduce(0, +) / Double(sorted.count)
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let rank = Int((0.9 * Double(sorted.count)).rounded(.up))
        p90 = sorted[max(0, min(sorted.count, rank) - 1)]
    }
}
