import XCTest
import Foundation
@testable import QCLab

final class DumpForDebug: XCTestCase {
    func testDumpAll() throws {
        guard ProcessInfo.processInfo.environment["QCLAB_DUMP"] != nil else { return }
        let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let only = ProcessInfo.processInfo.environment["QCLAB_DUMP"]!
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".json") && file != "index.json" && file != "random_draws.json" {
            let name = String(file.dropLast(5))
            if only != "all" && !name.hasPrefix(only) { continue }
            let job = try Job(contentsOf: dir.appendingPathComponent(file).path)
            let start = Date()
            let data = try serialDriver(job.simulation, seeds: job.seeds)
            var out: [String: [Double]] = [:]
            for o in data.observables { out[o.name] = data.mean(o.name)! }
            let json = try JSONSerialization.data(withJSONObject: out)
            try json.write(to: URL(fileURLWithPath: "/tmp/ours_\(name).json"))
            print("dumped", name, Date().timeIntervalSince(start))
        }
    }
}
