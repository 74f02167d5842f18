import QCLabSystem
import QCLabIO
import QCLabCore

/// Which seeds run, cut into batches: the rules all drivers share.
///
/// Without explicit seeds, the seeds are `0 ..< num_trajs`, or continue after the largest
/// seed of the data being added to; explicit seeds set `num_trajs`. Batches hold
/// `batch_size` seeds in order, the last one fewer. In deterministic surface hopping every
/// batch holds whole branch groups.
package struct RunPlan: Sendable, Equatable {
    /// Every seed of the run, in order.
    package let seeds: [Int]
    /// The batches, as index ranges into `seeds`.
    package let batches: [Range<Int>]

    package init(
        simulation: Simulation, seeds explicitSeeds: [Int]? = nil, continuing data: SimulationData = SimulationData()
    ) throws {
        try simulation.validate()
        try self.init(validated: simulation, seeds: explicitSeeds, continuing: data)
    }

    /// The plan of a simulation validated already (a ``Job``'s): the checks of the seeds
    /// and of the data continued, not those of the simulation again.
    package init(validated simulation: Simulation, seeds explicitSeeds: [Int]?, continuing data: SimulationData) throws
    {
        if !data.isEmpty, let difference = JobRecord.difference(data.job, simulation.jobRecord) {
            throw QCLabError.incompatibleData(
                "different jobs: \(difference.path) is \(difference.mine) in the data continued but \(difference.theirs) in this job"
            )
        }
        // Data that records no job (QC Lab's) is checked on what it holds: its time grid.
        if !data.isEmpty && data.job == nil {
            let grid = simulation.timeGrid.collectTimes, times = data.times
            guard times.count == grid.count,
                zip(times, grid).allSatisfy({ abs($0 - $1) <= 1e-9 * Swift.max(1, abs($1)) })
            else {
                throw QCLabError.incompatibleData(
                    "time grids differ: the data continued has \(SimulationData.describeTimeGrid(times)), this job \(SimulationData.describeTimeGrid(grid))"
                )
            }
        }
        let seeds: [Int]
        if let explicitSeeds {
            guard !explicitSeeds.isEmpty else { throw QCLabError.invalidSetting("seeds", "must not be empty") }
            if let bad = explicitSeeds.first(where: { $0 < 0 || $0 > Int(UInt32.max) }) {
                throw QCLabError.invalidSetting("seeds", "must lie in 0...4294967295, got \(bad)")
            }
            guard Set(explicitSeeds).count == explicitSeeds.count else {
                throw QCLabError.invalidSetting("seeds", "must not repeat a seed")
            }
            try simulation.checkMemory(trajectories: explicitSeeds.count, existingSeeds: data.seeds.count)
            seeds = explicitSeeds
        } else {
            let start = data.nextSeed, count = simulation.settings.numTrajs
            // Seeds are 32-bit (QC Lab seeds NumPy's legacy generator with them).
            guard start <= Int(UInt32.max) + 1 - count else {
                throw QCLabError.invalidSetting(
                    "num_trajs",
                    "of \(count) continuing after seed \(start - 1) would need seeds up to \(start + count - 1), beyond the largest seed 4294967295; give explicit 'seeds'"
                )
            }
            try simulation.checkMemory(trajectories: count, existingSeeds: data.seeds.count)
            seeds = Array(start..<start + count)
        }
        if let overlap = seeds.first(where: Set(data.seeds).contains) {
            throw QCLabError.invalidSetting("seeds", "seed \(overlap) is already in the data being continued")
        }
        let branches = simulation.algorithm.branchCount(for: simulation.model)
        guard seeds.count % branches == 0 else {
            throw QCLabError.invalidSetting(
                "num_trajs",
                "must be a multiple of the \(branches) quantum states in deterministic surface hopping, got \(seeds.count)"
            )
        }
        self.seeds = seeds
        let size = simulation.settings.batchSize
        batches = stride(from: 0, to: seeds.count, by: size).map { $0..<min($0 + size, seeds.count) }
    }

    /// The seeds of batch `index`.
    package func seeds(ofBatch index: Int) -> [Int] { Array(seeds[batches[index]]) }
}
