import Telegram
import Testing

@Suite struct TelegramWebhookAuthTests {
    let auth = TelegramWebhookAuth(secret: "s3cr3t_TOKEN-value")

    @Test func matchingSecretIsAccepted() {
        #expect(auth.isValid("s3cr3t_TOKEN-value"))
    }

    @Test func missingOrDifferentSecretsAreRejected() {
        #expect(!auth.isValid(nil))
        #expect(!auth.isValid(""))
        #expect(!auth.isValid("s3cr3t_TOKEN-valuf"))  // same length, last byte differs
        #expect(!auth.isValid("x3cr3t_TOKEN-value"))  // same length, first byte differs
        #expect(!auth.isValid("s3cr3t_TOKEN-valu"))  // prefix
        #expect(!auth.isValid("s3cr3t_TOKEN-value "))  // longer
        #expect(!auth.isValid("S3CR3T_TOKEN-VALUE"))
    }

    @Test func emptyConfiguredSecretAcceptsNothing() {
        let open = TelegramWebhookAuth(secret: "")
        #expect(!open.isValid(""))
        #expect(!open.isValid(nil))
        #expect(!open.isValid("anything"))
    }
}
