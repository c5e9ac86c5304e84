import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PGClient
import TestSupport
import Testing

@testable import App

/// `openapi.yaml` (repository root) against the real application: the same routes both ways, the same bytes served
/// at `GET /openapi.yaml`, and, without credentials, only documented answers.
@Suite struct OpenAPIParityTests {
    static var documentURL: URL { URL(fileURLWithPath: TestEnvironment.repoRoot + "/openapi.yaml") }

    static func outline() throws -> OpenAPIOutline {
        OpenAPIOutline(text: try String(contentsOf: documentURL, encoding: .utf8))
    }

    @Test func everyRegisteredRouteIsDocumentedAndEveryDocumentedRouteIsRegistered() async throws {
        let documented = try Self.outline().operations.keys
        let registered = try await FullApplication.registeredRoutes()
        #expect(registered.count >= 26, "fewer routes than expected: the full application was not built")
        #expect(Set(registered).count == registered.count, "a route is registered twice: \(registered)")

        let registeredKeys = Set(registered.map(\.key))
        let documentedKeys = Set(documented.map(\.key))
        let undocumented = registeredKeys.subtracting(documentedKeys).sorted()
        let unregistered = documentedKeys.subtracting(registeredKeys).sorted()
        #expect(undocumented.isEmpty, "registered but missing from openapi.yaml: \(undocumented)")
        #expect(unregistered.isEmpty, "in openapi.yaml but not registered: \(unregistered)")
    }

    @Test
    func servesTheRootFileByteForByte() async throws {
        let expected = try Data(contentsOf: Self.documentURL)
        #expect(!expected.isEmpty)
        let embedded = OpenAPIDocument.bytes
        let embeddedMatches = embedded == [UInt8](expected)
        #expect(embeddedMatches, "the embedded document (\(embedded.count) bytes) differs from openapi.yaml (\(expected.count) bytes)")
        try await FullApplication.with { client in
            let response = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.headers[.xRequestID] != nil)
            let served = Data(buffer: response.body)
            let servedMatches = served == expected
            #expect(servedMatches, "served \(served.count) bytes, openapi.yaml has \(expected.count)")
        }
    }

    /// Every documented operation, called without credentials or a body, answers one of its documented statuses;
    /// error answers are problem+json with the documented members.
    @Test func everyOperationAnswersADocumentedStatusWithoutCredentials() async throws {
        let operations = try Self.outline().operations
        try await FullApplication.with { client in
            for (operation, statuses) in operations.sorted(by: { $0.key.key < $1.key.key }) {
                let uri = operation.path.replacingOccurrences(of: "{id}", with: "1")
                    .replacingOccurrences(of: "{file}", with: "app.js")
                let method = HTTPRequest.Method(operation.method.uppercased())
                let response = try await client.execute(uri: uri, method: try #require(method))
                let code = String(response.status.code)
                #expect(statuses.contains(code), "\(operation) answered \(code), documented: \(statuses.sorted())")
                #expect(response.headers[.xRequestID] != nil, "\(operation) has no X-Request-Id")
                guard response.status.code >= 400 else { continue }
                #expect(response.headers[.contentType] == "application/problem+json", "\(operation)")
                let problem = try #require(response.json, "\(operation): \(response.text)")
                #expect(Set(problem.keys).isSubset(of: ["type", "title", "status", "detail", "request_id"]), "\(operation)")
                #expect(problem["type"] is String && problem["title"] is String && problem["detail"] is String)
                #expect(problem["status"] as? Int == Int(response.status.code), "\(operation)")
            }
        }
    }

    @Test func everyReferenceResolvesAndOperationIDsAreUnique() throws {
        let outline = try Self.outline()
        #expect(!outline.references.isEmpty)
        for reference in outline.references {
            let parts = reference.split(separator: "/").map(String.init)
            let resolves =
                parts.count == 4 && parts[0] == "#" && parts[1] == "components"
                && outline.components[parts[2]]?.contains(parts[3]) == true
            #expect(resolves, "unresolved $ref \(reference)")
        }
        #expect(outline.operationIDs.count == outline.operations.count, "every operation needs an operationId")
        #expect(Set(outline.operationIDs).count == outline.operationIDs.count, "duplicate operationId")
    }

    @Test func outlineReaderFindsPathsMethodsAndStatuses() {
        let outline = OpenAPIOutline(
            text: """
                openapi: 3.0.3
                paths:
                  /a/{id}:
                    parameters:
                      - $ref: '#/components/parameters/ID'
                    get:
                      description: |
                        get:
                        '500':
                      responses:
                        '200':
                          description: ok
                        '404':
                          $ref: '#/components/responses/NotFound'
                  '/b':
                    post:
                      operationId: b
                      responses:
                        '201':
                          description: created
                components:
                  parameters:
                    ID:
                      name: id
                """)
        #expect(
            outline.operations == [
                .init(method: "get", path: "/a/{id}"): ["200", "404"], .init(method: "post", path: "/b"): ["201"],
            ])
        #expect(outline.references == ["#/components/parameters/ID", "#/components/responses/NotFound"])
        #expect(outline.components == ["parameters": ["ID"]])
        #expect(outline.operationIDs == ["b"])
    }
}

