import Testing

@Test func placeholderBilling() { #expect(1 + 1 == 2) }
