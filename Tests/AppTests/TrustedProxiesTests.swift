import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import App

/// `TRUSTED_PROXIES` parsing and the client address the sign-in limiter keys on.
@Suite struct TrustedProxiesTests {
    static func proxies(_ text: String) throws -> TrustedProxies {
        try TrustedProxies.parse(text).get()
    }

    @Test func withoutTrustedProxiesThePeerIsTheClient() throws {
        let none = TrustedProxies.none
        #expect(none.clientAddress(peer: "198.51.100.4", forwardedFor: ["203.0.113.9"]) == "198.51.100.4")
        #expect(none.clientAddress(peer: nil, forwardedFor: ["203.0.113.9"]) == nil)
        // A dual-stack socket's IPv4-mapped peer is the IPv4 address.
        #expect(none.clientAddress(peer: "::ffff:198.51.100.4", forwardedFor: []) == "198.51.100.4")
    }

    @Test func behindTrustedProxiesTheRightMostUntrustedHopIsTheClient() throws {
        let trusted = try Self.proxies("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")
        // Peer trusted: the hop it appended.
        #expect(trusted.clientAddress(peer: "10.1.2.3", forwardedFor: ["1.1.1.1, 203.0.113.9"]) == "203.0.113.9")
        // A chain of trusted proxies is skipped, across several header fields too.
        #expect(trusted.clientAddress(peer: "10.1.2.3", forwardedFor: ["1.1.1.1, 203.0.113.9", "192.0.2.7, 10.9.9.9"]) == "203.0.113.9")
        // IPv6 hops and peers.
        #expect(trusted.clientAddress(peer: "2001:db8::1", forwardedFor: ["2001:DB8:0:0::5, 2001:db9::1"]) == "2001:db9::1")
        #expect(trusted.clientAddress(peer: "2001:db8::1", forwardedFor: ["2001:db8::5"]) == "2001:db8::5")
        // No header: the proxy itself.
        #expect(trusted.clientAddress(peer: "10.1.2.3", forwardedFor: []) == "10.1.2.3")
        // An untrusted peer's header is ignored, however it looks.
        #expect(trusted.clientAddress(peer: "198.51.100.4", forwardedFor: ["10.0.0.1"]) == "198.51.100.4")
        #expect(trusted.clientAddress(peer: "11.0.0.1", forwardedFor: ["203.0.113.9"]) == "11.0.0.1")
        // Garbage reported by a trusted proxy is a key of its own, bounded.
        let garbage = trusted.clientAddress(peer: "10.0.0.1", forwardedFor: [String(repeating: "x", count: 500)])
        #expect(garbage?.count == 64)
    }

    @Test func prefixesMatchBitByBit() throws {
        let trusted = try Self.proxies("192.168.4.0/22,fd00::/7,0.0.0.0/0")
        #expect(trusted.trusts("1.2.3.4"))
        let narrow = try Self.proxies("192.168.4.0/22,fd00::/8")
        #expect(narrow.trusts("192.168.7.255"))
        #expect(!narrow.trusts("192.168.8.0"))
        #expect(narrow.trusts("fc00::1") == false)
        #expect(narrow.trusts("fd12::1"))
        #expect(narrow.trusts("::ffff:192.168.5.1"))
        #expect(!narrow.trusts("not-an-address"))
    }

    @Test func badEntriesAreRefusedAtStartNamingTheVariable() throws {
        for text in ["10.0.0.0/33", "fd00::/129", "300.1.1.1", "10.0.0.0/", "example.com", "10.0.0.0/x"] {
            #expect(throws: AppConfig.Invalid.self, "\(text)") {
                _ = try AppTestSupport.config(["TRUSTED_PROXIES": text])
            }
            do {
                _ = try AppTestSupport.config(["TRUSTED_PROXIES": "192.0.2.1, " + text])
            } catch let error as AppConfig.Invalid {
                #expect(error.variable == "TRUSTED_PROXIES")
                #expect(error.description.contains(text))
            }
        }
        let config = try AppTestSupport.config(["TRUSTED_PROXIES": " 10.0.0.0/8 , ::1 "])
        #expect(config.trustedProxies.networks.count == 2)
        #expect(config.redactedDescription["trusted_proxies"] == "10.0.0.0/8,::1/128")
    }
}
