/// How model and algorithm names are matched: case and `_`, `-`, spaces and dots ignored,
/// common aliases (`fssh`, `mf`, `msmash`, `tully1`, ...), and the closest known names for
/// a name that matches none ("did you mean").
enum NameMatching {
    /// Aliases of QC Lab's models and the canonical name each stands for.
    ///
    /// `qclab models` and docs/Reference.md show them. An alias of a model that is not registered
    /// matches nothing.
    static let modelAliasList: [(alias: String, name: String)] = [
        ("sb", "SpinBoson"),
        ("holstein", "HolsteinLattice"),
        ("holstein_reciprocal", "HolsteinLatticeReciprocalSpace"),
        ("fmo", "FMOComplex"),
        ("tully1", "TullyProblemOne"), ("tully_one", "TullyProblemOne"), ("tully_problem_1", "TullyProblemOne"),
        ("tully2", "TullyProblemTwo"), ("tully_two", "TullyProblemTwo"), ("tully_problem_2", "TullyProblemTwo"),
        ("tully3", "TullyProblemThree"), ("tully_three", "TullyProblemThree"),
        ("tully_problem_3", "TullyProblemThree"),
        ("cac_a", "ComplexAvoidedCrossingA"), ("cac_b", "ComplexAvoidedCrossingB"),
        ("cac_c", "ComplexAvoidedCrossingC"),
        ("lvc", "LinearVibronicCoupling"),
    ]

    /// Aliases of QC Lab's algorithms, as `qclab models` and docs/Reference.md show them.
    static let algorithmAliasList: [(alias: String, name: String)] = [
        ("mf", "MeanField"), ("mft", "MeanField"), ("ehrenfest", "MeanField"),
        ("fssh", "FewestSwitchesSurfaceHopping"), ("tssh", "FewestSwitchesSurfaceHopping"),
        ("surface_hopping", "FewestSwitchesSurfaceHopping"),
        ("msmash", "MultiStateMappingApproachToSurfaceHopping"),
    ]

    /// The model aliases by their ``normalized(_:)`` form.
    static let modelAliases = keyed(modelAliasList)

    /// The algorithm aliases by their ``normalized(_:)`` form.
    static let algorithmAliases = keyed(algorithmAliasList)

    private static func keyed(_ list: [(alias: String, name: String)]) -> [String: String] {
        Dictionary(list.map { (normalized($0.alias), $0.name) }) { first, _ in first }
    }

    /// Every alias, for suggestions in messages that do not say which kind of name they are.
    private static let allAliases = modelAliases.merging(algorithmAliases) { first, _ in first }

    /// `name` lowercased, without `_`, `-`, spaces and dots: `spin_boson` and `SpinBoson`
    /// both read `spinboson`.
    static func normalized(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { !"_- .".unicodeScalars.contains($0) }.map(Character.init))
    }

    /// The name among `known` that `name` means: itself, the one name it equals ignoring case
    /// and separators, or the known name an alias of `aliases` stands for; nil when none (or
    /// when it matches several known names equally, which leaves the choice to the user).
    static func resolve(_ name: String, among known: [String], aliases: [String: String]) -> String? {
        if known.contains(name) { return name }
        let key = normalized(name)
        let matches = known.filter { normalized($0) == key }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty, let target = aliases[key], known.contains(target) { return target }
        return nil
    }

    /// The known names closest to `name` ("did you mean"): those whose normalized form, or
    /// an alias of which, is fewest edits away (one edit for a name of up to three letters,
    /// else two or a third of its length), or else begin with what was typed (three letters
    /// or more); empty when nothing is close.
    static func suggestions(for name: String, among known: [String]) -> [String] {
        let key = normalized(name)
        guard !key.isEmpty else { return [] }
        var best = Int.max, closest: [String] = []
        for candidate in known {
            let spellings = [normalized(candidate)] + allAliases.filter { $0.value == candidate }.map(\.key)
            let distance = spellings.map { editDistance(key, $0) }.min() ?? Int.max
            if distance < best {
                best = distance
                closest = [candidate]
            } else if distance == best {
                closest.append(candidate)
            }
        }
        if best <= (key.count <= 3 ? 1 : max(2, key.count / 3)) { return closest }
        return key.count >= 3 ? known.filter { normalized($0).hasPrefix(key) } : []
    }

    /// "; did you mean 'A'?" or "; did you mean 'A' or 'B'?" for the closest known names,
    /// or nothing when none is close: the end of an unknown name's one-line message.
    static func didYouMean(_ name: String, among known: [String]) -> String {
        let names = suggestions(for: name, among: known).prefix(3).map { "'\($0)'" }
        guard !names.isEmpty else { return "" }
        return "; did you mean "
            + (names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names.last!) + "?"
    }

    /// The Levenshtein distance: insertions, deletions and substitutions, one each.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        guard !x.isEmpty else { return y.count }
        guard !y.isEmpty else { return x.count }
        var previous = Array(0...y.count), current = previous
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }
}
