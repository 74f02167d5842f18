import Foundation

/// A thread-safe table of factories by name, in registration order: the storage behind
/// ``ModelRegistry``, ``AlgorithmRegistry`` and ``OutputRegistry``.
package final class Registry<Factory>: @unchecked Sendable {
    private let kind: String
    private let lock = NSLock()
    private var entries: [(name: String, factory: Factory)]
    /// The names the library itself provides, in order (registered ones come after).
    package let builtInNames: [String]

    package init(kind: String, _ entries: [(String, Factory)]) {
        self.kind = kind
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

    /// The factory called `name`; ``QCLabError/unknownName(kind:name:known:)`` lists the known names.
    package func lookup(_ name: String) throws -> Factory {
        let (found, known) = lock.withLock { (entries.first { $0.name == name }?.factory, entries.map(\.name)) }
        guard let found else { throw QCLabError.unknownName(kind: kind, name: name, known: known) }
        return found
    }
}
