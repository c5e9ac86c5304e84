import PGClient

extension BatchedClickWriter {
    /// Writes one batch and answers its callers.
    func write(_ batch: [Pending]) async {
        defer { batchFinished() }
        let rows = batch.map(\.row)
        do {
            let ids = try await pool.withConnection { connection in
                try await ClickStore.insertBatch(connection, rows: rows)
            }
            for (pending, id) in zip(batch, ids) { pending.continuation.resume(returning: id) }
        } catch  where batch.count > 1 && Self.isRowError(error) {
            // One row broke a constraint: nothing of the batch was written. Write row by row so only that row's
            // caller fails.
            logger.notice("click batch refused by a constraint; writing its rows one by one", metadata: ["rows": "\(batch.count)"])
            await writeOneByOne(batch)
        } catch {
            logger.warning("click batch failed", metadata: ["rows": "\(batch.count)", "error": "\(error)"])
            for pending in batch { pending.continuation.resume(throwing: error) }
        }
    }

    private func writeOneByOne(_ batch: [Pending]) async {
        let rows = batch.map(\.row)
        let results: [Result<Int64, any Error>]
        do {
            results = try await pool.withConnection { connection in
                var results: [Result<Int64, any Error>] = []
                for row in rows {
                    do {
                        results.append(.success(try await ClickStore.insert(connection, row: row)))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return results
            }
        } catch {
            results = Array(repeating: .failure(error), count: batch.count)
        }
        for (pending, result) in zip(batch, results) { pending.continuation.resume(with: result) }
    }

    /// Errors caused by the values of a row (a constraint or a value PostgreSQL cannot store).
    static func isRowError(_ error: any Error) -> Bool {
        if error is ClickError { return true }
        return (error as? PGError)?.failsEveryTime == true
    }
}
