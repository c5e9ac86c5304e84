import Testing

@Test func placeholderMarketing() { #expect(1 + 1 == 2) }
