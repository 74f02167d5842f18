import Observation
import QCLab
import Synchronization
import XCTest

/// A file that imports both QCLab and Observation can use Observation's `Observable`
/// unqualified: QCLab declares no type of that name (its exact-sum outputs are
/// ``OutputAccumulator``s), so this file compiles only while that holds.
@Observable
final class ObservedRun {
    var data: SimulationData?
    var accumulators: [OutputAccumulator] = []
}

final class ObservationCoexistenceTests: XCTestCase {
    func testObservationsObservableAndQCLabOutputsMeetInOneFile() {
        func observable<T: Observable>(_ value: T) -> T { value }
        let run = observable(ObservedRun())
        let changed = Mutex(false)
        withObservationTracking {
            _ = run.accumulators
        } onChange: {
            changed.withLock { $0 = true }
        }
        XCTAssertFalse(changed.withLock { $0 })
        run.accumulators.append(OutputAccumulator(name: "x", shape: [1], isComplex: false))
        XCTAssertTrue(changed.withLock { $0 }, "Observation tracked the change")
        XCTAssertEqual(run.accumulators.map(\.name), ["x"])
    }
}
