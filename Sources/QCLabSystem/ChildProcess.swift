import QCLabCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SystemPackage

/// A child process run to its end within a deadline: its input fed from memory, its
/// output and error read into memory, and past the deadline killed (SIGKILL) and reaped,
/// so that it can never outlive the call.
///
/// Not Foundation's `Process`, nor swift-subprocess. `Process` crashes when it cannot make
/// its pipes (a low open-file limit, `ulimit -n`), waits for ever when it cannot start a
/// process (`ulimit -u`), has no deadline and feeds input from a second thread.
/// swift-subprocess (1.0) on Linux learns of a child's end from a waiter thread it starts
/// on first use without checking that `pthread_create` succeeded, so under a process limit
/// (`ulimit -u`, which counts threads) the wait never returns; that thread also waits on
/// every child of the process (`waitid(P_ALL)`), the forked driver's workers included; its
/// I/O goes through Dispatch (more threads) and its API is async only. This is one
/// posix_spawn, one or three pipes (swift-system's `FileDescriptor`; swift-system wraps
/// neither posix_spawn nor poll, so those two go through ``Syscalls``) and a poll loop on
/// the calling thread: nothing to fail but the calls themselves, each reported as a
/// one-line ``QCLabError/system(_:)`` that names the limit it hit.
///
/// Writes to a child that stopped reading fail with EPIPE (reported through
/// ``Outcome/inputRefused``) only if the process ignores SIGPIPE, as `qclab` does from
/// its start; otherwise SIGPIPE would end it.
package enum ChildProcess {
    /// How the child ended and what it wrote.
    package struct Outcome: Sendable {
        /// The exit status, or nil when a signal ended it.
        package var exitStatus: Int32?
        /// The signal that ended it, or nil when it exited.
        package var signal: Int32?
        /// Whether it was still running at the deadline (then it was killed).
        package var timedOut: Bool
        /// Whether it closed its input before taking all of it.
        package var inputRefused: Bool
        package var output: [UInt8]
        package var errors: [UInt8]

        /// "exit status 3", "killed by signal 9 (Killed)".
        package var ending: String {
            if let signal { return "killed by signal \(signal) (\(String(cString: strsignal(signal))))" }
            return "exit status \(exitStatus ?? -1)"
        }
    }

    /// Runs `path` with `arguments` and `environment` until it ends or `seconds` have passed.
    ///
    /// `arguments` do not count the program's name; past `seconds` the child is killed. `input`
    /// goes to its standard input (nil: /dev/null); its output and error are kept when `capture` is
    /// true (else they go to /dev/null but for one pipe that tells when it ends). A child that
    /// cannot be started throws, naming `role` and the reason.
    package static func run(
        _ path: String, role: String, arguments: [String], environment: [String: String],
        input: [UInt8]? = nil, capture: Bool = true, seconds: Double
    ) throws -> Outcome {
        var open: [FileDescriptor] = []
        defer { for descriptor in open { Syscalls.closeFile(descriptor) } }
        func cannotStart(_ error: Errno) -> QCLabError {
            .system("cannot start \(role): \(error.explained(spawning: true))")
        }
        let pid: pid_t
        var inputEnd: FileDescriptor?, outputEnd: FileDescriptor, errorEnd: FileDescriptor?
        do {
            var childEnds: [FileDescriptor] = []
            defer { for descriptor in childEnds { Syscalls.closeFile(descriptor) } }
            var descriptors: [FileDescriptor?] = [nil, nil, nil]
            if input != nil {
                let pipe = try Syscalls.makePipe()
                open.append(pipe.write); childEnds.append(pipe.read)
                inputEnd = pipe.write
                descriptors[0] = pipe.read
            }
            let outputPipe = try Syscalls.makePipe()
            open.append(outputPipe.read); childEnds.append(outputPipe.write)
            outputEnd = outputPipe.read
            descriptors[1] = outputPipe.write
            if capture {
                let pipe = try Syscalls.makePipe()
                open.append(pipe.read); childEnds.append(pipe.write)
                errorEnd = pipe.read
                descriptors[2] = pipe.write
            }
            if let inputEnd { try Syscalls.makeNonBlocking(inputEnd) }
            let variables = environment.map { "\($0.key)=\($0.value)" }
            pid = try Syscalls.spawn(
                path, arguments: [path] + arguments, environment: variables, descriptors: descriptors)
        } catch let error as Errno {
            throw cannotStart(error)
        }
        var outcome = Outcome(
            exitStatus: nil, signal: nil, timedOut: false, inputRefused: false, output: [], errors: [])
        let deadline = Date().addingTimeInterval(seconds)
        var inputOffset = 0
        let toFeed = input ?? []
        var status: Int32?
        do {
            // Feed and drain until the child closes its output and error; then wait for it to end.
            var outputOpen = true, errorOpen = errorEnd != nil
            var buffer = [UInt8](repeating: 0, count: 65536)
            func close(_ descriptor: FileDescriptor) {
                Syscalls.closeFile(descriptor)
                open.removeAll { $0 == descriptor }
            }
            while outputOpen || errorOpen || inputEnd != nil {
                let remaining = deadline.timeIntervalSinceNow
                guard remaining > 0 else { break }
                var events: [pollfd] = []
                if let inputEnd { events.append(pollfd(fd: inputEnd.rawValue, events: Int16(POLLOUT), revents: 0)) }
                if outputOpen { events.append(pollfd(fd: outputEnd.rawValue, events: Int16(POLLIN), revents: 0)) }
                if errorOpen, let errorEnd {
                    events.append(pollfd(fd: errorEnd.rawValue, events: Int16(POLLIN), revents: 0))
                }
                guard
                    try Syscalls.waitForEvents(&events, milliseconds: Int32(min(remaining * 1000 + 1, 3_600_000))) > 0
                else { continue }
                for event in events where event.revents != 0 {
                    let descriptor = FileDescriptor(rawValue: event.fd)
                    if descriptor == inputEnd {
                        do {
                            try toFeed[inputOffset...].withUnsafeBytes { bytes in
                                inputOffset += try descriptor.write(
                                    UnsafeRawBufferPointer(rebasing: bytes.prefix(65536)))
                            }
                        } catch let error as Errno where error == .resourceTemporarilyUnavailable {
                            continue
                        } catch let error as Errno where error == .brokenPipe {
                            outcome.inputRefused = true
                            inputOffset = toFeed.count
                        }
                        if inputOffset == toFeed.count { close(descriptor); inputEnd = nil }
                    } else {
                        let count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                        if descriptor == outputEnd {
                            outcome.output += buffer[..<count]
                            if count == 0 { outputOpen = false; close(descriptor) }
                        } else {
                            outcome.errors += buffer[..<count]
                            if count == 0 { errorOpen = false; close(descriptor) }
                        }
                    }
                }
            }
            // The child closed its output: it has ended, or soon will (or closed it and
            // runs on, which the deadline ends).
            while status == nil, deadline.timeIntervalSinceNow > 0 {
                status = try Syscalls.waitStatus(pid, blocking: false)
                if status == nil { usleep(1000) }
            }
        } catch {
            Syscalls.sendSignal(pid, SIGKILL)
            _ = try? Syscalls.waitStatus(pid, blocking: true)
            throw QCLabError.system("lost touch with \(role): \((error as? Errno)?.explained() ?? "\(error)")")
        }
        if status == nil {
            outcome.timedOut = true
            Syscalls.sendSignal(pid, SIGKILL)
            status = try? Syscalls.waitStatus(pid, blocking: true)
        }
        let code = status ?? 0
        if code & 0x7f == 0 { outcome.exitStatus = (code >> 8) & 0xff } else { outcome.signal = code & 0x7f }
        return outcome
    }
}
