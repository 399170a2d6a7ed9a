import StatesEngine
import StatesLanguage
import Testing

@Suite struct TaskTokenTests {
    /// 88 base64 characters starting "AQB", like AWS's; later tokens sort after earlier ones
    /// (the store's token indexes grow at their right edge), and the rest is random.
    @Test func tokensAreOpaqueAndSortByTime() {
        let random = RandomSource(seed: 7)
        let base64 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let times: [Int64] = [0, 1, 63, 64, 1_764_000_000_000, 1_764_000_000_001, 1_764_000_060_000, 1 << 47]
        let tokens = times.map { TaskTokens.make(random, now: $0) }
        for t in tokens {
            #expect(t.count == 88 && t.hasPrefix("AQB") && t.allSatisfy { base64.contains($0) }, "\(t)")
        }
        #expect(zip(tokens, tokens.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        // Same millisecond: the random part tells them apart.
        let same = (0..<100).map { _ in TaskTokens.make(random, now: 1_764_000_000_000) }
        #expect(Set(same).count == 100 && Set(same.map { $0.prefix(11) }).count == 1)
    }
}
