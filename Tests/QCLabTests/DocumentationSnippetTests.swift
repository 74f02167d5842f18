import Foundation
import XCTest

/// Every ```swift block of the README, the DocC articles and docs/ compiles: the blocks
/// are copied into `DocumentationSnippets.swift` (part of this test target, so a block
/// that no longer compiles breaks the build of the tests), and this test fails when that
/// file is not what the documents give today.
///
/// Regenerate after editing a document:
/// `QCLAB_UPDATE_SNIPPETS=1 swift test --disable-swift-testing --filter DocumentationSnippetTests`
/// (if the old file no longer compiles against the library, empty it first).
///
/// The blocks of one document form one function, in order, so a block may use what an
/// earlier one declared. A block that cannot compile as Swift source of this package (a
/// `Package.swift` fragment, an outline with `...` bodies) is preceded in its document by
/// a line `<!-- not compiled: REASON -->`, and the generated file lists it with its reason;
/// a reason `an excerpt of PATH ...` is checked: the block must be lines of PATH.
final class DocumentationSnippetTests: XCTestCase {
    static let root: URL = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    static let generatedPath = "Tests/QCLabTests/DocumentationSnippets.swift"

    /// The documents whose Swift blocks must compile, relative to the package root.
    static func documents() throws -> [String] {
        let manager = FileManager.default
        var paths = ["README.md"]
        for folder in ["Sources/QCLab/QCLab.docc", "docs"] {
            let url = root.appendingPathComponent(folder)
            guard manager.fileExists(atPath: url.path) else { continue }
            paths += try manager.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".md") }.sorted().map {
                "\(folder)/\($0)"
            }
        }
        return paths
    }

    struct Block {
        var lines: [String]
        var skipReason: String?
        var line: Int
    }

    static func blocks(in text: String) -> [Block] {
        var blocks: [Block] = [], current: Block?, previous = ""
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = current {
                if trimmed == "```" {
                    blocks.append(block)
                    current = nil
                } else {
                    block.lines.append(line)
                    current = block
                }
            } else if trimmed == "```swift" {
                var reason: String?
                if previous.hasPrefix("<!-- not compiled:"), previous.hasSuffix("-->") {
                    reason = String(previous.dropFirst("<!-- not compiled:".count).dropLast(3)).trimmingCharacters(
                        in: .whitespaces)
                }
                current = Block(lines: [], skipReason: reason, line: index + 1)
            }
            if !trimmed.isEmpty { previous = trimmed }
        }
        return blocks
    }

    /// The Swift file the documents give.
    static func generate() throws -> String {
        var imports: Set<String> = ["import QCLab"]
        var body: [String] = []
        for path in try documents() {
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            let blocks = blocks(in: text)
            guard !blocks.isEmpty else { continue }
            let name = path.replacingOccurrences(of: "Sources/QCLab/QCLab.docc/", with: "DocC/")
            let identifier = name.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            body.append("")
            body.append("// MARK: \(name)")
            body.append("")
            body.append("private enum Snippets_\(identifier) {")
            body.append("    static func run() throws {")
            for (number, block) in blocks.enumerated() {
                // Numbered rather than placed by line, so that editing the prose leaves this file as it is.
                if let reason = block.skipReason {
                    body.append("        // \(name), Swift block \(number + 1): not compiled: \(reason)")
                    continue
                }
                body.append("        // \(name), Swift block \(number + 1)")
                var declared: [String] = []
                for line in block.lines {
                    if line.hasPrefix("import ") {
                        let statement = line.components(separatedBy: "//")[0]
                        imports.insert(statement.trimmingCharacters(in: .whitespaces))
                        continue
                    }
                    body.append(line.isEmpty ? "" : "        " + line)
                    for keyword in ["let ", "var "] where line.hasPrefix(keyword) {
                        let name = line.dropFirst(keyword.count).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                        if !name.isEmpty { declared.append(String(name)) }
                    }
                }
                // Values a block declares but never reads would be warnings here; a reader's
                // program goes on to use them.
                for name in declared { body.append("        _ = \(name)") }
            }
            body.append("    }")
            body.append("}")
        }
        let header = [
            "// Generated from the ```swift blocks of the README, the DocC articles and docs/ by",
            "// DocumentationSnippetTests: do not edit. After editing a document, regenerate with",
            "// QCLAB_UPDATE_SNIPPETS=1 swift test --disable-swift-testing --filter DocumentationSnippetTests",
            "// The functions are compiled, never called: they prove that the documents' code compiles.",
            "// The documents' own layout is kept: the formatter leaves this file alone.",
            "// swift-format-ignore-file",
            "",
        ]
        return (header + imports.sorted() + body).joined(separator: "\n") + "\n"
    }

    func testEverySwiftBlockOfTheDocumentsIsCompiled() throws {
        let expected = try Self.generate()
        let url = Self.root.appendingPathComponent(Self.generatedPath)
        if ProcessInfo.processInfo.environment["QCLAB_UPDATE_SNIPPETS"] == "1" {
            try expected.write(to: url, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(
            committed, expected,
            "\(Self.generatedPath) is out of date with the documents; regenerate it with "
                + "QCLAB_UPDATE_SNIPPETS=1 swift test --disable-swift-testing --filter DocumentationSnippetTests")
        XCTAssertGreaterThanOrEqual(
            expected.components(separatedBy: "\n        // ").count - 1, 8, "the documents' blocks were found")
    }

    /// A block left out as `an excerpt of PATH ...` is, line for line, a run of lines of
    /// PATH (indentation aside), so that it cannot drift from the code that is compiled.
    func testExcerptsAreVerbatim() throws {
        var excerpts = 0
        for path in try Self.documents() {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            for block in Self.blocks(in: text) {
                guard let reason = block.skipReason, reason.hasPrefix("an excerpt of ") else { continue }
                excerpts += 1
                let source = String(reason.dropFirst("an excerpt of ".count).prefix { $0 != " " })
                let lines = try String(contentsOf: Self.root.appendingPathComponent(source), encoding: .utf8)
                    .components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                let excerpt = block.lines.map { $0.trimmingCharacters(in: .whitespaces) }
                let found = lines.indices.contains { start in
                    start + excerpt.count <= lines.count && Array(lines[start..<start + excerpt.count]) == excerpt
                }
                XCTAssertTrue(found, "\(path), line \(block.line): not a verbatim excerpt of \(source)")
            }
        }
        XCTAssertGreaterThan(excerpts, 0, "the excerpts were found")
    }

    /// The extraction itself: blocks in order, skip markers honoured, nothing else taken.
    func testBlocksAreFoundWithTheirSkipReasons() {
        let text = """
            Some prose.
            ```swift
            let a = 1
            ```
            <!-- not compiled: an outline -->

            ```swift
            struct B { func f() { ... } }
            ```
            ```sh
            echo no
            ```
            """
        let blocks = Self.blocks(in: text)
        XCTAssertEqual(blocks.map(\.lines), [["let a = 1"], ["struct B { func f() { ... } }"]])
        XCTAssertEqual(blocks.map(\.skipReason), [nil, "an outline"])
        XCTAssertEqual(blocks.map(\.line), [2, 7])
    }
}
