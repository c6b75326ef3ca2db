#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an identity file could not be located, loaded or created.
///
/// The store never replaces a file it refuses: every case leaves what is on disk as it was, because
/// a node's identity is its address, and a silently regenerated key is a node nobody can find.
/// ``description`` is one line that names the path and the problem, fit to show a user as is.
public enum IdentityError: Error, Equatable, Sendable, CustomStringConvertible {
    /// ``IdentityStore/load(at:)`` found no file at `path` (it never creates one).
    case notFound(path: String)
    /// The path is empty or ends in `/`, so it cannot name a file.
    case invalidPath(path: String)
    /// No default location: `XDG_DATA_HOME` and `HOME` are unset, empty or relative, and the user
    /// database has no absolute home directory for this user.
    case noHomeDirectory
    /// Something other than a regular file is at `path`; `kind` says what.
    case notRegularFile(path: String, kind: FileKind)
    /// The file's permission bits (`mode`, e.g. `0o644`) let its group or others read or write it.
    case insecurePermissions(path: String, mode: UInt32)
    /// The file, or a directory above it, fails the ownership and permission checks of
    /// ``FileSafety`` (OpenSSH `StrictModes`): someone else could read or replace it.
    case unsafeFile(FileSafetyError)
    /// The file exists but this process may not open it (`EACCES` or `EPERM`).
    case permissionDenied(path: String)
    /// The file ends early: everything in it is a correct start of an identity file, but the end is
    /// missing (an empty file is truncated too).
    case truncated(path: String)
    /// The file does not begin with the `keyway-identity ` header: it is some other file.
    case notIdentityFile(path: String)
    /// The header names a format version this build cannot read (`found`, e.g. `"v2"`).
    case unsupportedVersion(path: String, found: String)
    /// Line `line` (1-based) breaks the format; `problem` says how. Never quotes secret bytes.
    case malformed(path: String, line: Int, problem: String)
    /// The stored public key is not the one the stored seed derives: the file is corrupt.
    case publicKeyMismatch(path: String)
    /// The directory `path` that should hold the identity file does not exist and could not be
    /// created; `code` is the `errno` value.
    case cannotCreateDirectory(path: String, code: Int32)
    /// A system call failed: `operation` names it (e.g. `"write"`), `code` is the `errno` value.
    case systemError(path: String, operation: String, code: Int32)

    /// What is at a path instead of a regular file.
    public enum FileKind: String, Equatable, Sendable {
        /// A directory.
        case directory = "a directory"
        /// A symbolic link whose target does not exist (the store does not create it through a link).
        case danglingSymbolicLink = "a symbolic link to a missing file"
        /// A named pipe.
        case fifo = "a named pipe"
        /// A Unix domain socket.
        case socket = "a socket"
        /// A character device.
        case characterDevice = "a character device"
        /// A block device.
        case blockDevice = "a block device"
        /// Any other kind of file.
        case other = "not a regular file"
    }

    /// One line naming the path and the problem, with a remedy where there is a safe one.
    public var description: String {
        switch self {
        case let .notFound(path):
            return "no identity file at \(path)"
        case let .invalidPath(path):
            return "identity path \"\(path)\" does not name a file (it is empty or ends in /)"
        case .noHomeDirectory:
            return "cannot locate the identity file: XDG_DATA_HOME and HOME are unset or not absolute"
                + " and the user has no home directory; pass an explicit path"
        case let .notRegularFile(path, kind):
            return "identity path \(path) is \(kind.rawValue), not a regular file; refusing to use or replace it"
        case let .insecurePermissions(path, mode):
            return "identity file \(path) is accessible by group or others (mode \(Self.octal(mode)));"
                + " run chmod 600 \(path)"
        case let .unsafeFile(error):
            return error.description
        case let .permissionDenied(path):
            return "cannot read identity file \(path): permission denied"
        case let .truncated(path):
            return "identity file \(path) is truncated; restore it from a backup"
                + " (moving it away creates a new identity, with a new address)"
        case let .notIdentityFile(path):
            return "\(path) is not a keyway identity file (it does not start with \"keyway-identity\")"
        case let .unsupportedVersion(path, found):
            return "identity file \(path) has format version \(found), which this keyway cannot read"
                + " (it reads \(IdentityFileFormat.version))"
        case let .malformed(path, line, problem):
            return "identity file \(path) is corrupt at line \(line): \(problem)"
        case let .publicKeyMismatch(path):
            return "identity file \(path) is corrupt: its public key does not match its seed"
        case let .cannotCreateDirectory(path, code):
            return "cannot create directory \(path) for the identity file: \(Self.message(for: code))"
        case let .systemError(path, operation, code):
            return "identity file \(path): \(operation) failed: \(Self.message(for: code))"
        }
    }

    /// `mode` as C-style octal, e.g. `0644`.
    private static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The C library's text for an `errno` value.
    private static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
