import QCLabIO
import QCLabCore
import QCLabSystem

extension Simulation {
    /// Throws unless a run of `trajectories` new trajectories fits in the memory this
    /// process may still use (``SystemMemory/available()``); the message gives both
    /// numbers and names the setting behind the largest part.
    package func checkMemory(trajectories: Int, existingSeeds: Int = 0) throws {
        guard let (available, limit) = SystemMemory.availability() else { return }
        let (needed, parts) = estimatedRunBytes(trajectories: trajectories, existingSeeds: existingSeeds)
        guard needed > available else { return }
        let largest = parts.max { $0.bytes < $1.bytes }!
        let detail = parts.filter { $0.bytes >= 0.01 * needed }
            .map { "\($0.what) \(ByteCount.describe($0.bytes))" }.joined(separator: ", ")
        throw QCLabError.invalidSetting(
            largest.setting,
            "makes the run need about \(ByteCount.describe(needed)) of memory (\(detail)), but only \(ByteCount.describe(available)) is available"
                + (limit.map { " (\($0))" } ?? ""))
    }
}
