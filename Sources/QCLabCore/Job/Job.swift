import Foundation

/// A job file (`../shared/job-format.md`): QC Lab's settings, model, algorithm and
/// initial state as JSON, read strictly: an unknown key anywhere is an error that names it.
public struct Job: Sendable {
    public var simulation: Simulation
    /// Explicit seeds, when the job gives them.
    public var seeds: [Int]?
    /// Where the job's own sections disagree (explicit seeds overriding `num_trajs`);
    /// ``Simulation/warnings`` has the rest.
    public var warnings: [String] = []
    /// Whether the output file keeps its exact sums, as the job's `"output_file": {"mergeable": ...}`
    /// asks; `nil` when the job does not say (`qclab run --mergeable` keeps them either way).
    public var mergeable: Bool?

    public init(simulation: Simulation, seeds: [Int]? = nil) {
        self.simulation = simulation
        self.seeds = seeds
    }

    /// Parses and checks a job from JSON bytes.
    ///
    /// The JSON itself is read strictly (``QCLabError/malformedJob(_:)`` gives the line and
    /// column of a syntax error, and a key repeated within an object is an error); `source`,
    /// when given, names the file in that message.
    public init(json bytes: Foundation.Data, source: String? = nil) throws {
        let root = try StrictJSON.parse([UInt8](bytes), source: source)
        let top = try Self.object(root, "job")
        try Self.allowOnly(
            top, ["settings", "model", "algorithm", "initial_state", "seeds", "outputs", "output_file"], in: "job")
        let settings = try Self.settings(top["settings"] ?? .object([:]))
        guard let modelValue = top["model"] else { throw QCLabError.malformedJob("missing key 'model'") }
        let model = try Self.model(modelValue)
        let algorithm = try Self.algorithm(top["algorithm"] ?? .object(["name": .string("MeanField")]))
        guard let initial = top["initial_state"] else { throw QCLabError.malformedJob("missing key 'initial_state'") }
        let wavefunction = try Self.wavefunction(initial)
        var simulation = Simulation(
            settings: settings, model: model, algorithm: algorithm, initialWavefunction: wavefunction)
        if let outputs = top["outputs"] { simulation.outputs = try Self.outputs(outputs, model: model) }
        if let outputFile = top["output_file"] { mergeable = try Self.outputFile(outputFile) }
        if let seedsValue = top["seeds"] {
            guard case let .array(items) = seedsValue else {
                throw QCLabError.malformedJob("'seeds' must be an array of integers")
            }
            let list = try items.map { item in
                guard case let .number(x) = item, x == x.rounded(), x >= 0, x <= Double(UInt32.max) else {
                    throw QCLabError.invalidSetting("seeds", "must be whole numbers in 0...4294967295")
                }
                return Int(x)
            }
            guard !list.isEmpty else { throw QCLabError.invalidSetting("seeds", "must not be empty") }
            var seen = Set<Int>()
            if let repeated = list.first(where: { !seen.insert($0).inserted }) {
                throw QCLabError.invalidSetting("seeds", "must not repeat a seed (\(repeated) appears twice)")
            }
            seeds = list
            if case let .object(given)? = top["settings"], given["num_trajs"] != nil, settings.numTrajs != list.count {
                warnings.append(
                    "the job's \(list.count) seeds override its num_trajs \(settings.numTrajs): running \(list.count) trajectories"
                )
            }
            simulation.settings.numTrajs = list.count
        }
        self.simulation = simulation
        try simulation.validate()
    }

    /// Runs the seeds of `range` in place of the job's seeds and `num_trajs` (`--seeds A:B`),
    /// dropping the warning that the job's own seeds override its `num_trajs`.
    public mutating func replaceSeeds(with range: Range<Int>) {
        seeds = Array(range)
        simulation.settings.numTrajs = range.count
        warnings.removeAll { $0.hasPrefix("the job's ") && $0.contains("seeds override") }
    }

    // MARK: Sections

    package static func object(_ value: JSONValue, _ name: String) throws -> [String: JSONValue] {
        guard case let .object(dict) = value else {
            throw QCLabError.malformedJob("'\(name)' must be an object, got \(value.typeName)")
        }
        return dict
    }

    package static func allowOnly(_ dict: [String: JSONValue], _ keys: [String], in section: String) throws {
        if let unknown = dict.keys.sorted().first(where: { !keys.contains($0) }) {
            throw QCLabError.unknownName(kind: "key in \(section)", name: unknown, known: keys)
        }
    }