/// One operation: lowercase method and path template. `key` compares Hummingbird's templates (`:id` or `{id}`,
/// `/miniapp/` and `/miniapp` being one route) with OpenAPI's.
struct OpenAPIOperation: Hashable, Sendable, CustomStringConvertible {
    var method: String
    var path: String

    var key: String {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map { component in
            component.hasPrefix(":") ? "{\(component.dropFirst())}" : String(component)
        }
        return "\(method.uppercased()) /\(components.joined(separator: "/"))"
    }

    var description: String { "\(method.uppercased()) \(path)" }
}

/// What the tests read from `openapi.yaml`, by indentation: the document keeps block style with two spaces per
/// level, so no YAML library is needed. Block scalars (`|`, `>`) are skipped.
struct OpenAPIOutline: Sendable {
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Documented operations and their response status keys (`"200"`, `"default"`...).
    var operations: [OpenAPIOperation: Set<String>] = [:]
    /// Component names by section (`schemas`, `responses`...).
    var components: [String: Set<String>] = [:]
    /// Every `$ref` value, in order.
    var references: [String] = []
    /// Every `operationId`, in order.
    var operationIDs: [String] = []

    init(text: String) {
        var topLevel = ""
        var level = ["", "", "", ""]  // the current keys at indent 2, 4 and 6 (depth 1, 2, 3)
        var blockIndent: Int?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let content = rawLine.drop { $0 == " " }
            let indent = rawLine.count - content.count
            if content.isEmpty || content.hasPrefix("#") { continue }
            if let block = blockIndent {
                if indent > block { continue }
                blockIndent = nil
            }
            if let range = content.range(of: ": "),
                ["|", ">", "|-", ">-", "|+", ">+"].contains(content[range.upperBound...].trimmingCharacters(in: .whitespaces))
            {
                blockIndent = indent
            }
            if let range = content.range(of: "$ref: ") {
                references.append(Self.unquoted(content[range.upperBound...]))
            }
            if content.hasPrefix("operationId: ") {
                operationIDs.append(Self.unquoted(content.dropFirst("operationId: ".count)))
            }
            guard !content.hasPrefix("- "), indent % 2 == 0, let key = Self.key(content) else { continue }
            let depth = indent / 2
            if depth == 0 {
                topLevel = key
            }
            if depth < level.count {
                level[depth] = key
                for deeper in (depth + 1)..<level.count { level[deeper] = "" }
            }
            switch (topLevel, depth) {
            case ("paths", 2) where Self.methods.contains(key):
                operations[OpenAPIOperation(method: key, path: level[1]), default: []].formUnion([])
            case ("paths", 4) where level[3] == "responses" && Self.methods.contains(level[2]):
                operations[OpenAPIOperation(method: level[2], path: level[1]), default: []].insert(key)
            case ("components", 2):
                components[level[1], default: []].insert(key)
            default:
                break
            }
        }
    }

    /// The key of a `key:` or `key: value` line, unquoted; nil for other lines.
    static func key(_ content: Substring) -> String? {
        if content.hasSuffix(":") { return unquoted(content.dropLast()) }
        guard let range = content.range(of: ": ") else { return nil }
        return unquoted(content[..<range.lowerBound])
    }

    static func unquoted(_ text: Substring) -> String {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first {
            text = String(text.dropFirst().dropLast())
        }
        return text
    }
}

/// The application as `serve` builds it, with every optional feature on (admin API, Mini App), over a pool that
/// connects only when a request needs the database.
enum FullApplication {
    static func dependencies() async throws -> (AppConfig, AppDependencies) {
        let config = try AppTestSupport.config(["ADMIN_TOKEN": "openapi-parity-admin-token-0123456789"])
        var dependencies = AppDependencies(
            pool: AppTestSupport.idlePool(), logger: AppTestSupport.quietLogger, readinessTimeout: .seconds(2))
        dependencies.miniApp = try await MiniAppServices(config: config, dependencies: dependencies)
        return (config, dependencies)
    }

    /// Every (method, path template) the full application registers.
    static func registeredRoutes() async throws -> [OpenAPIOperation] {
        let (config, dependencies) = try await dependencies()
        let router = buildRouter(config: config, dependencies: dependencies, modules: AppModules.all)
        await dependencies.pool.close()
        return router.routes.all.map { OpenAPIOperation(method: $0.method.lowercased(), path: $0.path) }
    }

    static func with(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let (config, dependencies) = try await dependencies()
        let app = buildApplication(config: config, dependencies: dependencies, modules: AppModules.all)
        do {
            try await app.test(.router) { client in try await body(client) }
            await dependencies.pool.close()
        } catch {
            await dependencies.pool.close()
            throw error
        }
    }
}
