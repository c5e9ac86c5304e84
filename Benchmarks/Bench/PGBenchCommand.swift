import ArgumentParser
import Foundation
import PGClient

/// `telebot-bench pg`: C tasks loop on one workload through a `PGPool` of C connections for a fixed time and report
/// operations per second, to compare with pgbench running the same SQL.
struct PGBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pg",
        abstract: "PGClient throughput on the bench_items table (see scripts/bench-pg)."
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// `SELECT v FROM bench_items WHERE k = $1` with a random k, one statement per unit of work.
        case select
        /// BEGIN; `INSERT INTO bench_items (k, v) VALUES ($1, 'bench') RETURNING id`; COMMIT, through `pool.transaction`.
        case insert
    }

    @Option(help: "libpq connection string or URI.")
    var conninfo: String

    @Option(help: "Pool size, and the number of concurrent tasks.")
    var connections: Int = 8

    @Option(help: "Measured duration in seconds (after a short warm-up).")
    var seconds: Double = 10

    @Option(help: "select or insert.")
    var workload: Workload

    @Option(help: "Largest k to pick (keys are 1...this).")
    var keys: Int = 100_000

    @Flag(help: "Turn the prepared statement cache off (PgBouncer mode).")
    var noPrepare = false

    @Flag(help: "Bypass the pool: one OS thread per PGConnection, no async (shows the synchronous layer's cost).")
    var direct = false

    @Flag(help: "Run the tasks on Swift's cooperative pool (where serve runs requests) instead of PGClient's reactor thread.")
    var globalExecutor = false

    func validate() throws {
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
    }

    func run() async throws {
        if direct {
            let runner = PGDirectRunner(
                conninfo: conninfo, workload: workload, keys: keys, usePreparedStatements: !noPrepare)
            _ = try await runner.run(threads: connections, for: .milliseconds(500))
            let result = try await runner.run(threads: connections, for: .milliseconds(Int(seconds * 1000)))
            print(result.report(workload: workload.rawValue + "-direct", connections: connections))
            return
        }
        let pool = PGPool(
            configuration: PGPoolConfiguration(
                conninfo: conninfo, size: connections, checkoutTimeout: .seconds(30),
                usePreparedStatements: !noPrepare))
        let result: PGBenchResult
        do {
            let runner = PGBenchRunner(pool: pool, workload: workload, keys: keys, onReactor: !globalExecutor)
            // Warm-up: open every connection and prepare the statements (pgbench's tps excludes connecting too).
            _ = try await runner.run(tasks: connections, for: .milliseconds(500))
            result = try await runner.run(tasks: connections, for: .milliseconds(Int(seconds * 1000)))
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        print(result.report(workload: workload.rawValue, connections: connections))
    }
}
