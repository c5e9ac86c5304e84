import Testing

@Test func placeholderPGClient() { #expect(1 + 1 == 2) }
