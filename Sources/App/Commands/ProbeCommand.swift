import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// `telebot probe [--url URL]`: a container healthcheck. GETs the readiness probe of a running `serve` and exits 0
/// on 200, 1 otherwise, with one line saying what it saw. Needs nothing but the binary (no curl in the image).
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Check a running server: exit 0 when GET /health/ready answers 200 (for container healthchecks).")

    @Option(help: "URL to check (default: http://127.0.0.1:$PORT/health/ready, PORT defaulting to 8080).")
    var url: String?

    @Option(name: .customLong("timeout-seconds"), help: "Give up after this many seconds.")
    var timeoutSeconds: Int = 3

    var target: String {
        if let url { return url }
        let port = ProcessInfo.processInfo.environment["PORT"].flatMap(Int.init) ?? 8080
        return "http://127.0.0.1:\(port)/health/ready"
    }

    func run() async throws {
        let request = HTTPClientRequest(url: target)
        let status: UInt
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(max(1, timeoutSeconds))))
            status = response.status.code
        } catch {
            throw CommandFailure("probe: \(target): no answer (\(error))")
        }
        guard status == 200 else { throw CommandFailure("probe: \(target): status \(status)") }
        print("probe: \(target): ok")
    }
}
