import QCLabCore
import QCLabSystem
import CHDF5
import CHDF5Shims
import Foundation
import SystemPackage

/// Dataset names with a fixed meaning in the file; no output may take them.
private let seedName = "seed", normFactorName = "norm_factor", sampleCountName = "num_samples"
/// Suffix of the dataset holding an output's standard error.
private let standardErrorSuffix = "_sem"
/// Suffix of the dataset holding an output's exact sums, and the dataset that ties them to
/// the file's counts: `[format, norm_factor, num_samples]`, int64.
private let exactSuffix = "_exact", exactCheckName = "exact_sums", exactFormat: Int64 = 1
/// The attribute of each `<name>_exact` holding the digests of its sums as read (``SimulationData/sumsDigest(of:)``).
private let sumsDigestName = "sums_crc32c"
/// The root attribute holding a CRC-32C of every dataset and attribute (``ChecksumList``).
private let checksumsName = "checksums"
/// Attributes the writer stores, all covered by the checksums.
private let coveredAttributes = ["log", "job", "no_error_bars", "not_exact", ExactSumsEncoding.attributeName]
/// The fewest bytes of standard errors that are stored deflated: below, the chunk index
/// deflating needs costs about what it saves.
private let deflatedFrom = 4096
/// A CRC-32C as the file's attributes write it: eight lowercase hex digits.
private func eightHexDigits(_ digest: UInt32) -> String {
    let hex = String(digest, radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
}
/// Outputs that come first, in this order, when a file is read; the rest follow by name.
private let leadingOutputs = ["t", "dm_db", "quantum_energy", "classical_energy"]

extension SimulationData {
    /// Writes this data to `path` in the HDF5 layout of QC Lab 1.3.0's `SimulationData.save`.
    ///
    /// Datasets: `seed` (int64, one per trajectory), `norm_factor` (int64 scalar), each
    /// output's mean under its own name (complex outputs as h5py's `{r, i}` compound of
    /// float64), the standard error of every output but `t` under `<name>_sem`, and
    /// `num_samples` (int64 scalar); the root attribute `log` is a variable-length UTF-8
    /// string. The root attribute `checksums` holds a CRC-32C of every dataset and
    /// attribute, which reading verifies; the file is in HDF5 1.8's format, whose
    /// structure carries checksums too. The file is written under a temporary name in the
    /// same folder and renamed over `path` once complete, so a failure leaves neither a
    /// partial file nor debris.
    ///
    /// With `mergeable`, the file also keeps every output's exact sums (`<name>_exact`,
    /// compressed, and `exact_sums`), so that `merge` and `--append` combine it with other
    /// parts into the same bits as one run; without, it holds the means and standard
    /// errors alone (about twice QC Lab's file), and combining it is done in floating
    /// point. Data that is not exact (``notExact``) has no exact sums to keep.
    public func save(to path: String, mergeable: Bool = false) throws {
        try save(to: OutputTarget(path: path), mergeable: mergeable)
    }

    /// Writes this data to an output checked beforehand (see ``save(to:mergeable:)-(String,_)``).
    ///
    /// - Parameter exactEncoding: how the exact sums of a mergeable file are stored
    ///   (``ExactSumsEncoding``); `.plain` writes them as files of earlier versions did.
    package func save(
        to target: OutputTarget, mergeable: Bool = false, exactEncoding: ExactSumsEncoding = .current
    ) throws {
        try checkSavable(to: target.path)
        let encoding = mergeable && isExact && notExact == nil ? exactEncoding : nil
        try HDF5Library.serialized {
            try target.write { temporary in
                let file = try HDF5File.create(at: temporary, reportedAs: target.path)
                try file.closing { try writeContents(to: $0, exactEncoding: encoding) }
            }
        }
    }

    /// Reads data from an HDF5 file written by `save(to:)` or by QC Lab's `Data.save`.
    ///
    /// Every dataset other than `seed`, `norm_factor`, `num_samples` and `<x>_sem` (for an
    /// output `x`) is an output. Without `num_samples` and `_sem` datasets (files written by
    /// QC Lab) every trajectory counts as a sample and the standard errors read zero.
    public init(contentsOf path: String) throws {
        self = try Self.load(contentsOf: path).data
    }

    /// Reads data as ``init(contentsOf:)`` does, with a note when the file could not be
    /// verified: a file without checksums (QC Lab's) is read unchecked, and `unchecked`
    /// says so in one line; every file qclab writes is verified.
    public static func load(contentsOf path: String) throws -> (data: SimulationData, unchecked: String?) {
        try HDF5Library.serialized {
            try HDF5File.open(at: path).closing { file in
                var unchecked: String?
                do {
                    let data = try SimulationData(reading: file, unchecked: &unchecked)
                    return (data, unchecked)
                } catch let QCLabError.hdf5(path, reason) where reason.hasPrefix("cannot ") {
                    // HDF5 failing on a file it opened: its structure is damaged.
                    throw QCLabError.hdf5(path: path, reason: "damaged: " + reason)
                }
            }
        }
    }

    /// The names of the datasets in an HDF5 file's root group, in name order: to tell, say,
    /// whether a file holds error bars (`<name>_sem`, `num_samples`) or was written by QC Lab.
    public static func datasetNames(inFileAt path: String) throws -> [String] {
        try HDF5Library.serialized {
            try HDF5File.open(at: path).closing { try $0.datasetNames() }
        }
    }

    /// Throws unless every output can be stored under its own name and read back as itself.
    private func checkSavable(to path: String) throws {
        func refuse(_ reason: String) -> QCLabError { .hdf5(path: path, reason: reason) }
        guard normFactor > 0 || (normFactor == 0 && observables.isEmpty) else {
            throw refuse("cannot save outputs with norm_factor \(normFactor)")
        }
        let names = observables.map(\.name)
        for name in names {
            guard !name.isEmpty, name != ".", !name.contains("/") else {
                throw refuse("invalid output name '\(name)'")
            }
            guard ![seedName, normFactorName, sampleCountName, exactCheckName].contains(name),
                !name.hasSuffix(exactSuffix)
            else {
                throw refuse("output name '\(name)' is reserved")
            }
            guard names.filter({ $0 == name }).count == 1 else { throw refuse("output '\(name)' appears twice") }
            guard !names.contains(name + standardErrorSuffix) else {
                throw refuse("output '\(name + standardErrorSuffix)' clashes with the standard error of '\(name)'")
            }
        }
        guard !log.contains("\0") else { throw refuse("the log contains a NUL character") }
    }

    /// Writes every dataset and the `log` and `job` attributes into an open file, and last
    /// the `checksums` attribute over all of them.
    ///
    /// With an `exactEncoding`, every output's exact sums are written too, stored as it says.
    private func writeContents(to file: HDF5File, exactEncoding: ExactSumsEncoding?) throws {
        let exactSums = exactEncoding != nil
        var checksums = ChecksumList()
        func integers(_ name: String, _ shape: [Int], _ values: [Int64], storage: DatasetStorage = .plain) throws {
            try file.writeIntegers(name, shape: shape, values: values, storage: storage)
            checksums.add(name, ChecksumList.digest(kind: .integer, shape: shape, integers: values))
        }
        func reals(
            _ name: String, _ shape: [Int], _ isComplex: Bool, _ values: [Double], storage: DatasetStorage = .plain
        ) throws {
            try file.writeReals(name, shape: shape, isComplex: isComplex, values: values, storage: storage)
            checksums.add(name, ChecksumList.digest(kind: isComplex ? .complex : .real, shape: shape, reals: values))
        }
        func attribute(_ name: String, _ value: String) throws {
            try file.writeStringAttribute(name, value)
            checksums.add("@" + name, ChecksumList.digest(of: value))
        }
        try integers(seedName, [seeds.count], seeds.map(Int64.init))
        try integers(normFactorName, [], [Int64(normFactor)])
        for observable in observables {
            let moments = observable.moments(
                normFactor: normFactor, samples: sampleCount, standardErrors: hasErrorBars)
            try reals(observable.name, observable.shape, observable.isComplex, moments.mean)
            let sem = observable.name == "t" ? nil : moments.sem
            if let sem {
                // Ours alone (QC Lab writes no standard errors): deflated when that pays for the
                // chunk index it adds.
                try reals(
                    observable.name + standardErrorSuffix, observable.shape, observable.isComplex, sem,
                    storage: sem.count * 8 >= deflatedFrom ? .deflated : .plain)
            }
            // Encoded, chunked by limb, byte-shuffled and deflated: runs of zero high bytes.
            if let exactEncoding {
                let stored = ExactSumsEncoding.StoredMoments(
                    means: moments.mean, standardErrors: sem, normFactor: normFactor, samples: sampleCount)
                try integers(
                    observable.name + exactSuffix,
                    observable.shape + (observable.isComplex ? [2] : []) + [OutputAccumulator.exactValuesPerElement],
                    exactEncoding.encode(
                        observable.exactSums, shape: observable.shape, isComplex: observable.isComplex,
                        moments: stored),
                    storage: .exactSums)
                if exactEncoding.steps.contains(.meanResidual) {
                    try file.writeStringAttribute(
                        sumsDigestName, Self.sumsDigest(of: observable.exactSums), of: observable.name + exactSuffix)
                }
            }
        }
        if hasErrorBars {
            try integers(sampleCountName, [], [Int64(sampleCount)])
        }
        if exactSums && !observables.isEmpty {
            try integers(exactCheckName, [3], [exactFormat, Int64(normFactor), Int64(sampleCount)])
        }
        try attribute("log", log)
        if let job { try attribute("job", job) }
        if let errorBarsUnavailable { try attribute("no_error_bars", errorBarsUnavailable) }
        if let notExact { try attribute("not_exact", notExact) }
        if let exactEncoding, exactEncoding != .plain, !observables.isEmpty {
            try attribute(ExactSumsEncoding.attributeName, exactEncoding.attribute)
        }
        try file.writeStringAttribute(checksumsName, checksums.text)
    }

    /// Reads the exact sums when the file holds them intact (with its error bars, if it
    /// has them), else the means alone (then without error bars, saying why).
    ///
    /// A file with `checksums` (every file qclab writes) is verified first: each dataset and
    /// attribute against its checksum, then its consistency (norm_factor against the seeds,
    /// the means and standard errors against the exact sums, the shapes); any fault is
    /// refused as damage naming the dataset. A file without them (QC Lab's) is read
    /// unchecked, and `unchecked` says so.
    private init(reading file: HDF5File, unchecked: inout String?) throws {
        let path = file.reportedPath
        let names = try file.datasetNames()
        let present = Set(names)
        try file.checkDeclaredSizes(of: names)
        let checked: Bool
        if let text = try file.readStringAttribute(checksumsName) {
            guard let list = ChecksumList(parsing: text) else {
                throw file.failure("damaged: attribute 'checksums' is unreadable")
            }
            try file.verify(list, datasetNames: names)
            checked = true
        } else {
            // qclab writes its checksums in HDF5 1.8's format (superblock 2); such a file
            // with qclab's own datasets or job but without them lost them to damage.
            let ours =
                present.contains(exactCheckName) || present.contains(sampleCountName)
                || names.contains { $0.hasSuffix(exactSuffix) } || H5Aexists(file.id, "job") > 0
            if ours, try file.superblockVersion() >= 2 {
                throw file.failure("damaged: attribute 'checksums' is missing")
            }
            checked = false
            unchecked = "'\(path)' carries no checksums (a file written by QC Lab, say): read unchecked"
        }
        /// Throws damage naming `dataset` in a checked file.
        func damaged(_ dataset: String, _ reason: String) -> QCLabError {
            file.failure("damaged: dataset '\(dataset)' \(reason)")
        }
        for required in [seedName, normFactorName] where !present.contains(required) {
            throw file.failure("missing dataset '\(required)'")
        }
        let seeds = try file.readIntegers(seedName).map { Int($0) }
        if let bad = seeds.first(where: { $0 < 0 || $0 > Int(UInt32.max) }) {
            throw file.failure("seed \(bad) is outside 0...4294967295")
        }
        let normFactor = try file.readSingleInteger(normFactorName)
        // Beyond 2^53 counts are no longer exact doubles (and sums of them could overflow).
        guard normFactor >= 0, normFactor <= 1 << 53 else {
            throw file.failure("norm_factor \(normFactor) is not a believable count")
        }
        if checked && normFactor != seeds.count {
            throw damaged(normFactorName, "counts \(normFactor) trajectories but 'seed' holds \(seeds.count)")
        }
        let isSupplement: (String) -> Bool = { name in
            for suffix in [standardErrorSuffix, exactSuffix] where name.hasSuffix(suffix) {
                if present.contains(String(name.dropLast(suffix.count))) { return true }
            }
            return false
        }
        let outputNames = names.filter {
            ![seedName, normFactorName, sampleCountName, exactCheckName].contains($0) && !isSupplement($0)
        }
        guard normFactor > 0 || (normFactor == 0 && outputNames.isEmpty) else {
            throw file.failure("norm_factor \(normFactor) does not fit the outputs held")
        }
        let ordered =
            leadingOutputs.filter(outputNames.contains)
            + outputNames.filter { !leadingOutputs.contains($0) }.sorted()
        let job = try file.readStringAttribute("job")
        let log = try file.readStringAttribute("log") ?? ""

        // The exact sums, if they are all there and still belong to this file's counts. In
        // a checked file they must be: anything else is damage.
        var exactProblem: String?
        var sampleCount = normFactor
        let check = present.contains(exactCheckName) ? try? file.readIntegers(exactCheckName) : nil
        let samples = present.contains(sampleCountName) ? try? file.readIntegers(sampleCountName) : nil
        if ordered.isEmpty {
            exactProblem = nil
        } else if !present.contains(exactCheckName) {
            if let samples {
                // Written without exact sums: its means and standard errors as they are.
                let data = try Self.readRounded(
                    file, outputs: ordered, names: present, samples: samples, normFactor: normFactor,
                    checked: checked)
                self.init(
                    seeds: seeds, normFactor: normFactor, sampleCount: data.samples, observables: data.observables,
                    log: log, job: job, errorBarsUnavailable: try file.readStringAttribute("no_error_bars"),
                    notExact: try file.readStringAttribute("not_exact") ?? SimulationData.writtenWithoutExactSums)
                return
            }
            if checked, let reason = try file.readStringAttribute("no_error_bars") {
                exactProblem = reason
            } else if present.contains(sampleCountName) {
                // num_samples that is no integer: averaged (QC Lab's add_data turns it float).
                if checked { throw damaged(sampleCountName, "is not an int64 count") }
                exactProblem = averagedNote(path)
            } else {
                if checked { throw damaged(exactCheckName, "is missing") }
                exactProblem =
                    names.contains(where: { $0.hasSuffix(standardErrorSuffix) })
                    ? "'\(path)' holds standard errors but no num_samples, so its error bars cannot be carried"
                    : "'\(path)' holds no error bars (no num_samples or <output>_sem: a file written by QC Lab, say)"
            }
        } else if let check, check.count == 3, check[0] == exactFormat, check[1] == Int64(normFactor), check[2] > 0,
            check[2] <= Int64(normFactor), Int64(normFactor) % check[2] == 0
        {
            sampleCount = Int(check[2])
            // Counts that match rule out averaging (QC Lab's add_data averages 'exact_sums'
            // too): what disagrees now is damage, checksums or not.
            if let samples, samples != [check[2]] { throw damaged(sampleCountName, "does not match 'exact_sums'") }
        } else {
            if checked { throw damaged(exactCheckName, "does not match norm_factor \(normFactor)") }
            exactProblem = averagedNote(path)
        }
        if checked && samples == nil && names.contains(where: { $0.hasSuffix(standardErrorSuffix) }) {
            throw damaged(sampleCountName, "is missing, but standard errors are present")
        }
        var observables: [OutputAccumulator] = []
        if exactProblem == nil {
            let encoding = try Self.exactEncoding(of: file)
            for name in ordered {
                let mean = try file.readReals(name)
                let exactName = name + exactSuffix
                let stored = ExactSumsEncoding.StoredMoments(
                    means: mean.values, standardErrors: Self.storedStandardErrors(of: name, in: file, names: present),
                    normFactor: normFactor, samples: sampleCount)
                guard present.contains(exactName),
                    let (shape, values) = try? file.readIntegersWithShape(exactName),
                    shape == mean.shape + (mean.isComplex ? [2] : []) + [OutputAccumulator.exactValuesPerElement],
                    let observable = try? OutputAccumulator(
                        name: name, shape: mean.shape, isComplex: mean.isComplex,
                        exactSums: encoding.decode(
                            values, shape: mean.shape, isComplex: mean.isComplex, moments: stored))
                else {
                    // 'exact_sums' matches the counts, so this is no averaged file: every
                    // output's exact sums must be there, well formed.
                    throw damaged(
                        exactName,
                        present.contains(exactName) ? "does not hold valid exact sums of '\(name)'" : "is missing")
                }
                if let digest = try file.readStringAttribute(sumsDigestName, of: exactName) {
                    try Self.checkSumsDigest(digest, of: observable, file: file)
                }
                try Self.checkConsistency(
                    observable, mean: mean.values, file: file, names: present, samples: sampleCount,
                    errorBars: samples != nil, normFactor: normFactor, checked: checked)
                observables.append(observable)
            }
        }
        if checked, let first = observables.first?.shape.first,
            let odd = observables.first(where: { $0.shape.first != first })
        {
            throw damaged(odd.name, "has \(odd.shape.first ?? 0) time points, '\(observables[0].name)' \(first)")
        }
        var errorBarsUnavailable: String?
        if let exactProblem {
            sampleCount = normFactor
            errorBarsUnavailable = exactProblem
            observables = try ordered.map { name in
                let mean = try file.readReals(name)
                return OutputAccumulator.fromMeans(
                    name: name, shape: mean.shape, isComplex: mean.isComplex,
                    means: mean.values, normFactor: normFactor)
            }
        } else if samples == nil {
            errorBarsUnavailable = try file.readStringAttribute("no_error_bars") ?? "'\(path)' holds no num_samples"
        }
        // A file of ours without exact sums (and without error bars): its means stand in for them.
        let withoutSums = checked && !ordered.isEmpty && !present.contains(exactCheckName)
        self.init(
            seeds: seeds, normFactor: normFactor, sampleCount: sampleCount, observables: observables, log: log,
            job: job, errorBarsUnavailable: errorBarsUnavailable,
            notExact: withoutSums
                ? try file.readStringAttribute("not_exact") ?? SimulationData.writtenWithoutExactSums : nil)
    }

    /// How the file stores its exact sums (its `exact_encoding` attribute; plain without it),
    /// or an error naming a step this version cannot undo.
    private static func exactEncoding(of file: HDF5File) throws -> ExactSumsEncoding {
        guard let text = try file.readStringAttribute(ExactSumsEncoding.attributeName) else { return .plain }
        guard let encoding = ExactSumsEncoding(attribute: text) else {
            throw file.failure(
                "its exact sums are stored as '\(text)' (attribute '\(ExactSumsEncoding.attributeName)'), "
                    + "which this version of qclab cannot read")
        }
        return encoding
    }

    /// The standard errors the file stores for output `name` (nil for `t` and without
    /// `<name>_sem`, or one that cannot be read), as `mean_residual` predicts from them.
    ///
    /// They are checked later, against the exact sums read with them: damaged ones give
    /// other sums, which no longer match what the file stores.
    private static func storedStandardErrors(of name: String, in file: HDF5File, names: Set<String>) -> [Double]? {
        let semName = name + standardErrorSuffix
        guard name != "t", names.contains(semName) else { return nil }
        return try? file.readReals(semName).values
    }

    /// The outputs of a file written without exact sums, with its number of samples.
    ///
    /// They are rounded means and standard errors (``RoundedMoments``). In a checked file every
    /// output but `t` must have its standard errors, of its own shape and type, and the samples
    /// must divide the trajectories; anything else is damage.
    private static func readRounded(
        _ file: HDF5File, outputs: [String], names: Set<String>, samples stored: [Int64],
        normFactor: Int, checked: Bool
    ) throws -> (samples: Int, observables: [OutputAccumulator]) {
        guard stored.count == 1, stored[0] > 0, stored[0] <= Int64(normFactor), Int64(normFactor) % stored[0] == 0
        else {
            throw file.failure(
                "\(checked ? "damaged: " : "")dataset '\(sampleCountName)' does not fit norm_factor \(normFactor)")
        }
        var observables: [OutputAccumulator] = []
        for name in outputs {
            let mean = try file.readReals(name)
            let semName = name + standardErrorSuffix
            var sem: [Double]?
            if name == "t" {
                sem = [Double](repeating: 0, count: mean.values.count)
            } else if names.contains(semName) {
                let stored = try file.readReals(semName)
                guard stored.shape == mean.shape, stored.isComplex == mean.isComplex else {
                    throw file.failure(
                        "\(checked ? "damaged: " : "")dataset '\(semName)' does not have the shape and type of '\(name)'"
                    )
                }
                sem = stored.values
            } else {
                throw file.failure("\(checked ? "damaged: " : "")dataset '\(semName)' is missing")
            }
            observables.append(
                try OutputAccumulator(
                    name: name, shape: mean.shape, isComplex: mean.isComplex,
                    means: mean.values, standardErrors: sem))
        }
        if checked, let first = observables.first?.shape.first,
            let odd = observables.first(where: { $0.shape.first != first })
        {
            throw file.failure(
                "damaged: dataset '\(odd.name)' has \(odd.shape.first ?? 0) time points, '\(observables[0].name)' \(first)"
            )
        }
        return (Int(stored[0]), observables)
    }

    /// The attribute `sums_crc32c` of `<name>_exact`: the CRC-32C of the exact sums of the
    /// samples (values 0-4 of every ten, as int64, little-endian) and that of the sums of
    /// their squares (values 5-9), as read, in hex, separated by a space.
    ///
    /// The `mean_residual` encoding reads the sums from the means and standard errors beside
    /// them; a mean edited (its checksum made to match) would read as other sums that fit
    /// it. The digests of what was written tell that apart.
    private static func sumsDigest(of sums: [Int64]) -> String {
        let state = OutputAccumulator.exactValuesPerElement / 2
        return [0, state].map { offset in
            var part: [Int64] = []
            part.reserveCapacity(sums.count / 2)
            for start in stride(from: offset, to: sums.count, by: 2 * state) {
                part.append(contentsOf: sums[start..<(start + state)])
            }
            var crc = CRC32C()
            crc.add(littleEndian: part)
            return eightHexDigits(crc.digest)
        }.joined(separator: " ")
    }

    /// Throws damage naming the mean (for the sums of the samples) or the standard error
    /// (for the sums of squares) unless the exact sums read are those `digest` describes.
    private static func checkSumsDigest(_ digest: String, of observable: OutputAccumulator, file: HDF5File) throws {
        let name = observable.name
        let expected = digest.split(separator: " ", omittingEmptySubsequences: false)
        let actual = sumsDigest(of: observable.exactSums).split(separator: " ")
        guard expected.count == 2 else {
            throw file.failure(
                "damaged: attribute '\(sumsDigestName)' of dataset '\(name + exactSuffix)' is unreadable")
        }
        guard expected[0] == actual[0] else {
            throw file.failure("damaged: dataset '\(name)' does not match its exact sums ('\(name + exactSuffix)')")
        }
        guard expected[1] == actual[1] else {
            throw file.failure(
                "damaged: dataset '\(name + standardErrorSuffix)' does not match the exact sums ('\(name + exactSuffix)')"
            )
        }
    }

    /// Throws damage naming the dataset unless an output's stored means (and standard
    /// errors, if the file has them) are, bit for bit, what its exact sums give.
    private static func checkConsistency(
        _ observable: OutputAccumulator, mean: [Double], file: HDF5File, names: Set<String>,
        samples: Int, errorBars: Bool, normFactor: Int, checked: Bool
    ) throws {
        let name = observable.name
        let moments = observable.moments(normFactor: normFactor, samples: samples, standardErrors: errorBars)
        guard sameBits(moments.mean, mean) else {
            throw file.failure("damaged: dataset '\(name)' does not match its exact sums ('\(name + exactSuffix)')")
        }
        let semName = name + standardErrorSuffix
        guard checked, name != "t" else { return }
        guard names.contains(semName) == errorBars else {
            throw file.failure(
                "damaged: dataset '\(semName)' is \(errorBars ? "missing" : "present without num_samples")")
        }
        if let sem = moments.sem {
            let stored = try file.readReals(semName)
            guard stored.shape == observable.shape, stored.isComplex == observable.isComplex,
                sameBits(sem, stored.values)
            else {
                throw file.failure(
                    "damaged: dataset '\(semName)' does not match the exact sums ('\(name + exactSuffix)')")
            }
        }
    }

    private static func sameBits(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// Why a file's error bars cannot be trusted once its datasets no longer fit its counts.
private func averagedNote(_ path: String) -> String {
    "'\(path)' holds error bars that no longer fit its norm_factor: its datasets were combined by averaging "
        + "(QC Lab's Data.add_data, say), which cannot combine standard errors"
}

/// Serialises HDF5 calls (the library may be built without thread safety) with its
/// automatic error printing off, so failures surface only as thrown errors.
private enum HDF5Library {
    static let lock = NSLock()

    static func serialized<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = prepared
        return try body()
    }

    /// Done once, before any other HDF5 call.
    ///
    /// HDF5 closes what is still open at exit (an `atexit` handler); a file whose close failed (a
    /// full disk) is still open, and closing it again at exit dereferences freed state and
    /// segfaults after our error message (HDF5 1.10). `H5dont_atexit` must precede the library's
    /// initialisation; the operating system releases the process's files at exit instead.
    private static let prepared: Void = {
        _ = H5dont_atexit()
        _ = H5Eset_auto2(qclab_h5e_default(), nil, nil)
    }()
}

/// HDF5's default property list (H5P_DEFAULT) and whole-dataspace selection (H5S_ALL).
private var defaultProperties: hid_t { qclab_h5p_default() }
private var wholeSpace: hid_t { qclab_h5s_all() }

/// How a dataset is stored in the file (``HDF5File/withCreationProperties(_:shape:elementBytes:name:_:)``).
private enum DatasetStorage {
    case plain, deflated, exactSums
}

/// An open HDF5 file; failures are reported against `reportedPath` (the user's path).
private struct HDF5File {
    let id: hid_t
    let reportedPath: String

    static func create(at path: String, reportedAs reportedPath: String) throws -> HDF5File {
        errno = 0
        // HDF5 1.8's format: its superblock and object headers carry checksums of their
        // own, so damage to the file's structure is found when reading it. The root group
        // keeps every link in its (checksummed) object header: its default, a fractal
        // heap past 8 links, has no checksum, and HDF5 1.10 frees invalid pointers reading
        // a damaged one (found by IntegrityTests' bit flips). Chunked datasets index their
        // chunks in B-tree nodes of 2 K entries, allocated whole: K = 2 rather than HDF5's 32
        // makes a node about 0.4 KB instead of 4.7 KB, and the few chunks of a dataset
        // need only a few nodes (the value is kept in the superblock's extension).
        let access = H5Pcreate(qclab_h5p_file_access()), creation = H5Pcreate(qclab_h5p_file_create())
        defer {
            if access >= 0 { H5Pclose(access) }
            if creation >= 0 { H5Pclose(creation) }
        }
        guard access >= 0, creation >= 0, H5Pset_libver_bounds(access, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0,
            H5Pset_link_phase_change(creation, 65535, 65535) >= 0, H5Pset_istore_k(creation, 2) >= 0
        else {
            throw QCLabError.hdf5(path: reportedPath, reason: "cannot choose the file format")
        }
        let id = H5Fcreate(path, qclab_h5f_acc_excl(), creation, access)
        guard id >= 0 else {
            throw QCLabError.hdf5(path: reportedPath, reason: "cannot create a file in its folder" + systemReason())
        }
        return HDF5File(id: id, reportedPath: reportedPath)
    }

    static func open(at path: String) throws -> HDF5File {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw QCLabError.invalidPath("input file '\(path)' does not exist")
        }
        guard !isFolder.boolValue else { throw QCLabError.invalidPath("input path '\(path)' is a folder") }
        let id = H5Fopen(path, qclab_h5f_acc_rdonly(), defaultProperties)
        guard id >= 0 else {
            let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
            let start: [UInt8]
            do {
                let descriptor = try Syscalls.openReadOnly(path)
                defer { Syscalls.closeFile(descriptor) }
                var bytes = [UInt8](repeating: 0, count: 8)
                let count = try bytes.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                start = Array(bytes[..<count])
            } catch let error as Errno {
                throw QCLabError.hdf5(path: path, reason: "cannot be read: \(error.explained())")
            }
            throw QCLabError.hdf5(
                path: path, reason: start == signature ? "damaged or unsupported HDF5 file" : "not an HDF5 file")
        }
        return HDF5File(id: id, reportedPath: path)
    }

    func failure(_ reason: String) -> QCLabError { .hdf5(path: reportedPath, reason: reason) }

    /// Runs `body` on this file, then closes it; a failed close (data not written) throws.
    func closing<T>(_ body: (HDF5File) throws -> T) throws -> T {
        let result: T
        do { result = try body(self) } catch { _ = H5Fclose(id); throw error }
        errno = 0
        guard H5Fclose(id) >= 0 else { throw failure("cannot finish writing the file" + Self.systemReason()) }
        return result
    }

    /// The reason the system gave for the last failed write (`errno`), for messages:
    /// `: No space left on device`, or nothing when HDF5 failed for its own reasons.
    static func systemReason() -> String {
        let code = errno
        guard code != 0 else { return "" }
        return ": " + Errno(rawValue: code).explained()
    }

    /// Runs `body` with an HDF5 identifier, then releases it; a negative identifier (HDF5's
    /// failure signal) throws "cannot `action`" instead.
    private func using<T>(
        _ handle: hid_t, _ release: (hid_t) -> herr_t, orCannot action: @autoclosure () -> String,
        _ body: (hid_t) throws -> T
    ) throws -> T {
        guard handle >= 0 else { throw failure("cannot \(action())") }
        defer { _ = release(handle) }
        return try body(handle)
    }

    /// Runs `body` with h5py's complex128 type: a compound of `r` and `i`, each of `member` type.
    private func withComplexType<T>(member: hid_t, _ body: (hid_t) throws -> T) throws -> T {
        try using(H5Tcreate(H5T_COMPOUND, 16), H5Tclose, orCannot: "make the complex type") { type in
            guard H5Tinsert(type, "r", 0, member) >= 0, H5Tinsert(type, "i", 8, member) >= 0 else {
                throw failure("cannot make the complex type")
            }
            return try body(type)
        }
    }

    /// Runs `body` with a variable-length C string type in `characterSet`.
    private func withVariableStringType<T>(characterSet: H5T_cset_t, _ body: (hid_t) throws -> T) throws -> T {
        try using(H5Tcopy(qclab_h5t_c_s1()), H5Tclose, orCannot: "make a string type") { type in
            guard H5Tset_size(type, qclab_h5t_variable()) >= 0, H5Tset_cset(type, characterSet) >= 0 else {
                throw failure("cannot make a string type")
            }
            return try body(type)
        }
    }

    // MARK: Writing

    /// Writes int64 values.
    func writeIntegers(_ name: String, shape: [Int], values: [Int64], storage: DatasetStorage = .plain) throws {
        try write(
            name, shape: shape, fileType: qclab_h5t_std_i64le(), memoryType: qclab_h5t_native_int64(), values: values,
            storage: storage)
    }

    /// Writes float64 values, or interleaved `re, im` pairs as h5py's complex compound.
    func writeReals(
        _ name: String, shape: [Int], isComplex: Bool, values: [Double], storage: DatasetStorage = .plain
    ) throws {
        guard isComplex else {
            return try write(
                name, shape: shape, fileType: qclab_h5t_ieee_f64le(),
                memoryType: qclab_h5t_native_double(), values: values, storage: storage)
        }
        try withComplexType(member: qclab_h5t_ieee_f64le()) { fileType in
            try withComplexType(member: qclab_h5t_native_double()) { memoryType in
                try write(
                    name, shape: shape, fileType: fileType, memoryType: memoryType, values: values, perElement: 2,
                    storage: storage)
            }
        }
    }

    private func write<Element>(
        _ name: String, shape: [Int], fileType: hid_t, memoryType: hid_t,
        values: [Element], perElement: Int = 1, storage: DatasetStorage
    ) throws {
        guard values.count == shape.reduce(1, *) * perElement else {
            throw failure("'\(name)' holds \(values.count) numbers but has shape \(shape)")
        }
        let dimensions = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), dimensions, nil)
        try using(space, H5Sclose, orCannot: "make the dataspace of '\(name)'") { space in
            try withCreationProperties(
                values.isEmpty ? .plain : storage, shape: shape,
                elementBytes: MemoryLayout<Element>.stride * perElement, name: name
            ) { creation in
                errno = 0
                let dataset = H5Dcreate2(id, name, fileType, space, defaultProperties, creation, defaultProperties)
                try using(dataset, H5Dclose, orCannot: "create dataset '\(name)'") { dataset in
                    guard !values.isEmpty else { return }
                    let status = values.withUnsafeBytes {
                        H5Dwrite(dataset, memoryType, wholeSpace, wholeSpace, defaultProperties, $0.baseAddress)
                    }
                    guard status >= 0 else { throw failure("cannot write dataset '\(name)'" + Self.systemReason()) }
                }
            }
        }
    }

    /// Runs `body` with the dataset-creation properties of `storage`, without the
    /// modification times HDF5 records by default (16 bytes a dataset, and a file that
    /// differs from run to run).
    ///
    /// - `.plain`: in one piece, as written.
    /// - `.deflated`: chunks of whole time points (about 1 MiB at most), deflated at level
    ///   1. No byte shuffling: deflate finds repeated values whole (a Hermitian output's
    ///   mirrored standard errors), which shuffling would cut apart; the fastest level finds
    ///   them as well (files within 0.3% of level 4's, deflated in half the time).
    /// - `.exactSums` (whose last axis holds an element's limbs): chunks of one limb of
    ///   every element over whole time points (about 1 MiB at most), so that values alike
    ///   are stored together, then byte shuffling and deflate at level 4.
    private func withCreationProperties<T>(
        _ storage: DatasetStorage, shape: [Int], elementBytes: Int, name: String, _ body: (hid_t) throws -> T
    ) throws -> T {
        try using(H5Pcreate(qclab_h5p_dataset_create()), H5Pclose, orCannot: "create dataset '\(name)'") { creation in
            guard H5Pset_obj_track_times(creation, false) >= 0 else {
                throw failure("cannot create dataset '\(name)'")
            }
            guard storage != .plain, !shape.isEmpty else { return try body(creation) }
            let inner: [Int]
            switch storage {
            case .exactSums: inner = shape.count > 1 ? Array(shape.dropFirst().dropLast()) + [1] : []
            default: inner = Array(shape.dropFirst())
            }
            let perPoint = inner.reduce(1, *) * elementBytes
            let points = max(1, min(shape[0], (1 << 20) / max(perPoint, 1)))
            let chunk = ([points] + inner).map { hsize_t($0) }
            guard H5Pset_chunk(creation, Int32(chunk.count), chunk) >= 0,
                storage != .exactSums || H5Pset_shuffle(creation) >= 0,
                H5Pset_deflate(creation, storage == .exactSums ? 4 : 1) >= 0
            else {
                throw failure("cannot compress dataset '\(name)'")
            }
            return try body(creation)
        }
    }

    /// Writes an attribute the way h5py stores a Python `str`: variable-length UTF-8, scalar.
    ///
    /// - Parameter object: the dataset to attach it to, or `.` for the root group.
    func writeStringAttribute(_ name: String, _ value: String, of object: String = ".") throws {
        try withVariableStringType(characterSet: H5T_CSET_UTF8) { type in
            try using(H5Screate(H5S_SCALAR), H5Sclose, orCannot: "make a scalar dataspace") { space in
                let attribute = H5Acreate_by_name(
                    id, object, name, type, space, defaultProperties, defaultProperties, defaultProperties)
                try using(attribute, H5Aclose, orCannot: "create attribute '\(name)'") { attribute in
                    let status = value.withCString { characters in
                        withUnsafePointer(to: characters) { H5Awrite(attribute, type, $0) }
                    }
                    guard status >= 0 else { throw failure("cannot write attribute '\(name)'") }
                }
            }
        }
    }

    // MARK: Reading

    /// Names of the root group's members, which must all be datasets.
    func datasetNames() throws -> [String] {
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { throw failure("cannot list the root group") }
        return try (0..<info.nlinks).map { index in
            let name = try memberName(at: index)
            try using(H5Oopen(id, name, defaultProperties), H5Oclose, orCannot: "open '\(name)'") {
                guard H5Iget_type($0) == H5I_DATASET else {
                    throw failure("'\(name)' is not a dataset (groups are not supported)")
                }
            }
            return name
        }
    }

    /// The name of the root group's member `index`, in name order.
    private func memberName(at index: hsize_t) throws -> String {
        let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, defaultProperties)
        guard length >= 0 else { throw failure("cannot read the name of member \(index)") }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        guard
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, defaultProperties)
                >= 0
        else { throw failure("cannot read the name of member \(index)") }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func readSingleInteger(_ name: String) throws -> Int {
        let values = try readIntegers(name)
        guard values.count == 1 else { throw failure("'\(name)' must hold one integer, not \(values.count)") }
        return Int(values[0])
    }

    /// Reads an integer dataset of any width or sign as int64.
    func readIntegers(_ name: String) throws -> [Int64] {
        try read(name) { dataset, type, count in
            guard H5Tget_class(type) == H5T_INTEGER, Self.isStandardNumber(type) else {
                throw failure("'\(name)' is not an integer dataset of a standard type")
            }
            return try readValues(dataset, name, memoryType: qclab_h5t_native_int64(), count: count, zero: Int64(0))
        }.values
    }

    /// Reads an int64 dataset with its shape.
    func readIntegersWithShape(_ name: String) throws -> (shape: [Int], values: [Int64]) {
        try read(name) { dataset, type, count in
            guard H5Tget_class(type) == H5T_INTEGER, H5Tget_size(type) == 8 else {
                throw failure("'\(name)' is not an int64 dataset")
            }
            return try readValues(dataset, name, memoryType: qclab_h5t_native_int64(), count: count, zero: Int64(0))
        }
    }

    /// Reads a float (or integer) dataset, or h5py's `{r, i}` compound as interleaved pairs.
    func readReals(_ name: String) throws -> (shape: [Int], isComplex: Bool, values: [Double]) {
        let result = try read(name) { dataset, type, count -> (Bool, [Double]) in
            let typeClass = H5Tget_class(type)
            if typeClass == H5T_FLOAT || typeClass == H5T_INTEGER {
                guard Self.isStandardNumber(type) else { throw failure("'\(name)' is not of a standard number type") }
                return (
                    false,
                    try readValues(dataset, name, memoryType: qclab_h5t_native_double(), count: count, zero: 0.0)
                )
            }
            guard typeClass == H5T_COMPOUND, Self.isComplexPair(type) else {
                throw failure("'\(name)' is neither float64 nor h5py's complex {r, i} compound")
            }
            return (
                true,
                try withComplexType(member: qclab_h5t_native_double()) {
                    try readValues(dataset, name, memoryType: $0, count: 2 * count, zero: 0.0)
                }
            )
        }
        return (result.shape, result.values.0, result.values.1)
    }

    /// Throws unless every dataset's declared size is believable, before anything is read.
    ///
    /// A dataset stored as is (no compression filter) cannot declare more bytes than the whole file
    /// has, and all of them together must fit in the memory available. A file of a few KB that
    /// declares 10^11 elements is refused here, instead of ending the process in a failed
    /// allocation.
    func checkDeclaredSizes(of names: [String]) throws {
        let fileBytes = (try? Syscalls.status(reportedPath)).map { Double($0.st_size) } ?? .infinity
        var memoryBytes = 0.0
        for name in names {
            try using(H5Dopen2(id, name, defaultProperties), H5Dclose, orCannot: "open dataset '\(name)'") { dataset in
                let elements = try declaredElementCount(dataset, name)
                let elementBytes = try using(H5Dget_type(dataset), H5Tclose, orCannot: "read the type of '\(name)'") {
                    Double(H5Tget_size($0))
                }
                let (filters, layout) = try using(
                    H5Dget_create_plist(dataset), H5Pclose,
                    orCannot: "read how '\(name)' is stored"
                ) {
                    (H5Pget_nfilters($0), H5Pget_layout($0))
                }
                if filters == 0 && elements * elementBytes > fileBytes {
                    throw failure(
                        "dataset '\(name)' declares \(Self.describe(elements)) elements (\(ByteCount.describe(elements * elementBytes))), more than the whole file (\(ByteCount.describe(fileBytes))) holds"
                    )
                }
                // Data stored in one piece must be exactly as large as declared. HDF5 1.10
                // does not check this for compact datasets and copies past the end of its
                // buffer when reading them (found by FuzzHDF5Reader; later HDF5 versions refuse
                // such a file when opening the dataset).
                let stored = Double(H5Dget_storage_size(dataset))
                if filters == 0, layout == H5D_COMPACT || (layout == H5D_CONTIGUOUS && stored > 0),
                    stored != elements * elementBytes
                {
                    throw failure(
                        "dataset '\(name)' is damaged: it declares \(ByteCount.describe(elements * elementBytes)) but stores \(ByteCount.describe(stored))"
                    )
                }
                // Read as float64, or as two for a complex element.
                memoryBytes += elements * 16
            }
        }
        if let available = SystemMemory.available(), memoryBytes > available {
            throw failure(
                "its datasets need about \(ByteCount.describe(memoryBytes)) of memory to read, but only \(ByteCount.describe(available)) is available"
            )
        }
    }

    /// The number of elements dataset `name` declares, as a double (it may exceed `Int`).
    private func declaredElementCount(_ dataset: hid_t, _ name: String) throws -> Double {
        try using(H5Dget_space(dataset), H5Sclose, orCannot: "read the shape of '\(name)'") { space in
            let rank = Int(H5Sget_simple_extent_ndims(space))
            guard rank >= 0 else { throw failure("cannot read the shape of '\(name)'") }
            var dimensions = [hsize_t](repeating: 0, count: rank)
            guard H5Sget_simple_extent_dims(space, &dimensions, nil) >= 0 else {
                throw failure("cannot read the shape of '\(name)'")
            }
            return dimensions.reduce(1.0) { $0 * Double($1) }
        }
    }

    private static func describe(_ count: Double) -> String {
        count < 1e15 ? String(Int(count)) : String(format: "%.3g", count)
    }

    /// Opens dataset `name` and hands its type and element count to `body`, with its shape.
    private func read<T>(_ name: String, _ body: (hid_t, hid_t, Int) throws -> T) throws -> (shape: [Int], values: T) {
        try using(H5Dopen2(id, name, defaultProperties), H5Dclose, orCannot: "open dataset '\(name)'") { dataset in
            let shape = try using(H5Dget_space(dataset), H5Sclose, orCannot: "read the shape of '\(name)'") { space in
                var dimensions = [hsize_t](repeating: 0, count: max(0, Int(H5Sget_simple_extent_ndims(space))))
                guard H5Sget_simple_extent_dims(space, &dimensions, nil) >= 0 else {
                    throw failure("cannot read the shape of '\(name)'")
                }
                // checkDeclaredSizes has bounded these; clamp rather than trap all the same.
                return dimensions.map { Int(clamping: $0) }
            }
            let (count, overflow) = shape.reduce((1, false)) { partial, dimension in
                let product = partial.0.multipliedReportingOverflow(by: dimension)
                return (product.partialValue, partial.1 || product.overflow)
            }
            guard !overflow, count <= Int.max / 16 else {
                throw failure("dataset '\(name)' declares too many elements")
            }
            let values = try using(H5Dget_type(dataset), H5Tclose, orCannot: "read the type of '\(name)'") {
                try body(dataset, $0, count)
            }
            return (shape, values)
        }
    }

    private func readValues<Element>(
        _ dataset: hid_t, _ name: String, memoryType: hid_t, count: Int,
        zero: Element
    ) throws -> [Element] {
        var values = [Element](repeating: zero, count: count)
        guard count > 0 else { return values }
        let status = values.withUnsafeMutableBytes {
            H5Dread(dataset, memoryType, wholeSpace, wholeSpace, defaultProperties, $0.baseAddress)
        }
        guard status >= 0 else { throw failure("cannot read dataset '\(name)'") }
        return values
    }

    /// Whether `type` is a number type that h5py and NumPy write.
    ///
    /// That is an IEEE float32 or float64 (either byte order), or an integer of 1, 2, 4 or 8 bytes
    /// using all its bits. Anything else is refused before HDF5 converts it: HDF5 1.10 trusts a
    /// damaged float description (its bit positions) and copies out of bounds converting it (found
    /// by FuzzHDF5Reader).
    static func isStandardNumber(_ type: hid_t) -> Bool {
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            return [qclab_h5t_ieee_f64le(), qclab_h5t_ieee_f64be(), qclab_h5t_ieee_f32le(), qclab_h5t_ieee_f32be()]
                .contains { H5Tequal(type, $0) > 0 }
        case H5T_INTEGER:
            let size = H5Tget_size(type)
            return [1, 2, 4, 8].contains(size) && H5Tget_precision(type) == size * 8 && H5Tget_offset(type) == 0
        default:
            return false
        }
    }

    /// Whether `type` is h5py's complex compound as NumPy lays it out.
    ///
    /// Members `r` at offset 0 and `i` right after it, both the same standard float, nothing else.
    /// A damaged compound (members past its end) makes HDF5 1.10 convert out of bounds (found by
    /// FuzzHDF5Reader), so nothing looser is read.
    static func isComplexPair(_ type: hid_t) -> Bool {
        guard H5Tget_nmembers(type) == 2 else { return false }
        var members: [(name: String, offset: Int, size: Int)] = []
        for index: UInt32 in 0..<2 {
            let member = H5Tget_member_type(type, index)
            guard member >= 0 else { return false }
            defer { H5Tclose(member) }
            guard H5Tget_class(member) == H5T_FLOAT, isStandardNumber(member),
                let name = H5Tget_member_name(type, index)
            else { return false }
            defer { H5free_memory(name) }
            members.append((String(cString: name), H5Tget_member_offset(type, index), H5Tget_size(member)))
        }
        let size = members[0].size
        return members.map(\.name) == ["r", "i"] && members[1].size == size
            && members[0].offset == 0 && members[1].offset == size && H5Tget_size(type) == 2 * size
    }

    /// An attribute `name` as a string (variable- or fixed-length), or nil if absent.
    ///
    /// - Parameter object: the dataset it is attached to, or `.` for the root group.
    func readStringAttribute(_ name: String, of object: String = ".") throws -> String? {
        guard H5Aexists_by_name(id, object, name, defaultProperties) > 0 else { return nil }
        return try using(
            H5Aopen_by_name(id, object, name, defaultProperties, defaultProperties), H5Aclose,
            orCannot: "open attribute '\(name)'"
        ) { attribute in
            let count = try using(H5Aget_space(attribute), H5Sclose, orCannot: "read attribute '\(name)'") {
                H5Sget_simple_extent_npoints($0)
            }
            return try using(H5Aget_type(attribute), H5Tclose, orCannot: "read attribute '\(name)'") { fileType in
                guard H5Tget_class(fileType) == H5T_STRING, count == 1 else {
                    throw failure("attribute '\(name)' is not a single string")
                }
                if H5Tis_variable_str(fileType) > 0 {
                    return try withVariableStringType(characterSet: H5Tget_cset(fileType)) { memoryType in
                        var characters: UnsafeMutablePointer<CChar>?
                        guard H5Aread(attribute, memoryType, &characters) >= 0 else {
                            throw failure("cannot read attribute '\(name)'")
                        }
                        defer { H5free_memory(characters) }
                        return characters.map { String(cString: $0) } ?? ""
                    }
                }
                let size = H5Tget_size(fileType)
                let fileBytes = (try? Syscalls.status(reportedPath)).map { Int($0.st_size) } ?? Int.max
                guard size <= fileBytes else {
                    throw failure("attribute '\(name)' declares \(size) bytes, more than the whole file holds")
                }
                var bytes = [UInt8](repeating: 0, count: size)
                guard H5Aread(attribute, fileType, &bytes) >= 0 else {
                    throw failure("cannot read attribute '\(name)'")
                }
                var text = bytes.prefix { $0 != 0 }[...]
                if H5Tget_strpad(fileType) == H5T_STR_SPACEPAD { while text.last == 0x20 { text.removeLast() } }
                return String(decoding: text, as: UTF8.self)
            }
        }
    }
}

