import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the API description, byte for byte the repository's root `openapi.yaml`.
///
/// The bytes are compiled into the binary (SwiftPM `.embedInCode` of `Sources/App/Resources/openapi.yaml`, a
/// symlink to the root file), so the running server needs no file and no resource bundle, and the served
/// document is always the one the binary was built from.
struct OpenAPIController: AppModule, Sendable {
    static let contentType = "application/yaml"

    /// The document's bytes, made once.
    let document = ByteBuffer(bytes: OpenAPIDocument.bytes)

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        router.get("/openapi.yaml", use: Self().serve)
    }

    @Sendable func serve(_ request: Request, context: AppRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: Self.contentType], body: .init(byteBuffer: document))
    }
}

/// The embedded `openapi.yaml`.
enum OpenAPIDocument {
    static var bytes: [UInt8] { PackageResources.openapi_yaml }
}
