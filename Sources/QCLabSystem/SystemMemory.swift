import QCLabCore
import CQCLabProcess
import Foundation

/// How much memory this process may still use, for refusing runs that cannot fit before
/// they start.
package enum SystemMemory {
    /// Bytes available: the kernel's `MemAvailable` (`/proc/meminfo`), lowered to what the
    /// cgroup's `memory.max` leaves; nil where neither can be read (then nothing is refused).
    package static func available() -> Double? { availability()?.bytes }

    /// Bytes available, as ``available()``, lowered further to what the address-space
    /// limit (`ulimit -v`) leaves this process; `limit` names that limit when it is the
    /// one that binds.
    package static func availability() -> (bytes: Double, limit: String?)? {
        let memory = physicallyAvailable()
        let limit = qclab_resource_limit(2)
        guard limit >= 0, let used = addressSpaceInUse() else { return memory.map { ($0, nil) } }
        let headroom = Swift.max(Double(limit) - used, 0)
        guard headroom < (memory ?? .infinity) else { return memory.map { ($0, nil) } }
        return (headroom, "the address-space limit, ulimit -v, is \(limit / 1024) KiB")
    }

    /// This process's address space in bytes (`VmSize` of /proc/self/status).
    private static func addressSpaceInUse() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmSize:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return kib * 1024
    }

    private static func physicallyAvailable() -> Double? {
        var result: Double?
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            result = kib * 1024
        }
        if let limit = cgroupValue("memory.max"), let used = cgroupValue("memory.current") {
            result = Swift.min(result ?? .infinity, Swift.max(limit - used, 0))
        }
        return result
    }

    /// A number from this process's cgroup (v2) file `name`; nil for "max" or if absent.
    private static func cgroupValue(_ name: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/" + name, encoding: .utf8) else { return nil }
        return Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
