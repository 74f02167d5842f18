#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call's `errno`, typed (swift-system's `Errno`, reduced to what we use).
struct Errno: Error, Equatable, CustomStringConvertible {
    let rawValue: Int32
    static var current: Errno { Errno(rawValue: errno) }
    static let interrupted = Errno(rawValue: EINTR)
    static let noSuchFile = Errno(rawValue: ENOENT)
    static let fileExists = Errno(rawValue: EEXIST)
    var description: String { String(cString: strerror(rawValue)) }
}

/// Runs a system call that returns -1 and sets `errno` on failure, retrying it while it
/// fails with EINTR (a signal arrived) when `retryOnInterrupt` is true; the one place
/// where EINTR is handled (swift-system's `valueOrErrno(retryOnInterrupt:)`).
@inline(__always)
func valueOrErrno<I: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ call: () -> I) -> Result<I, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno.current
        if retryOnInterrupt && error == .interrupted { continue }
        return .failure(error)
    }
}

/// The system calls the library makes, each throwing ``Errno``.
enum Syscalls {
    /// `lstat(2)`: what is at `path` itself (a symbolic link is not followed).
    static func linkStatus(_ path: String) throws -> stat {
        var status = stat()
        _ = try valueOrErrno { lstat(path, &status) }.get()
        return status
    }

    /// `stat(2)`: what `path` names, links followed.
    static func status(_ path: String) throws -> stat {
        var status = stat()
        _ = try valueOrErrno { stat(path, &status) }.get()
        return status
    }

    /// `realpath(3)`: the absolute path of `path` with every link, `.` and `..` resolved;
    /// nil if it does not exist or cannot be resolved.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `open(2)` with O_CREAT | O_EXCL: a new file that did not exist, mode 0644 before umask.
    static func createExclusive(_ path: String) throws -> Int32 {
        try valueOrErrno { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }.get()
    }

    static func openReadOnly(_ path: String) throws -> Int32 {
        try valueOrErrno { open(path, O_RDONLY | O_CLOEXEC) }.get()
    }

    static func closeFile(_ descriptor: Int32) {
        // close is not retried on EINTR: on Linux the descriptor is gone either way.
        _ = valueOrErrno(retryOnInterrupt: false) { close(descriptor) }
    }

    static func synchronize(_ descriptor: Int32) throws {
        _ = try valueOrErrno { fsync(descriptor) }.get()
    }

    static func makeLink(_ existing: String, _ new: String) throws {
        _ = try valueOrErrno { link(existing, new) }.get()
    }

    static func remove(_ path: String) throws {
        _ = try valueOrErrno { unlink(path) }.get()
    }

    static func move(_ old: String, _ new: String) throws {
        _ = try valueOrErrno { rename(old, new) }.get()
    }

    /// `access(2)` for writing and searching, as the real user.
    static func canWriteInto(_ folder: String) -> Bool {
        access(folder, W_OK | X_OK) == 0
    }
}

extension stat {
    var isRegularFile: Bool { (st_mode & S_IFMT) == S_IFREG }
    var isFolder: Bool { (st_mode & S_IFMT) == S_IFDIR }
    /// What kind of thing this is, in words, for messages.
    var kindDescription: String {
        switch st_mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a named pipe"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
    /// Whether `other` is the same file (same device and inode).
    func isSameFile(as other: stat) -> Bool { st_dev == other.st_dev && st_ino == other.st_ino }
}
