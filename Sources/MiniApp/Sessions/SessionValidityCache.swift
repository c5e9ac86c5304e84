import Foundation
import Synchronization

/// Remembers, for a short time, sessions whose row was just found live, so that a burst of requests with one token
/// reads the row once. Only positive results are kept: an unknown or revoked session is read again every time.
final class SessionValidityCache: Sendable {
    struct Entry {
        let userID: Int64
        let until: ContinuousClock.Instant
    }

    let ttl: Duration
    let capacity: Int
    let entries: Mutex<[UUID: Entry]>

    init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
        self.entries = Mutex([:])
    }

    /// The cached user id of a live session, if the entry is still fresh.
    func lookup(_ jti: UUID, at now: ContinuousClock.Instant = .now) -> Int64? {
        entries.withLock { entries in
            guard let entry = entries[jti] else { return nil }
            guard entry.until > now else {
                entries[jti] = nil
                return nil
            }
            return entry.userID
        }
    }

    /// Records a live session, for at most `ttl` and never past its expiry.
    func store(_ jti: UUID, userID: Int64, validFor remaining: Duration, at now: ContinuousClock.Instant = .now) {
        let until = now + min(ttl, remaining)
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.until > now }
                // Still full of fresh entries: start over rather than grow (they are only a cache).
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[jti] = Entry(userID: userID, until: until)
        }
    }

    func remove(_ jti: UUID) {
        _ = entries.withLock { $0.removeValue(forKey: jti) }
    }

    func remove(_ jtis: [UUID]) {
        entries.withLock { entries in
            for jti in jtis { entries[jti] = nil }
        }
    }
}
