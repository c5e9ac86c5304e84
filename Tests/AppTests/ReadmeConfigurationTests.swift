import Foundation
import TestSupport
import Testing

@testable import App

/// The README's configuration table is the one `telebot serve --help` prints: same variables, same order, same
/// meanings and defaults. A variable added to `AppConfig.variables` without a README row (or the reverse) fails here.
@Suite struct ReadmeConfigurationTests {
    /// The rows of the first table under `## Configuration` in README.md, as (name, meaning, default).
    static func readmeRows() throws -> [(String, String, String)] {
        let readme = try String(contentsOfFile: TestEnvironment.repoRoot + "/README.md", encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Configuration\n").dropFirst().first)
        var rows: [(String, String, String)] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("| `") else {
                if !rows.isEmpty { break }  // the table ended
                continue
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(cells.count == 3, "README row has \(cells.count) cells: \(line)")
            rows.append((cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")), cells[1], cells[2]))
        }
        return rows
    }

    @Test func readmeTableEqualsTheVariablesServeHelpPrints() throws {
        let rows = try Self.readmeRows()
        let expected = AppConfig.variables
        #expect(rows.map(\.0) == expected.map(\.name), "README names differ from AppConfig.variables")
        for (row, variable) in zip(rows, expected) where row.0 == variable.name {
            #expect(row.1 == variable.meaning, "\(variable.name): README meaning differs")
            #expect(row.2 == variable.defaultValue, "\(variable.name): README default differs")
        }
    }

    @Test func serveHelpShowsEveryVariableWithItsDefault() {
        let help = ServeCommand.helpMessage(columns: 200)
        let flattened = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for variable in AppConfig.variables {
            #expect(help.contains(variable.name), "serve --help lacks \(variable.name)")
            let text = "\(variable.meaning) (default: \(variable.defaultValue))".split(whereSeparator: \.isWhitespace)
                .joined(separator: " ")
            #expect(flattened.contains(text), "serve --help lacks the meaning/default of \(variable.name)")
        }
    }
}
