#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks, before anything else starts, that `serve` can listen on HOST:PORT, so a busy port ends with one line
/// that says what to do instead of a NIO `bind(descriptor:…)` error after unrelated shutdown warnings.
///
/// It binds a throwaway socket the way the HTTP server will (`SO_REUSEADDR`, every address HOST resolves to) and
/// closes it at once. Another process could still take the port in between; the server's own bind error remains
/// the last word then.
enum ListenCheck {
    /// Throws a `CommandFailure` (exit code 2) naming the address and the reason when HOST:PORT cannot be bound.
    static func verify(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw CommandFailure("cannot listen on \(host):\(port): cannot resolve HOST (set HOST)", exitCode: 2)
        }
        defer { freeaddrinfo(first) }
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            if let errorNumber = bindError(info.pointee) {
                throw CommandFailure(message(host: host, port: port, errno: errorNumber), exitCode: 2)
            }
            next = info.pointee.ai_next
        }
    }

    /// The errno of binding one resolved address, or nil when it could be bound.
    private static func bindError(_ info: addrinfo) -> Int32? {
        let descriptor = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
        guard descriptor >= 0 else { return nil }  // no socket of this family here: the server will say so itself
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return bind(descriptor, info.ai_addr, info.ai_addrlen) == 0 ? nil : errno
    }

    static func message(host: String, port: Int, errno errorNumber: Int32) -> String {
        let address = "cannot listen on \(host):\(port)"
        switch errorNumber {
        case EADDRINUSE: return "\(address): address already in use (is another telebot running? set PORT)"
        case EACCES: return "\(address): permission denied (ports below 1024 need privileges; set PORT)"
        case EADDRNOTAVAIL: return "\(address): address not available on this machine (set HOST)"
        default: return "\(address): \(String(cString: strerror(errorNumber)))"
        }
    }
}
