#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why ``FileSafety`` refused a file: one line naming the file, the problem and the fix.
public struct FileSafetyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What the file holds, as error messages name it.
    public enum Role: String, Equatable, Sendable {
        /// A node's identity (its secret key).
        case identity = "identity file"
        /// The mesh's shared secret.
        case meshSecret = "mesh secret file"
        /// The keys that may open sessions.
        case allowList = "allow file"
    }

    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The file belongs to `owner`, neither the effective user `user` nor root.
        case fileOwner(owner: UInt32, user: UInt32)
        /// The file's permission bits `mode` include some of `forbidden`.
        case fileMode(mode: UInt32, forbidden: UInt32)
        /// `directory`, above the file, belongs to `owner`, neither `user` nor root.
        case directoryOwner(directory: String, owner: UInt32, user: UInt32)
        /// `directory`, above the file, may be written by group or others (`mode`) and is not sticky.
        case directoryMode(directory: String, mode: UInt32)
        /// `path` could not be examined (`stat` failed with `code`).
        case unstatable(path: String, code: Int32)
    }

    /// What the file holds.
    public var role: Role
    /// The file, as it was named.
    public var path: String
    /// What is wrong.
    public var problem: Problem

    /// Creates an error.
    public init(role: Role, path: String, problem: Problem) {
        self.role = role
        self.path = path
        self.problem = problem
    }

    /// One line naming the file, the problem and the fix.
    public var description: String {
        let file = "\(role.rawValue) \(path)"
        switch problem {
        case let .fileOwner(owner, user):
            return "\(file) belongs to uid \(owner), not to this user (uid \(user)) or root; run chown \(user) \(path)"
        case let .fileMode(mode, forbidden):
            if forbidden == FileSafety.writableByOthersBits {
                return "\(file) may be changed by group or others (mode \(Self.octal(mode))); run chmod go-w \(path)"
            }
            return "\(file) is accessible by group or others (mode \(Self.octal(mode))); run chmod 600 \(path)"
        case let .directoryOwner(directory, owner, user):
            return "\(file) is in directory \(directory), which belongs to uid \(owner), not to this user (uid \(user))"
                + " or root; run chown \(user) \(directory) or move the file"
        case let .directoryMode(directory, mode):
            return "\(file) is in directory \(directory), which group or others may write (mode \(Self.octal(mode)));"
                + " run chmod go-w \(directory)"
        case let .unstatable(path, code):
            return "\(file): cannot examine \(path): \(String(cString: strerror(code)))"
        }
    }

    /// `mode` as C-style octal, e.g. `0644`.
    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
