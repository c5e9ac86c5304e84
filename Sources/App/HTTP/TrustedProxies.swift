import Foundation
import HTTPTypes

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `TRUSTED_PROXIES`: the addresses (IPv4/IPv6, single or CIDR) of the load balancers in front of the server.
/// Only a request whose TCP peer is one of them has its `X-Forwarded-For` believed, and then only as far as the
/// chain of trusted hops goes: the client is the right-most hop that is not itself a trusted proxy.
struct TrustedProxies: Sendable, Equatable {
    /// One network: address bytes (4 or 16) and prefix length.
    struct Network: Sendable, Equatable, CustomStringConvertible {
        let bytes: [UInt8]
        let prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for index in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if address[index] & mask != bytes[index] & mask { return false }
                remaining -= bits
            }
            return true
        }

        var description: String { "\(IPAddress.text(bytes))/\(prefix)" }
    }

    let networks: [Network]

    static let none = TrustedProxies(networks: [])

    init(networks: [Network]) { self.networks = networks }

    /// Parses a comma-separated list (`10.0.0.0/8, 192.0.2.7, fd00::/8`); a failure names the entry that is wrong.
    static func parse(_ text: String) -> Result<TrustedProxies, ParseFailure> {
        var networks: [Network] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bytes = IPAddress.parse(String(parts[0])) else { return .failure(ParseFailure(entry: entry)) }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let value = Int(parts[1]), (0...bytes.count * 8).contains(value) else {
                    return .failure(ParseFailure(entry: entry))
                }
                prefix = value
            }
            networks.append(Network(bytes: bytes, prefix: prefix))
        }
        return .success(TrustedProxies(networks: networks))
    }

    struct ParseFailure: Error {
        let entry: String
    }

    func trusts(_ address: String) -> Bool {
        guard !networks.isEmpty, let bytes = IPAddress.parse(address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    /// The address to key per-client limits on.
    /// - Parameters:
    ///   - peer: the TCP peer's IP address (nil when unknown: in-process tests, Unix sockets).
    ///   - forwardedFor: every `X-Forwarded-For` field value, in order.
    /// - Returns: the peer, unless it is trusted; then the right-most forwarded hop that is not trusted (or the
    ///   left-most hop when all are trusted, or the peer when there are none).
    func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer else { return nil }
        let normalizedPeer = IPAddress.parse(peer).map(IPAddress.text) ?? peer
        guard trusts(normalizedPeer) else { return normalizedPeer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trusts(hop) {
            // Whatever the trusted proxy reported; keyed as text (bounded), normalized when it is an address.
            return IPAddress.parse(hop).map(IPAddress.text) ?? String(hop.prefix(64))
        }
        return hops.first.map { IPAddress.parse($0).map(IPAddress.text) ?? String($0.prefix(64)) } ?? normalizedPeer
    }
}

/// IPv4/IPv6 text ↔ bytes through `inet_pton`/`inet_ntop`. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what
/// a dual-stack socket reports for an IPv4 peer) are taken as the IPv4 address.
enum IPAddress {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        // A zone (`fe80::1%eth0`) is not part of the address.
        let bare = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12..<16]) }
        return bytes
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