/// The `checksums` attribute: a CRC-32C of every dataset and attribute of the file, one
/// line each after a header line, `<8 hex digits> <name>`, attributes named `@name`.
///
/// A dataset's checksum covers its kind (`i` int64, `f` float64, `c` complex128), its
/// rank and dimensions (uint64) and its values as read (int64 or float64, complex as
/// `re, im` pairs), all little-endian; an attribute's covers its UTF-8 bytes.
private struct ChecksumList {
    static let header = "qclab-checksums 1 crc32c"
    enum Kind: UInt8 { case integer = 0x69, real = 0x66, complex = 0x63 }

    private(set) var entries: [(name: String, digest: UInt32)] = []

    init() {}

    /// Parses the attribute's text; nil if it is not well formed.
    init?(parsing text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(Self.header), lines.last == "" else { return nil }
        lines.removeFirst()
        lines.removeLast()
        for line in lines {
            guard line.count > 9, line.dropFirst(8).first == " ", let digest = UInt32(line.prefix(8), radix: 16) else {
                return nil
            }
            let name = String(line.dropFirst(9))
            guard !entries.contains(where: { $0.name == name }) else { return nil }
            entries.append((name, digest))
        }
    }

    var text: String {
        ([Self.header]
            + entries.map { entry in eightHexDigits(entry.digest) + " " + entry.name }).joined(separator: "\n")
            + "\n"
    }

