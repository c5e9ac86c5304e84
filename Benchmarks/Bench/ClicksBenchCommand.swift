import ArgumentParser
import Marketing
import PGClient

/// `telebot-bench clicks`: click inserts per second with N concurrent callers, one INSERT per click versus
/// `BatchedClickWriter` (one multi-row INSERT per batch), on the same pool. Prints both and the ratio.
/// Needs a migrated database; it creates its own users and deletes them and their clicks afterwards.
struct ClicksBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clicks",
        abstract: "Marketing click writes: batched vs one insert per request."
    )

    @Option(help: "libpq connection string or URI of a migrated database.")
    var conninfo: String

    @Option(help: "Pool size (DB_POOL_SIZE).")
    var connections: Int = 10

    @Option(help: "Concurrent callers.")
    var concurrency: Int = 64

    @Option(help: "Measured seconds per mode (after a 0.5 s warm-up).")
    var seconds: Double = 5

    @Option(help: "BatchedClickWriter: most rows per statement.")
    var batchSize: Int = 256

    @Option(help: "BatchedClickWriter: longest wait for a batch to fill, in milliseconds.")
    var delayMs: Int = 2

    @Option(help: "BatchedClickWriter: batches written at once.")
    var flushes: Int = 2

    func validate() throws {
        guard connections >= 1, concurrency >= 1, seconds > 0, batchSize >= 1, delayMs >= 0, flushes >= 1 else {
            throw ValidationError("every option must be positive")
        }
    }

    func run() async throws {
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: conninfo, size: connections, checkoutTimeout: .seconds(30)))
        let duration = Duration.milliseconds(Int(seconds * 1000))
        let writer = BatchedClickWriter.Configuration(
            maxBatchSize: batchSize, maxDelay: .milliseconds(delayMs), maxConcurrentFlushes: flushes)
        do {
            let unbatched = try await ClickWriteBenchmark.run(pool: pool, mode: .unbatched, concurrency: concurrency, duration: duration)
            print(unbatched)
            let batched = try await ClickWriteBenchmark.run(
                pool: pool, mode: .batched, concurrency: concurrency, duration: duration, writerConfiguration: writer)
            print(batched)
            let ratio = unbatched.clicksPerSecond > 0 ? batched.clicksPerSecond / unbatched.clicksPerSecond : 0
            print("ratio batched/unbatched: \((ratio * 100).rounded() / 100)x")
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }
}
