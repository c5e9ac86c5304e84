import Testing

@Test func placeholderMiniApp() { #expect(1 + 1 == 2) }
