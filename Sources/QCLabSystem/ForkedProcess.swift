#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CQCLabProcess
import SystemPackage

/// A forked child process joined to this one by a Unix socket: started, talked to, and
/// reaped, every call through ``Syscalls``.
///
/// `fork`, not `posix_spawn`: the child runs the caller's code (a batch of the simulation
/// already in memory), which no `exec`ed program could. The child keeps only its own end
/// of its own socket, dies with its parent (Linux's parent-death signal), and must leave
/// with `_exit`: ``start(closingInChild:_:)`` takes a body that never returns.
package struct ForkedProcess {
    /// A system call that failed while starting a child: its name (`socketpair`, `fork`) and error.
    package struct StartFailure: Error {
        package let call: String
        package let error: Errno
    }

    package let pid: pid_t
    /// This process's end of the socket; nil once closed.
    package private(set) var socket: FileDescriptor?
    /// Whether the child has been reaped.
    package private(set) var isReaped = false

    /// Forks a child that closes `others` (sockets of earlier children, which it must not
    /// hold open) and runs `body` with its end of the socket.
    package static func start(closingInChild others: [FileDescriptor], _ body: (FileDescriptor) -> Never) throws
        -> ForkedProcess
    {
        let pair: (FileDescriptor, FileDescriptor)
        do { pair = try Syscalls.makeSocketPair() } catch let error as Errno {
            throw StartFailure(call: "socketpair", error: error)
        }
        let parent = getpid()
        let pid: pid_t
        do {
            pid = try Syscalls.fork()
        } catch let error as Errno {
            Syscalls.closeFile(pair.0)
            Syscalls.closeFile(pair.1)
            throw StartFailure(call: "fork", error: error)
        }
        if pid == 0 {
            for other in others { Syscalls.closeFile(other) }
            Syscalls.closeFile(pair.0)
            if qclab_die_with_parent(parent) != 0 { _exit(5) }
            body(pair.1)
        }
        Syscalls.closeFile(pair.1)
        return ForkedProcess(pid: pid, socket: pair.0)
    }

    /// Sends all of `bytes` on the socket (EPIPE, not SIGPIPE, when the child has gone).
    package func send(_ bytes: [UInt8]) throws {
        guard let socket else { throw Errno.badFileDescriptor }
        try Syscalls.sendAll(socket, bytes)
    }

    /// Reads what has arrived on the socket into `buffer`: the count, 0 at end of file.
    package func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let socket else { return 0 }
        return try socket.read(into: buffer)
    }

    /// Every byte left on the socket until end of file or an error (the child has ended).
    package func receiveRest() -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while let count = try? chunk.withUnsafeMutableBytes({ try receive(into: $0) }), count > 0 {
            bytes += chunk[0..<count]
        }
        return bytes
    }

    package mutating func closeSocket() {
        if let socket { Syscalls.closeFile(socket) }
        socket = nil
    }

    /// Ends the child at once (SIGKILL), unless it has been reaped.
    package func kill() {
        if !isReaped { Syscalls.sendSignal(pid, SIGKILL) }
    }

    /// Closes the socket and waits for the child to end.
    ///
    /// After `graceSeconds` (if given) it is killed. Returns how it ended, or nil if it was reaped
    /// already.
    package mutating func reap(graceSeconds: Double?) -> String? {
        guard !isReaped else { return nil }
        closeSocket()
        isReaped = true
        var waited = 0.0
        while true {
            let status: Int32?
            do {
                status = try Syscalls.waitStatus(pid, blocking: graceSeconds == nil)
            } catch let error as Errno {
                return "could not be reaped: \(error.explained())"
            } catch {
                return "could not be reaped: \(error)"
            }
            if let status { return Self.describe(waitStatus: status) }
            // Still running after its socket closed: give it a moment, then kill it.
            if let grace = graceSeconds, waited >= grace {
                Syscalls.sendSignal(pid, SIGKILL)
                _ = try? Syscalls.waitStatus(pid, blocking: true)
                return "stopped responding and was killed"
            }
            usleep(10_000)
            waited += 0.01
        }
    }

    /// How a process ended, from its `waitpid` status (the `WIFEXITED` family are C macros
    /// Swift cannot import).
    package static func describe(waitStatus status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        if signal != 0x7f {
            let name = strsignal(signal).map { String(cString: $0) } ?? "unknown"
            return "killed by signal \(signal) (\(name))"
        }
        return "stopped (status \(status))"
    }
}
