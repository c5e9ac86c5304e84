import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One blocking HTTP/1.1 exchange with a server on 127.0.0.1 (`Connection: close`, read to EOF): how the tests
/// talk to the fake host's control port. Blocking keeps the fakes' inspection API synchronous
/// (`fake.callCount("sendMessage")` inside `#expect`); each exchange is a local round trip of well under a
/// millisecond, answered by another process, so no test thread waits on anything in this process.
public enum LoopbackHTTP {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `method path` with `body` (as `application/json`) and returns the status and the body.
    /// - Throws: `Failure` when the connection fails, times out (`timeoutSeconds`) or the answer is not HTTP.
    public static func exchange(
        port: Int, method: String, path: String, body: Data? = nil, timeoutSeconds: Int = 60
    ) throws(Failure) -> (status: Int, body: Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { Glibc.close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect 127.0.0.1:\(port): errno \(errno)") }

        let payload = body ?? Data()
        var request = Data(
            ("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n").utf8)
        request.append(payload)
        let sendError = request.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32? in
            var sent = 0
            while sent < bytes.count {
                let count = send(fd, bytes.baseAddress.map { $0 + sent }, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard count > 0 else { return errno }
                sent += count
            }
            return nil
        }
        if let sendError { throw Failure(description: "send \(method) \(path): errno \(sendError)") }

        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv \(method) \(path): errno \(errno)") }
            answer.append(contentsOf: buffer[0..<count])
        }
        return try parse(answer, request: "\(method) \(path)")
    }

    /// Splits `HTTP/1.1 200 OK\r\n…\r\n\r\nbody`; the body is cut to `Content-Length` when the server sent one.
    static func parse(_ answer: Data, request: String) throws(Failure) -> (status: Int, body: Data) {
        let separator = Data("\r\n\r\n".utf8)
        guard let end = answer.range(of: separator) else {
            throw Failure(description: "\(request): no HTTP answer (\(answer.count) bytes)")
        }
        let head = String(decoding: answer[answer.startIndex..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "\(request): bad status line \(lines.first ?? "")")
        }
        var body = Data(answer[end.upperBound...])
        for line in lines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "content-length",
                let length = Int(pair[1].trimmingCharacters(in: .whitespaces)), length < body.count
            {
                body = Data(body.prefix(length))
            }
        }
        return (status, body)
    }
}
