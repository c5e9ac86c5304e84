import ArgumentParser
import Foundation
import Logging
import PGClient
import Support
import Telegram

/// `telebot telegram set-webhook --url URL` and `telebot telegram webhook-info`: register the webhook with the
/// Bot API and show what Telegram has. Read `TELEGRAM_BOT_TOKEN` (and `TELEGRAM_API_BASE_URL`,
/// `TELEGRAM_WEBHOOK_SECRET`) from the environment; the token and the secret are never printed.
struct TelegramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telegram",
        abstract: "Register the Telegram webhook and show its state.",
        subcommands: [SetWebhook.self, WebhookInfo.self])

    /// The update types the server handles.
    static let allowedUpdates = ["message", "callback_query", "pre_checkout_query"]

    static func client() throws -> BotAPIClient {
        let reader = EnvironmentReader(ProcessInfo.processInfo.environment)
        let token = try reader.required("TELEGRAM_BOT_TOKEN", why: "is required: the bot token from @BotFather")
        let baseURL = try reader.url("TELEGRAM_API_BASE_URL", default: "https://api.telegram.org")
        var logger = Logger(label: "telebot.telegram.cli")
        logger.logLevel = .critical
        return BotAPIClient(configuration: BotAPIConfiguration(token: token, baseURL: baseURL), logger: logger)
    }

    struct SetWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-webhook",
            abstract: "setWebhook with TELEGRAM_WEBHOOK_SECRET as secret_token and the update types the server handles.")

        @Option(help: "The public https URL of POST /webhooks/telegram.")
        var url: String

        func run() async throws {
            let reader = EnvironmentReader(ProcessInfo.processInfo.environment)
            let secret = try reader.required(
                "TELEGRAM_WEBHOOK_SECRET", why: "is required: the secret_token Telegram sends with every update")
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw CommandFailure("telegram set-webhook: --url must be an http(s) URL", exitCode: 2)
            }
            let bot = try TelegramCommand.client()
            let request = SetWebhookRequest(
                url: url, secretToken: secret, allowedUpdates: TelegramCommand.allowedUpdates, dropPendingUpdates: false)
            do {
                _ = try await bot.call("setWebhook", body: request, as: Bool.self)
            } catch {
                throw CommandFailure("telegram set-webhook: Telegram refused: \(error)")
            }
            print("telegram set-webhook: ok (\(url); allowed_updates \(TelegramCommand.allowedUpdates.joined(separator: ",")))")
        }
    }

    struct WebhookInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "webhook-info", abstract: "Print getWebhookInfo as JSON.")

        func run() async throws {
            let bot = try TelegramCommand.client()
            let info: JSONValue
            do {
                info = try await bot.call("getWebhookInfo", body: EmptyRequest(), as: JSONValue.self)
            } catch {
                throw CommandFailure("telegram webhook-info: \(error)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(info), as: UTF8.self))
        }
    }

    struct EmptyRequest: Encodable, Sendable {}

    /// Parameters of `setWebhook`.
    struct SetWebhookRequest: Encodable, Sendable {
        var url: String
        var secretToken: String
        var allowedUpdates: [String]
        var dropPendingUpdates: Bool

        enum CodingKeys: String, CodingKey {
            case url
            case secretToken = "secret_token"
            case allowedUpdates = "allowed_updates"
            case dropPendingUpdates = "drop_pending_updates"
        }
    }
}
