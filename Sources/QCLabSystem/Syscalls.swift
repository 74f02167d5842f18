import QCLabCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CQCLabProcess
import SystemPackage

/// A failed system call's `errno`: swift-system's type, so that its `FileDescriptor`
/// calls and ours throw the same error.
package typealias Errno = SystemPackage.Errno

extension Errno {
    /// The `errno` of the call that just failed (swift-system keeps its own accessor internal).
    package static var current: Errno { Errno(rawValue: errno) }

    /// The error in words, naming the resource limit behind it where there is one (too
    /// many open files: the open-file limit; a file too large: the file-size limit; no
    /// memory: the address-space limit; `spawning`: EAGAIN from starting a process is the
    /// process limit).
    package func explained(spawning: Bool = false) -> String {
        func limit(_ which: Int32) -> Int64? {
            let value = qclab_resource_limit(which)
            return value < 0 ? nil : Int64(value)
        }
        switch self {
        case .tooManyOpenFiles:
            return "too many open files" + (limit(0).map { " (the open-file limit, ulimit -n, is \($0))" } ?? "")
        case .tooManyOpenFilesInSystem: return "too many open files in the system (the system's file table is full)"
        case .resourceTemporarilyUnavailable where spawning:
            return "too many processes" + (limit(1).map { " (the process limit, ulimit -u, is \($0))" } ?? "")
        case .noMemory:
            return "out of memory"
                + (limit(2).map { " (the address-space limit, ulimit -v, is \($0 / 1024) KiB)" } ?? "")
        case .fileTooLarge:
            return "file too large" + (limit(3).map { " (the file-size limit, ulimit -f, is \($0) bytes)" } ?? "")
        case .brokenPipe: return "broken pipe (the reader has gone)"
        default: return description
        }
    }
}

/// Runs a system call that returns -1 and sets `errno` on failure, retrying it while it
/// fails with EINTR (a signal arrived) when `retryOnInterrupt` is true; the one place
/// where EINTR is handled for the calls swift-system does not wrap (its `FileDescriptor`
/// calls retry EINTR themselves, with the same rule).
@inline(__always)
package func valueOrErrno<I: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ call: () -> I) -> Result<I, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno.current
        if retryOnInterrupt && error == .interrupted { continue }
        return .failure(error)
    }
}