    package static func settings(_ value: JSONValue) throws -> SimulationSettings {
        let dict = try object(value, "settings")
        try allowOnly(
            dict, ["tmax", "dt_update", "dt_collect", "num_trajs", "batch_size", "progress_bar"], in: "settings")
        var s = SimulationSettings()
        func number(_ key: String) throws -> Double? {
            guard let v = dict[key] else { return nil }
            guard case let .number(x) = v else {
                throw QCLabError.invalidSetting(key, "must be a number, got \(v.typeName)")
            }
            return x
        }
        func whole(_ key: String) throws -> Int? {
            guard let x = try number(key) else { return nil }
            guard x == x.rounded() else { throw QCLabError.invalidSetting(key, "must be a whole number, got \(x)") }
            // Beyond 2^53 a double no longer holds every whole number; settings.validate()
            // gives each setting's own, smaller bound with the value as written.
            let limit = 9_007_199_254_740_992.0
            guard abs(x) <= limit else {
                throw QCLabError.invalidSetting(key, "of \(x) is too large (at most \(Int(limit)))")
            }
            return Int(x)
        }
        if let x = try number("tmax") { s.tmax = x }
        if let x = try number("dt_update") { s.dtUpdate = x }
        if let x = try number("dt_collect") { s.dtCollect = x }
        if let x = try whole("num_trajs") { s.numTrajs = x }
        if let x = try whole("batch_size") { s.batchSize = x }
        if let v = dict["progress_bar"] {
            guard case let .bool(b) = v else {
                throw QCLabError.invalidSetting("progress_bar", "must be true or false")
            }
            s.progressBar = b
        }
        try s.validate()
        return s
    }

    package static func model(_ value: JSONValue) throws -> any Model {
        let dict = try object(value, "model")
        try allowOnly(dict, ["name", "constants", "init_classical", "gradients"], in: "model")
        guard case let .string(given)? = dict["name"] else {
            throw QCLabError.malformedJob("'model.name' must be a string")
        }
        let name = try ModelRegistry.canonicalName(given)
        var constants: [String: ParameterValue] = [:]
        if let c = dict["constants"] {
            for (key, v) in try object(c, "model.constants") {
                guard let p = v.parameter else {
                    throw QCLabError.invalidConstant(
                        model: name, name: key, reason: "must be a number, boolean, string or list, got \(v.typeName)")
                }
                constants[key] = p
            }
        }
        var distribution: InitialClassicalDistribution?
        if let d = dict["init_classical"] {
            guard case let .string(text) = d else {
                throw QCLabError.invalidConstant(
                    model: name, name: "init_classical", reason: "must be a string, got \(d.typeName)")
            }
            guard let parsed = InitialClassicalDistribution(rawValue: text) else {
                throw QCLabError.unknownName(
                    kind: "init_classical", name: text,
                    known: InitialClassicalDistribution.allCases.map(\.rawValue))
            }
            distribution = parsed
        }
        let gradients = try dict["gradients"].map(FiniteDifferenceSettings.init(json:)) ?? FiniteDifferenceSettings()
        return try ModelRegistry.make(name: name, constants: constants, initialDistribution: distribution)
            .withFiniteDifferenceGradients(gradients)
    }

    package static func algorithm(_ value: JSONValue) throws -> any Algorithm {
        let dict = try object(value, "algorithm")
        try allowOnly(dict, ["name", "settings"], in: "algorithm")
        guard case let .string(name)? = dict["name"] else {
            throw QCLabError.malformedJob("'algorithm.name' must be a string")
        }
        let settings = try object(dict["settings"] ?? .object([:]), "algorithm.settings")
        return try AlgorithmRegistry.make(name: name, settings: settings)
    }

    /// The extra outputs named in the job's `"outputs"` list (``OutputRegistry``).
    package static func outputs(_ value: JSONValue, model: any Model) throws -> [Output] {
        guard case let .array(items) = value else {
            throw QCLabError.malformedJob("'outputs' must be an array of output names")
        }
        var seen = Set<String>()
        return try items.map { item in
            guard case let .string(name) = item else {
                throw QCLabError.malformedJob("'outputs' must be an array of output names, got \(item.typeName)")
            }
            guard seen.insert(name).inserted else {
                throw QCLabError.invalidSetting("outputs", "names '\(name)' twice")
            }
            return try OutputRegistry.make(name, model: model)
        }
    }

    /// The `output_file` section's `mergeable` flag (`nil` when absent): how the output file is
    /// written, which changes none of its values.
    package static func outputFile(_ value: JSONValue) throws -> Bool? {
        let dict = try object(value, "output_file")
        try allowOnly(dict, ["mergeable"], in: "output_file")
        guard let flag = dict["mergeable"] else { return nil }
        guard case let .bool(mergeable) = flag else {
            throw QCLabError.invalidSetting("output_file.mergeable", "must be true or false, got \(flag.typeName)")
        }
        return mergeable
    }

    package static func wavefunction(_ value: JSONValue) throws -> [Complex<Double>] {
        let dict = try object(value, "initial_state")
        try allowOnly(dict, ["wf_db"], in: "initial_state")
        guard case let .array(items)? = dict["wf_db"] else {
            throw QCLabError.invalidInitialState("'wf_db' must be an array of numbers or [re, im] pairs")
        }
        return try items.enumerated().map { index, item in
            switch item {
            case let .number(x): return Complex(x)
            case let .array(pair) where pair.count == 2:
                if case let .number(re) = pair[0], case let .number(im) = pair[1] { return Complex(re, im) }
            default: break
            }
            throw QCLabError.invalidInitialState("wf_db entry \(index) must be a number or an [re, im] pair")
        }
    }
}
