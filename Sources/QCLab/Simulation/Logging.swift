import Logging

/// The library's logger (swift-log), label `qclab`.
let qclabLogger = Logger(label: "qclab")
