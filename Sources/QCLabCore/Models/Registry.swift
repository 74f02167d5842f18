import Foundation

/// A thread-safe table of factories by name, in registration order: the storage behind
/// ``ModelRegistry``, ``AlgorithmRegistry`` and ``OutputRegistry``.
package final class Registry<Factory>: @unchecked Sendable {
    private let kind: String
    private let lock = NSLock()
    private var entries: [(name: String, factory: Factory)]
    /// Other names for registered ones, by ``NameMatching/normalized(_:)`` form; nil
    /// when names must match exactly (outputs, which name datasets).
    private let aliases: [String: String]?
    /// The names the library itself provides, in order (registered ones come after).
    package let builtInNames: [String]

    package init(kind: String, aliases: [String: String]? = nil, _ entries: [(String, Factory)]) {
        self.kind = kind
        self.aliases = aliases
        self.entries = entries.map { (name: $0.0, factory: $0.1) }
        builtInNames = entries.map(\.0)
    }

    package var names: [String] { lock.withLock { entries.map(\.name) } }

    /// Adds `factory` under `name`, replacing an earlier one of that name.
    package func register(_ name: String, _ factory: Factory) {
        lock.withLock {
            if let index = entries.firstIndex(where: { $0.name == name }) {
                entries[index].factory = factory
            } else {
                entries.append((name: name, factory: factory))
            }
        }
    }

    /// The registered name that `name` means.
    ///
    /// It is `name` itself, or one that differs only in case and separators, or the one an alias
    /// stands for (``NameMatching/resolve(_:among:aliases:)``).
    /// ``QCLabError/unknownName(kind:name:known:)`` lists the known names, and its message the
    /// closest ones.
    func canonicalName(_ name: String) throws -> String { try lookup(name).name }

    /// The factory called `name` (``canonicalName(_:)``) and its canonical name.
    package func lookup(_ name: String) throws -> (name: String, factory: Factory) {
        let (entry, known) = lock.withLock { () -> ((name: String, factory: Factory)?, [String]) in
            let known = entries.map(\.name)
            let canonical = aliases.map { NameMatching.resolve(name, among: known, aliases: $0) } ?? name
            return (entries.first { $0.name == canonical }, known)
        }
        guard let entry else { throw QCLabError.unknownName(kind: kind, name: name, known: known) }
        return entry
    }
}
