import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the API description, byte for byte the repository's root `openapi.yaml`.
///
/// The bytes are compiled into the binary (SwiftPM `.embedInCode` of `Sources/App/Resources/openapi.yaml`, a
/// symlink to the root file), so the running server needs no file and no resource bundle, and the served
/// document is always the one the binary was built from.
enum OpenAPIRoutes: AppModule {
    static let contentType = "application/yaml"

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let document = ByteBuffer(bytes: OpenAPIDocument.bytes)
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: document))
        }
    }
}

/// The embedded `openapi.yaml`.
enum OpenAPIDocument {
    static var bytes: [UInt8] { PackageResources.openapi_yaml }
}
