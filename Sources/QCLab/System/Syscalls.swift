#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CQCLabProcess

/// A failed system call's `errno`, typed (swift-system's `Errno`, reduced to what we use).
struct Errno: Error, Equatable, CustomStringConvertible {
    let rawValue: Int32
    static var current: Errno { Errno(rawValue: errno) }
    static let interrupted = Errno(rawValue: EINTR)
    static let noSuchFile = Errno(rawValue: ENOENT)
    static let fileExists = Errno(rawValue: EEXIST)
    static let brokenPipe = Errno(rawValue: EPIPE)
    var description: String { String(cString: strerror(rawValue)) }

    /// The error in words, naming the resource limit behind it where there is one (too
    /// many open files: the open-file limit; a file too large: the file-size limit; no
    /// memory: the address-space limit; `spawning`: EAGAIN from starting a process is the
    /// process limit).
    func explained(spawning: Bool = false) -> String {
        func limit(_ which: Int32) -> Int64? {
            let value = qclab_resource_limit(which)
            return value < 0 ? nil : Int64(value)
        }
        switch rawValue {
        case EMFILE:
            return "too many open files" + (limit(0).map { " (the open-file limit, ulimit -n, is \($0))" } ?? "")
        case ENFILE: return "too many open files in the system (the system's file table is full)"
        case EAGAIN where spawning:
            return "too many processes" + (limit(1).map { " (the process limit, ulimit -u, is \($0))" } ?? "")
        case ENOMEM:
            return "out of memory" + (limit(2).map { " (the address-space limit, ulimit -v, is \($0 / 1024) KiB)" } ?? "")
        case EFBIG:
            return "file too large" + (limit(3).map { " (the file-size limit, ulimit -f, is \($0) bytes)" } ?? "")
        case EPIPE: return "broken pipe (the reader has gone)"
        default: return description
        }
    }
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

    /// `write(2)` of all of `bytes`, in as many calls as it takes.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try valueOrErrno { write(descriptor, bytes.baseAddress! + offset, bytes.count - offset) }.get()
        }
    }

    /// One `write(2)` of at most all of `bytes`: the count written.
    static func writeSome(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try valueOrErrno { write(descriptor, bytes.baseAddress, bytes.count) }.get()
    }

    /// `read(2)` into `buffer`: the count read, 0 at end of file.
    static func readSome(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try valueOrErrno { read(descriptor, buffer.baseAddress, buffer.count) }.get()
    }

    /// `pipe(2)`, both ends close-on-exec: (read end, write end).
    static func makePipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        // pipe2 is not in Swift's Glibc module; qclab starts no other process while a
        // pipe is open here, so nothing can inherit one between the two calls.
        _ = try valueOrErrno { pipe(&ends) }.get()
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// Sets O_NONBLOCK on `descriptor`.
    static func makeNonBlocking(_ descriptor: Int32) throws {
        let flags = try valueOrErrno { fcntl(descriptor, F_GETFL) }.get()
        _ = try valueOrErrno { fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }.get()
    }

    /// `poll(2)` for at most `milliseconds` (-1: no limit); the count of ready descriptors.
    static func waitForEvents(_ descriptors: inout [pollfd], milliseconds: Int32) throws -> Int32 {
        try valueOrErrno { poll(&descriptors, nfds_t(descriptors.count), milliseconds) }.get()
    }

    /// `posix_spawn(3)` of `path` with `arguments` (the first is the program's name) and
    /// `environment` ("NAME=value"); `descriptors` maps the child's 0, 1, 2 to one of this
    /// process's descriptors, or to /dev/null where nil. Signals this process ignores
    /// (SIGPIPE, SIGXFSZ) are set back to their default in the child. posix_spawn, not
    /// fork: safe with threads running, and it copies no address space (vfork-like).
    static func spawn(_ path: String, arguments: [String], environment: [String], descriptors: [Int32?]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in descriptors.enumerated() {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, Int32(target))
            } else {
                posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), mask = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGXFSZ)
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid = pid_t()
        // posix_spawn returns the error rather than setting errno; EINTR cannot happen.
        let code = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard code == 0 else { throw Errno(rawValue: code) }
        return pid
    }

    /// `waitpid(2)`: the child's wait status; nil while it runs, when `blocking` is false.
    static func waitStatus(_ pid: pid_t, blocking: Bool) throws -> Int32? {
        var status: Int32 = 0
        let reaped = try valueOrErrno { waitpid(pid, &status, blocking ? 0 : WNOHANG) }.get()
        return reaped == 0 ? nil : status
    }

    /// `kill(2)`; a process already gone is no error.
    static func sendSignal(_ pid: pid_t, _ signalNumber: Int32) {
        _ = valueOrErrno { kill(pid, signalNumber) }
    }

    /// Ignores `signal` (SIGPIPE, SIGXFSZ) in this process, so that the write that would
    /// have raised it fails with EPIPE or EFBIG instead, which the caller reports.
    static func ignoreSignal(_ signalNumber: Int32) {
        _ = signal(signalNumber, SIG_IGN)
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
