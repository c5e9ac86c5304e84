/// The strings Telegram signs: `key=value` lines joined by `\n`, sorted.
///
/// The lines are sorted as whole `key=value` byte strings, as init-data-py and @tma.js/init-data-node do (and as
/// the Bot API text "sorted alphabetically" is implemented by Telegram's own clients for every key they send). Where
/// that differs from sorting by key alone (a key that is a prefix of another followed by a byte below `=`, e.g.
/// `start_param` and `start_param2`; see the vector `edge_sort_order_divergence`) we follow init-data-py.
enum DataCheckString {
    /// For the HMAC check: every pair except `hash` (the `signature` field is included, as Telegram signs it).
    static func hmac(_ pairs: [InitDataPair]) -> [UInt8] {
        joinedSortedLines(pairs.filter { $0.key != "hash" })
    }

    /// For the Ed25519 check: `"{bot_id}:WebAppData\n"` then every pair except `hash` and `signature`.
    static func ed25519(_ pairs: [InitDataPair], botID: Int64) -> [UInt8] {
        Array("\(botID):WebAppData\n".utf8) + joinedSortedLines(pairs.filter { $0.key != "hash" && $0.key != "signature" })
    }

    static func joinedSortedLines(_ pairs: [InitDataPair]) -> [UInt8] {
        // UTF-8 byte order equals code point order, which is what Python's str sort uses.
        let lines = pairs.map { Array("\($0.key)=\($0.value)".utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "\n")) }
            out.append(contentsOf: line)
        }
        return out
    }
}
