import Logging
import PGClient

extension PromoScheduler {
    /// Makes the attempt this instance holds and records what happened.
    func send(_ post: ClaimedPost) async {
        let configuration = self.configuration
        var metadata: Logger.Metadata = ["post_id": "\(post.id)", "attempt": "\(post.attempt)"]
        let promo: Promo
        do {
            guard let found = try await pool.withConnection({ try await PromoPostStore.promo($0, id: post.promoID) }) else {
                await fail(post, error: "promo \(post.promoID) not found")
                return
            }
            promo = found
        } catch {
            // Nothing was sent: give the attempt back for a retry.
            await refused(post, error: PromoPublishError(kind: .temporary, message: "loading the promo failed: \(error)"))
            return
        }
        metadata["promo_id"] = "\(promo.id)"
        let messageID: Int64
        do {
            messageID = try await publisher.publish(chatID: configuration.chatID, text: promo.text, buttons: promo.buttons)
        } catch let error as PromoPublishError {
            switch error.kind {
            case .rateLimited, .temporary: await refused(post, error: error)
            case .permanent: await fail(post, error: error.description)
            case .outcomeUnknown:
                logger.error("promo send outcome unknown; not retrying (at most once)", metadata: metadata)
                await fail(post, error: error.description)
            }
            return
        } catch {
            logger.error("promo send outcome unknown; not retrying (at most once)", metadata: metadata)
            await fail(post, error: "outcome unknown: \(error)")
            return
        }
        metrics.recordPost()
        metadata["message_id"] = "\(messageID)"
        await recordSent(post, messageID: messageID, metadata: metadata)
    }

    /// The message exists: record it, retrying the write for a while. If that keeps failing the lease runs out and
    /// the slot ends `failed` (outcome unknown) but is never posted again.
    private func recordSent(_ post: ClaimedPost, messageID: Int64, metadata: Logger.Metadata) async {
        var delay = Duration.milliseconds(100)
        for attempt in 1...6 {
            do {
                try await pool.withConnection { try await PromoPostStore.markSent($0, postID: post.id, messageID: messageID) }
                logger.info("promo posted", metadata: metadata)
                return
            } catch {
                logger.warning(
                    "recording a sent promo failed", metadata: metadata.merging(["error": "\(error)", "try": "\(attempt)"]) { $1 })
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
        logger.error("promo posted but not recorded; the slot will read failed", metadata: metadata)
    }

    /// Telegram said it did not post: schedule a retry, or give up after `maxAttempts`.
    private func refused(_ post: ClaimedPost, error: PromoPublishError) async {
        let configuration = self.configuration
        guard post.attempt < configuration.maxAttempts else {
            await fail(post, error: "attempts used up; last error: \(error.description)")
            return
        }
        let delay = configuration.retryDelay(afterAttempt: post.attempt, retryAfter: error.retryAfter)
        logger.notice(
            "promo send refused; will retry",
            metadata: ["post_id": "\(post.id)", "attempt": "\(post.attempt)", "delay": "\(delay)", "error": "\(error)"])
        do {
            _ = try await pool.withConnection {
                try await PromoPostStore.markRetry(
                    $0, post: post, instanceID: configuration.instanceID, delay: delay, error: error.description)
            }
        } catch {
            // The lease will run out and the slot will read failed; nothing was posted.
            logger.warning("scheduling a promo retry failed", metadata: ["post_id": "\(post.id)", "error": "\(error)"])
        }
    }

    private func fail(_ post: ClaimedPost, error: String) async {
        let instanceID = configuration.instanceID
        logger.warning("promo slot failed", metadata: ["post_id": "\(post.id)", "attempt": "\(post.attempt)", "error": "\(error)"])
        do {
            _ = try await pool.withConnection {
                try await PromoPostStore.markFailed($0, post: post, instanceID: instanceID, error: error)
            }
        } catch {
            logger.warning("marking a promo failed did not work", metadata: ["post_id": "\(post.id)", "error": "\(error)"])
        }
    }
}
