import QCLab

// Tully's first problem below the upper surface's threshold: upward hops are frustrated,
// and each reverses the particle. Compare the transmitted fraction with QC Lab's FSSH.
let output = CommandLine.arguments.dropFirst().first ?? "reversing-fssh.h5"
var settings = SimulationSettings(tmax: 2000, dtUpdate: 0.5, dtCollect: 50)
settings.numTrajs = 200
settings.batchSize = 50
let model = try ModelRegistry.make(
    name: "TullyProblemOne", constants: ["init_momentum": .number(7), "init_position": .number(-4)])
var simulation = Simulation(
    settings: settings, model: model, algorithm: ReversingFSSH(),
    initialWavefunction: [Complex(1), Complex(0)])
simulation.outputs = [try OutputRegistry.make("p", model: model)]
let reversing = try parallelDriverMultiprocessing(simulation)
simulation.algorithm = FewestSwitchesSurfaceHopping()
let plain = try serialDriver(simulation)
try reversing.save(to: output)
print("t        <p> reversing FSSH   <p> FSSH")
let p = reversing.vectors("p")!, pPlain = plain.vectors("p")!  // p[t][coordinate]
for (k, t) in reversing.times.enumerated() where k % 4 == 0 {
    print(t, p[k][0], pPlain[k][0], separator: "    ")
}
print("wrote \(output)")
