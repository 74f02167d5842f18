import QCLabCore
import QCLabSystem
import CQCLabProcess
import Foundation
import SystemPackage

/// Where an output file goes, checked before any work is done, and the one way it is
/// written: under a hidden temporary name beside it, renamed over it once complete.
///
/// The promises (README, "What qclab promises"): the folder exists and is writable; the
/// path names nothing, or a regular file (never a device node, folder, symbolic link or
/// pipe, which a rename would replace); it is none of the inputs it must not replace (the
/// job file); the file system can hold both its name and the temporary one (found by
/// creating and removing them, so a name that is too long or that the file system refuses
/// fails before a run, not after). A signal (SIGTERM, SIGINT, SIGHUP) that ends the
/// process while the file is written removes the temporary file.
package struct OutputTarget: Sendable {
    /// The path as the user gave it.
    package let path: String
    package let folder: String
    package let fileName: String

    /// Checks `path` as an output.
    ///
    /// `protected` are inputs it must not be, each with its role in messages
    /// (`("job file", "job.json")`); `kind` names the file in messages
    /// (`output path 'o.h5' is a folder`, `checkpoint path 'ck' is a symbolic link, ...`). With
    /// `probingName` false only the temporary name is created and removed, not the path itself: for
    /// a file that must never exist other than whole (a checkpoint, whose empty probe a SIGKILL at
    /// that moment would leave behind, as a damaged checkpoint).
    package init(
        path: String, protecting protected: [(role: String, path: String)] = [], kind: String = "output",
        probingName: Bool = true
    ) throws {
        self.path = path
        if let slash = path.lastIndex(of: "/") {
            folder = slash == path.startIndex ? "/" : String(path[..<slash])
            fileName = String(path[path.index(after: slash)...])
        } else {
            folder = "."
            fileName = path
        }
        func refuse(_ reason: String) -> QCLabError { .invalidPath("\(kind) path '\(path)' \(reason)") }
        defer { Self.removeStaleTemporaries(of: path) }
        guard !fileName.isEmpty, fileName != ".", fileName != ".." else { throw refuse("has no file name") }
        guard !path.contains("\0") else { throw refuse("contains a NUL character") }
        guard let folderStatus = try? Syscalls.status(folder), folderStatus.isFolder else {
            throw QCLabError.invalidPath("\(kind) folder '\(folder)' does not exist")
        }
        guard Syscalls.canWriteInto(folder) else {
            throw QCLabError.invalidPath("\(kind) folder '\(folder)' is not writable")
        }
        let existing: stat?
        do { existing = try Syscalls.linkStatus(path) } catch let error as Errno where error == .noSuchFileOrDirectory
        {
            existing = nil
        } catch let error as Errno {
            throw refuse("cannot be used: \(error)")
        }
        if let existing {
            guard existing.isRegularFile else {
                throw refuse(
                    existing.isFolder
                        ? "is a folder" : "is \(existing.kindDescription), not a regular file; it is never replaced")
            }
            for input in protected {
                if let status = try? Syscalls.status(input.path), status.isSameFile(as: existing) {
                    throw refuse("is the \(input.role) '\(input.path)'; it would be overwritten")
                }
            }
        }
        try probe(existing: existing != nil || !probingName)
    }

    /// Whether paths `a` and `b` name the same file: the same device and inode when both
    /// exist (so a hard link, or a symbolic link to it, counts as the file), else the same
    /// canonical path (the real path of the folder, then the name), so that `o.h5`,
    /// `./o.h5` and `dir/../o.h5` count as one before the file exists.
    package static func aliases(_ a: String, _ b: String) -> Bool {
        if let first = try? Syscalls.status(a), let second = try? Syscalls.status(b) {
            return first.isSameFile(as: second)
        }
        guard let first = canonicalPath(a), let second = canonicalPath(b) else { return false }
        return first == second
    }

    /// The real path of `path`'s folder, then its file name; nil if the folder cannot be resolved.
    package static func canonicalPath(_ path: String) -> String? {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let real = Syscalls.realPath(folder) else { return nil }
        return (real.hasSuffix("/") ? real : real + "/") + name
    }

    /// Throws unless the output's file system has at least `bytes` free for this user
    /// (`statvfs`'s available blocks), so that a run whose output cannot fit is refused
    /// before it starts; give a lower bound (``Simulation/estimatedOutputBytes(trajectories:)``)
    /// so that nothing that fits is refused.
    package func checkFreeSpace(atLeast bytes: Double) throws {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return }
        let free = Double(info.f_bavail) * Double(info.f_frsize)
        guard bytes > free else { return }
        throw QCLabError.invalidPath(
            "output path '\(path)' needs at least \(ByteCount.describe(bytes)), but its file system has only \(ByteCount.describe(free)) free"
        )
    }

    /// Creates and removes the temporary name, and the output's own name if nothing is
    /// there yet, so that a name the file system cannot hold fails now.
    private func probe(existing: Bool) throws {
        var names = [temporaryPath()]
        if !existing { names.append(path) }
        for name in names {
            try Self.guardedWhileExisting(name) {
                do {
                    Syscalls.closeFile(try Syscalls.createExclusive(name))
                    try? Syscalls.remove(name)
                } catch let error as Errno where error == .fileExists && name == path {
                    // Someone made it just now; it is checked again when written.
                } catch let error as Errno {
                    let shown = name == path ? "'\(path)'" : "a temporary file beside '\(path)'"
                    throw QCLabError.invalidPath("cannot create \(shown): \(error)")
                }
            }
        }
    }

    /// A fresh hidden name beside the target, unique to this process and call, and no
    /// longer than a file system's usual 255 bytes.
    package func temporaryPath() -> String {
        var stem = fileName
        while stem.utf8.count > 200 { stem.removeLast() }
        let random = String(UInt64.random(in: 0 ... .max), radix: 36)
        return (folder.hasSuffix("/") ? folder : folder + "/") + ".\(stem).tmp-\(getpid())-\(random)"
    }

    /// Writes the output atomically through a temporary file.
    ///
    /// `body` fills a temporary file (given its path), which is flushed to disk and renamed over
    /// the target; on any failure, or a terminating signal, the temporary file is removed. The
    /// target is checked again just before the rename.
    package func write(_ body: (String) throws -> Void) throws {
        let temporary = temporaryPath()
        try Self.guardedWhileExisting(temporary) {
            do {
                try body(temporary)
                TestPause.at("write-" + (path.split(separator: "/").last.map(String.init) ?? path))
                try finish(temporary)
            } catch {
                try? Syscalls.remove(temporary)
                throw error
            }
        }
    }

    /// Writes `bytes` as the output, atomically (see ``write(_:)``).
    package func write(bytes: [UInt8]) throws {
        try write { temporary in
            let descriptor: FileDescriptor
            do { descriptor = try Syscalls.createExclusive(temporary) } catch {
                throw QCLabError.invalidPath("cannot create a temporary file beside '\(path)': \(error)")
            }
            defer { Syscalls.closeFile(descriptor) }
            do { _ = try descriptor.writeAll(bytes) } catch let error as Errno {
                throw QCLabError.invalidPath("cannot write '\(path)': \(error.explained())")
            }
        }
    }

    /// Flushes the temporary file to disk, checks the target once more, and renames.
    private func finish(_ temporary: String) throws {
        do {
            let descriptor = try Syscalls.openReadOnly(temporary)
            defer { Syscalls.closeFile(descriptor) }
            try Syscalls.synchronize(descriptor)
        } catch {
            throw QCLabError.invalidPath("cannot write '\(path)': \((error as? Errno)?.explained() ?? "\(error)")")
        }
        if let existing = try? Syscalls.linkStatus(path), !existing.isRegularFile {
            throw QCLabError.invalidPath(
                "output path '\(path)' is \(existing.kindDescription), not a regular file; it is never replaced")
        }
        do { try Syscalls.move(temporary, path) } catch {
            throw QCLabError.invalidPath("cannot move the finished file into place as '\(path)': \(error)")
        }
    }

    /// Removes the temporary files beside `path` that writes killed half-way left behind.
    ///
    /// SIGKILL cannot be caught; other signals remove their own. Those named `.NAME.tmp-PID-…`
    /// whose writing process is gone are removed; a live writer's file is left alone.
    package static func removeStaleTemporaries(of path: String) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let prefix = "." + (slash.map { String(path[path.index(after: $0)...]) } ?? path) + ".tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(prefix) {
            let writer = name.dropFirst(prefix.count).prefix { $0 != "-" }
            if let pid = Int32(writer), pid == getpid() || kill(pid, 0) == 0 { continue }
            try? Syscalls.remove(folder + "/" + name)
        }
    }

    /// Runs `body` with `name` registered for removal should a terminating signal arrive.
    private static func guardedWhileExisting<T>(_ name: String, _ body: () throws -> T) throws -> T {
        cleanupLock.lock()
        let slot = qclab_cleanup_register(name)
        cleanupLock.unlock()
        defer {
            cleanupLock.lock()
            qclab_cleanup_unregister(slot)
            cleanupLock.unlock()
        }
        return try body()
    }

    private static let cleanupLock = NSLock()
}
