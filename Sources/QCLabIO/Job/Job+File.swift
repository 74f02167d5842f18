import Foundation
import QCLabCore
import QCLabSystem

extension Job {
    /// Reads and checks the job file at `path`.
    public init(contentsOf path: String) throws {
        try self.init(json: Foundation.Data(try Self.fileBytes(at: path)), source: path)
    }

    /// The bytes of the job file at `path`, or an error naming it (missing, a folder, unreadable).
    package static func fileBytes(at path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw QCLabError.invalidPath("job file '\(path)' does not exist")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
            throw QCLabError.invalidPath("job file '\(path)' cannot be read (it is a folder)")
        }
        let bytes: [UInt8]
        do { bytes = try Syscalls.readWholeFile(path) } catch let error as Errno {
            throw QCLabError.invalidPath("job file '\(path)' cannot be read: \(error.explained())")
        }
        return bytes
    }
}
