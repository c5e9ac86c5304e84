import Testing

@Test func placeholderTelegram() { #expect(1 + 1 == 2) }
