import Foundation
import MiniApp
import Testing

@Suite struct MiniAppAssetsTests {
    @Test func thePageAndItsScriptsAreBundled() throws {
        let assets = MiniAppAssets()
        let page = try #require(assets.asset(path: ""))
        #expect(page.contentType.hasPrefix("text/html"))
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("app.js"))
        #expect(assets.asset(path: "app.js")?.contentType.hasPrefix("text/javascript") == true)
        #expect(assets.asset(path: "app.css") != nil)
        #expect(assets.asset(path: "../Package.swift") == nil)
    }
}
