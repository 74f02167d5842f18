extension Job {
    /// `algorithm.settings` of `MultiStateMappingApproachToSurfaceHopping`, with QC Lab's
    /// defaults for what is absent.
    static func multiStateMapping(_ settings: [String: JSONValue]) throws -> MultiStateMappingApproachToSurfaceHopping {
        try allowOnly(settings, ["gauge_fixing", "use_gauge_field_force", "reverse_frustrated_hops",
                                 "msmash_max_hops", "msmash_num_bisections"],
                      in: "algorithm.settings of MultiStateMappingApproachToSurfaceHopping")
        func flag(_ key: String, _ value: Bool) throws -> Bool {
            guard let v = settings[key] else { return value }
            guard case let .bool(b) = v else { throw QCLabError.invalidAlgorithmSetting(name: key, reason: "must be true or false") }
            return b
        }
        func count(_ key: String, _ value: Int) throws -> Int {
            guard let v = settings[key] else { return value }
            guard case let .number(x) = v, x.isFinite, x == x.rounded(), abs(x) <= 1e6 else {
                throw QCLabError.invalidAlgorithmSetting(name: key, reason: "must be an integer")
            }
            return Int(x)
        }
        var gauge = MultiStateMappingApproachToSurfaceHopping.GaugeFixing.signOverlap
        if let g = settings["gauge_fixing"] {
            guard case let .string(text) = g, let parsed = MultiStateMappingApproachToSurfaceHopping.GaugeFixing(rawValue: text) else {
                let shown: String
                if case let .string(text) = g { shown = text } else { shown = g.typeName }
                throw QCLabError.unknownName(kind: "gauge_fixing", name: shown,
                                             known: MultiStateMappingApproachToSurfaceHopping.GaugeFixing.allCases.map(\.rawValue))
            }
            gauge = parsed
        }
        return try MultiStateMappingApproachToSurfaceHopping(
            gaugeFixing: gauge, useGaugeFieldForce: try flag("use_gauge_field_force", false),
            reverseFrustratedHops: try flag("reverse_frustrated_hops", true),
            maxHops: try count("msmash_max_hops", 10), numBisections: try count("msmash_num_bisections", 10))
    }
}
