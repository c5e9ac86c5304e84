/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held. Tests wait on the
/// state they need rather than on the clock, so a busy machine makes them slower, not red.
public func eventually(
    timeout: Duration = .seconds(60), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