    mutating func add(_ name: String, _ digest: UInt32) { entries.append((name, digest)) }

    func digest(of name: String) -> UInt32? { entries.first { $0.name == name }?.digest }

    static func digest(kind: Kind, shape: [Int], integers: [Int64] = [], reals: [Double] = []) -> UInt32 {
        var crc = CRC32C()
        withUnsafeBytes(of: kind.rawValue) { crc.add($0) }
        crc.add(littleEndian: [UInt64(shape.count)] + shape.map { UInt64($0) })
        crc.add(littleEndian: integers)
        crc.add(littleEndian: reals)
        return crc.digest
    }

    static func digest(of string: String) -> UInt32 {
        var crc = CRC32C()
        Array(string.utf8).withUnsafeBytes { crc.add($0) }
        return crc.digest
    }
}

extension HDF5File {
    /// Throws, naming the dataset or attribute, unless the file holds exactly what `list`
    /// covers and every checksum matches.
    fileprivate func verify(_ list: ChecksumList, datasetNames names: [String]) throws {
        for name in names {
            guard let expected = list.digest(of: name) else {
                throw failure("damaged: dataset '\(name)' is not covered by its checksums")
            }
            guard try digest(ofDataset: name) == expected else {
                throw failure("damaged: dataset '\(name)' does not match its checksum")
            }
        }
        for attribute in coveredAttributes {
            let value = try readStringAttribute(attribute)
            switch (value, list.digest(of: "@" + attribute)) {
            case (nil, nil): continue
            case (nil, _?): throw failure("damaged: attribute '\(attribute)' is missing")
            case (_?, nil): throw failure("damaged: attribute '\(attribute)' is not covered by its checksums")
            case let (value?, expected?):
                guard ChecksumList.digest(of: value) == expected else {
                    throw failure("damaged: attribute '\(attribute)' does not match its checksum")
                }
            }
        }
        for entry in list.entries where !entry.name.hasPrefix("@") && !names.contains(entry.name) {
            throw failure("damaged: dataset '\(entry.name)' is missing")
        }
        for entry in list.entries
        where entry.name.hasPrefix("@") && !coveredAttributes.contains(String(entry.name.dropFirst())) {
            throw failure("damaged: attribute '\(entry.name.dropFirst())' is missing")
        }
    }

    /// The version of the file's superblock: 0 for h5py's default (QC Lab's files), 2 for
    /// HDF5 1.8's format, which qclab writes.
    fileprivate func superblockVersion() throws -> UInt32 {
        var info = H5F_info2_t()
        guard H5Fget_info2(id, &info) >= 0 else { throw failure("cannot read the superblock") }
        return info.super.version
    }

    /// The checksum of a dataset's values as read.
    private func digest(ofDataset name: String) throws -> UInt32 {
        let isInteger = try read(name) { _, type, _ in H5Tget_class(type) == H5T_INTEGER }.values
        if isInteger {
            let (shape, values) = try readIntegersWithShape(name)
            return ChecksumList.digest(kind: .integer, shape: shape, integers: values)
        }
        let (shape, isComplex, values) = try readReals(name)
        return ChecksumList.digest(kind: isComplex ? .complex : .real, shape: shape, reals: values)
    }
}
