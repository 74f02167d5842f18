import QCLabCore
import Foundation
import SystemPackage

extension QCLabError {
    /// The code of any error: a ``QCLabError``'s own, ``Code/system`` for a system error.
    ///
    /// A system error is an `Errno` or a Foundation error of NSPOSIXErrorDomain or
    /// NSCocoaErrorDomain; any other error has no code (nil).
    public static func code(of error: Error) -> Code? {
        if let error = error as? QCLabError { return error.code }
        if error is Errno { return .system }
        let domain = (error as NSError).domain
        return domain == NSPOSIXErrorDomain || domain == NSCocoaErrorDomain ? .system : nil
    }

    /// Any error as one line for the user.
    ///
    /// A ``QCLabError`` as itself; a Foundation error (NSPOSIXErrorDomain, NSCocoaErrorDomain)
    /// as the file it names and the system's reason in words, never its domain and code.
    public static func describe(_ error: Error) -> String {
        if let error = error as? QCLabError { return error.description }
        if let error = error as? Errno { return error.explained() }
        let nsError = error as NSError
        guard nsError.domain == NSPOSIXErrorDomain || nsError.domain == NSCocoaErrorDomain else { return "\(error)" }
        var reason = nsError.localizedDescription
        if nsError.domain == NSPOSIXErrorDomain {
            reason = Errno(rawValue: Int32(nsError.code)).explained()
        } else if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain
        {
            reason = Errno(rawValue: Int32(underlying.code)).explained()
        }
        let path = (nsError.userInfo[NSFilePathErrorKey] as? String) ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
        return path.map { "'\($0)': \(reason)" } ?? reason
    }
}

extension Syscalls {
    /// The whole of the file at `path`, read with `read(2)` (a named pipe is read to its end).
    package static func readWholeFile(_ path: String) throws -> [UInt8] {
        let descriptor = try openReadOnly(path)
        defer { closeFile(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            if count == 0 { return bytes }
            bytes += buffer[..<count]
        }
    }
}
