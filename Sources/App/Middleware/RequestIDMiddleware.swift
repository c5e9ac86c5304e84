import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Outermost middleware: gives each request an id (the client's `X-Request-Id` when it is sane, else a new
/// one), puts it in the request logger's metadata as `request_id`, and sets `X-Request-Id` on every response,
/// errors included.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let mapper: ErrorMapper

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = RequestIDMiddleware.acceptable(request.headers[.xRequestID]) ?? RequestIDMiddleware.generate()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        // Hummingbird's own counter id would be a second, different id in every log line: replace it.
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Only reachable when an error escapes the inner middleware; still answer problem+json with the id.
            response = mapper.problem(for: error, request: request, context: context).response(requestID: id)
        }
        response.headers[.xRequestID] = id
        return response
    }

    /// The client's id when it is 1–128 characters of `A-Z a-z 0-9 - _ . : /+=`, else nil (so ids are safe to log
    /// and to echo).
    static func acceptable(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"),
                UInt8(ascii: "+"), UInt8(ascii: "="):
                true
            default:
                false
            }
        }
        return allowed ? value : nil
    }

    /// A new random id (a version-4 UUID, lowercase), from `getrandom` through `SystemRandomNumberGenerator`:
    /// Foundation's `UUID()` opens and reads `/dev/urandom` on every call.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let bytes = withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
