import HTTPTypes
import Testing

@testable import App

/// Header names without a swift-http-types constant are matched by their lowercase name, never by a fallback.
@Suite struct RequestHeaderTests {
    @Test func aHeaderIsFoundWhateverItsCaseAndOnlyItself() throws {
        var fields = HTTPFields()
        fields[try #require(HTTPField.Name("STRIPE-signature"))] = "t=1,v1=ab"
        fields[.authorization] = "Bearer x"
        #expect(RequestHeader.stripeSignature.value(in: fields) == "t=1,v1=ab")
        #expect(RequestHeader.idempotencyKey.value(in: fields) == nil)
        #expect(RequestHeader.telegramSecretToken.value(in: fields) == nil)
    }

    @Test func repeatedFieldsAreJoinedAsHTTPFieldsJoinsThem() throws {
        let name = try #require(HTTPField.Name("Idempotency-Key"))
        var fields = HTTPFields()
        fields.append(HTTPField(name: name, value: "a"))
        fields.append(HTTPField(name: name, value: "b"))
        #expect(RequestHeader.idempotencyKey.value(in: fields) == fields[name])
        #expect(RequestHeader.idempotencyKey.value(in: fields) == "a, b")
    }
}