/// The system calls the library makes, each throwing ``Errno``: files, pipes and sockets
/// as swift-system's `FileDescriptor`, and what swift-system does not wrap (`stat`,
/// `fsync`, `poll`, `socketpair`, `fork`, `posix_spawn`, `waitpid`, `kill`) through
/// ``valueOrErrno(retryOnInterrupt:_:)``.
package enum Syscalls {
    /// `lstat(2)`: what is at `path` itself (a symbolic link is not followed).
    package static func linkStatus(_ path: String) throws -> stat {
        var status = stat()
        _ = try valueOrErrno { lstat(path, &status) }.get()
        return status
    }

    /// `stat(2)`: what `path` names, links followed.
    package static func status(_ path: String) throws -> stat {
        var status = stat()
        _ = try valueOrErrno { stat(path, &status) }.get()
        return status
    }

    /// `realpath(3)`: the absolute path of `path` with every link, `.` and `..` resolved;
    /// nil if it does not exist or cannot be resolved.
    package static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `open(2)` with O_CREAT | O_EXCL: a new file that did not exist, mode 0644 before umask.
    package static func createExclusive(_ path: String) throws -> FileDescriptor {
        try FileDescriptor.open(
            path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
            permissions: FilePermissions(rawValue: 0o644))
    }

    package static func openReadOnly(_ path: String) throws -> FileDescriptor {
        try FileDescriptor.open(path, .readOnly, options: .closeOnExec)
    }

    package static func closeFile(_ descriptor: FileDescriptor) {
        // close is not retried on EINTR (swift-system's rule too): on Linux the descriptor is gone either way.
        try? descriptor.close()
    }

    package static func synchronize(_ descriptor: FileDescriptor) throws {
        _ = try valueOrErrno { fsync(descriptor.rawValue) }.get()
    }

    package static func makeLink(_ existing: String, _ new: String) throws {
        _ = try valueOrErrno { link(existing, new) }.get()
    }

    package static func remove(_ path: String) throws {
        _ = try valueOrErrno { unlink(path) }.get()
    }

    package static func move(_ old: String, _ new: String) throws {
        _ = try valueOrErrno { rename(old, new) }.get()
    }

    /// `pipe2(2)`, both ends close-on-exec: (read end, write end).
    package static func makePipe() throws -> (read: FileDescriptor, write: FileDescriptor) {
        let ends = try FileDescriptor.pipe(options: .closeOnExec)
        return (ends.readEnd, ends.writeEnd)
    }

    /// `socketpair(2)` of connected Unix stream sockets, both ends close-on-exec.
    package static func makeSocketPair() throws -> (FileDescriptor, FileDescriptor) {
        var pair: [Int32] = [-1, -1]
        _ = try valueOrErrno {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
        }.get()
        return (FileDescriptor(rawValue: pair[0]), FileDescriptor(rawValue: pair[1]))
    }

    /// `send(2)` of all of `bytes` on a socket with MSG_NOSIGNAL: a reader that has gone
    /// fails the call with EPIPE instead of raising SIGPIPE in a process that did not
    /// ignore it (a program that calls the forked driver, a test runner).
    package static func sendAll(_ socket: FileDescriptor, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                offset += try valueOrErrno {
                    send(socket.rawValue, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }.get()
            }
        }
    }

    /// Exactly `count` bytes read from `descriptor`; nil at end of file first.
    package static func readExactly(_ descriptor: FileDescriptor, _ count: Int) throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = try bytes.withUnsafeMutableBytes {
                try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[offset...]))
            }
            guard got > 0 else { return nil }
            offset += got
        }
        return bytes
    }

    /// `fork(2)`, standard I/O flushed first (nothing buffered may be written twice, by
    /// parent and child): the child's pid in the parent, 0 in the child.
    package static func fork() throws -> pid_t {
        fflush(nil)
        return try valueOrErrno(retryOnInterrupt: false) { Glibc.fork() }.get()
    }

    /// Sets O_NONBLOCK on `descriptor`.
    package static func makeNonBlocking(_ descriptor: FileDescriptor) throws {
        let flags = try valueOrErrno { fcntl(descriptor.rawValue, F_GETFL) }.get()
        _ = try valueOrErrno { fcntl(descriptor.rawValue, F_SETFL, flags | O_NONBLOCK) }.get()
    }

    /// `poll(2)` for at most `milliseconds` (-1: no limit); the count of ready descriptors.
    package static func waitForEvents(_ descriptors: inout [pollfd], milliseconds: Int32) throws -> Int32 {
        try valueOrErrno { poll(&descriptors, nfds_t(descriptors.count), milliseconds) }.get()
    }

    /// `posix_spawn(3)` of `path` with `arguments` and `environment`.
    ///
    /// The first argument is the program's name; `environment` is "NAME=value" strings;
    /// `descriptors` maps the child's 0, 1, 2 to one of this process's descriptors, or to /dev/null
    /// where nil. Signals this process ignores (SIGPIPE, SIGXFSZ) are set back to their default in
    /// the child. posix_spawn, not fork: safe with threads running, and it copies no address space
    /// (vfork-like).
    package static func spawn(
        _ path: String, arguments: [String], environment: [String], descriptors: [FileDescriptor?]
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in descriptors.enumerated() {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source.rawValue, Int32(target))
            } else {
                posix_spawn_file_actions_addopen(
                    &actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
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
    package static func waitStatus(_ pid: pid_t, blocking: Bool) throws -> Int32? {
        var status: Int32 = 0
        let reaped = try valueOrErrno { waitpid(pid, &status, blocking ? 0 : WNOHANG) }.get()
        return reaped == 0 ? nil : status
    }

    /// `kill(2)`; a process already gone is no error.
    package static func sendSignal(_ pid: pid_t, _ signalNumber: Int32) {
        _ = valueOrErrno { kill(pid, signalNumber) }
    }

    /// Ignores `signal` (SIGPIPE, SIGXFSZ) in this process, so that the write that would
    /// have raised it fails with EPIPE or EFBIG instead, which the caller reports.
    package static func ignoreSignal(_ signalNumber: Int32) {
        _ = signal(signalNumber, SIG_IGN)
    }

    /// `access(2)` for writing and searching, as the real user.
    package static func canWriteInto(_ folder: String) -> Bool {
        access(folder, W_OK | X_OK) == 0
    }
}

extension stat {
    package var isRegularFile: Bool { (st_mode & S_IFMT) == S_IFREG }
    package var isFolder: Bool { (st_mode & S_IFMT) == S_IFDIR }
    /// What kind of thing this is, in words, for messages.
    package var kindDescription: String {
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
    package func isSameFile(as other: stat) -> Bool { st_dev == other.st_dev && st_ino == other.st_ino }
}

/// Seconds on the monotonic clock (for rate limits; unaffected by changes of the wall clock).
package func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
