import QCLab

/// Checks on an output path, made before any work so that a bad path costs nothing.
enum OutputPath {
    /// The checked output (see ``OutputTarget``): refused if its folder is missing or not
    /// writable, if it names something other than a regular file, if it is one of
    /// `protected`, or if the file system cannot hold its name.
    @discardableResult
    static func checkWritable(_ path: String, protecting protected: [(role: String, path: String)] = []) throws
        -> OutputTarget
    {
        try OutputTarget(path: path, protecting: protected)
    }
}

extension RunCommand {
    /// `--output`, checked before the run (after `--checkpoint`): it must not be the job
    /// file (an `--append` input may be the output: it is read first, and replaced only once
    /// the run is whole).
    func checkedOutput() throws -> OutputTarget {
        try checkCheckpointPath()
        return try OutputPath.checkWritable(output, protecting: job.map { [("job file", $0)] } ?? [])
    }

    /// Checks the `--checkpoint` path before the run.
    ///
    /// It must not be the output (removed once the output is written, it would take the output with
    /// it), the job file or the `--append` input (each replaced as the run goes), by any name: the
    /// same path, a hard link or a symbolic link. It must also be fit to be written, as an output
    /// is.
    func checkCheckpointPath() throws {
        guard let checkpoint else { return }
        let others =
            [("--output", output)] + (job.map { [("the job file", $0)] } ?? [])
            + (append.map { [("--append", $0)] } ?? [])
        for (role, path) in others where OutputTarget.aliases(checkpoint, path) {
            throw QCLabError.invalidPath(
                "--checkpoint '\(checkpoint)' is the same file as \(role) '\(path)'; give the checkpoint a path of its own"
            )
        }
        _ = try OutputTarget(path: checkpoint, kind: "checkpoint", probingName: false)
    }

    /// Refuses the run before it starts if its output cannot fit on the output's file
    /// system (a lower bound of the output's size against the free space).
    func checkFreeSpace(at target: OutputTarget, job: Job, previous: SimulationData) throws {
        let trajectories = (job.seeds?.count ?? job.simulation.settings.numTrajs) + previous.seeds.count
        // Memory first: a run that cannot even be held is the more basic problem.
        try job.simulation.checkMemory(
            trajectories: trajectories - previous.seeds.count, existingSeeds: previous.seeds.count)
        try target.checkFreeSpace(atLeast: job.simulation.estimatedOutputBytes(trajectories: trajectories))
    }
}
