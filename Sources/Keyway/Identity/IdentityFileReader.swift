#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCrypto

/// Reads an identity file safely: checks what the path is and who may read it before reading it.
///
/// The file is opened first and every check is made on the open descriptor (`fstat`), so the file
/// checked is the file read. Symbolic links are followed (a secret mounted by Kubernetes is a link
/// into a `..data` directory); the checks apply to the file at the end of the link. The open is
/// non-blocking so that a named pipe at the path is refused instead of hanging the node. The file
/// must belong to the effective user (or root), and the directories above it must be safe
/// (``FileSafety``, as OpenSSH's `StrictModes`).
enum IdentityFileReader {
    /// What is at the path.
    enum Outcome {
        /// A valid identity file, and the key pair in it.
        case loaded(Ed25519.KeyPair)
        /// Nothing: no entry at the path, or a parent directory is missing.
        case missing
    }

    /// How many bytes are read at most: enough to see that a file is longer than any v1 file.
    static let readLimit = 1024

    /// Loads the file at `path`, or reports it missing. Throws for anything unusable at the path.
    static func readIdentity(at path: String) throws(IdentityError) -> Outcome {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                if FileSystem.isSymbolicLink(path) {
                    throw .notRegularFile(path: path, kind: .danglingSymbolicLink)
                }
                return .missing
            case EACCES, EPERM:
                throw .permissionDenied(path: path)
            default:
                throw .systemError(path: path, operation: "open", code: code)
            }
        }
        defer { _ = close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .systemError(path: path, operation: "stat", code: errno) }
        if let kind = FileSystem.kind(of: info.st_mode) { throw .notRegularFile(path: path, kind: kind) }
        do {
            try FileSafety.checkOwner(info, path: path, role: .identity, user: geteuid())
        } catch {
            throw .unsafeFile(error)
        }
        let permissions = UInt32(info.st_mode) & FileSystem.permissionBits
        guard permissions & IdentityStore.forbiddenModeBits == 0 else {
            throw .insecurePermissions(path: path, mode: permissions)
        }
        do {
            try FileSafety.checkDirectories(above: path, role: .identity)
        } catch {
            throw .unsafeFile(error)
        }

        var length = 0
        var readError: Int32 = 0
        let contents = SecureBytes(count: readLimit) { buffer in
            guard let base = buffer.baseAddress else { return }
            while length < buffer.count {
                let count = read(fd, base + length, buffer.count - length)
                if count > 0 {
                    length += count
                } else if count == 0 {
                    break
                } else if errno != EINTR {
                    readError = errno
                    break
                }
            }
        }
        guard readError == 0 else { throw .systemError(path: path, operation: "read", code: readError) }
        let decoded = contents.withUnsafeBytes { buffer in
            Result { () throws(IdentityError) in
                try IdentityFileFormat.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), path: path)
            }
        }
        return .loaded(try decoded.get())
    }
}
