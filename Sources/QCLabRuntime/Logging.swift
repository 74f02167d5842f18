import QCLabCore
import QCLabSystem
import QCLabIO
import Foundation
import Logging

/// Where the library's log lines go (swift-log): nowhere, unless the program asks.
///
/// A library should not write to a program's standard error on its own, so QCLab stays
/// quiet by default, whether or not the program has bootstrapped swift-log. To see what
/// the drivers do (the run's settings, each batch, warnings), give it a logger:
///
/// ```swift
/// QCLabLogging.logger = Logger(label: "qclab")   // through the program's LoggingSystem
/// ```
///
/// Every line also goes into the run's ``SimulationData/log`` regardless.
public enum QCLabLogging {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured: Logger?

    /// The logger the library writes to; `nil` (the default) keeps it quiet.
    public static var logger: Logger? {
        get { lock.withLock { configured } }
        set { lock.withLock { configured = newValue } }
    }

    package static let quiet = Logger(label: "qclab", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// The library's logger: the program's choice, else one that drops everything.
package var qclabLogger: Logger { QCLabLogging.logger ?? QCLabLogging.quiet }
