#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCrypto

/// The mesh secret: a shared secret every node of a mesh holds, mixed into every handshake
/// (Noise `IKpsk2`), so nodes without it cannot open sessions even when the allow-list would let
/// them.
///
/// The 32-byte Noise pre-shared key is `BLAKE2b-256(key = "keyway mesh secret v1", contents)`
/// of the secret's text with trailing whitespace (a final newline) removed, so any passphrase or
/// random file works, and `echo secret > file` and `printf secret > file` give the same key.
public enum MeshSecret {
    /// The largest secret file read; a secret needs no more.
    public static let maximumFileSize = 64 * 1024
    /// The BLAKE2b key that separates this use of the hash from any other.
    static let domain = Array("keyway mesh secret v1".utf8)

    /// Why a secret could not be read.
    public enum LoadError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The file could not be opened or read (the system's word for why).
        case unreadable(path: String, reason: String)
        /// Something other than a regular file is at `path` (a symbolic link included: the
        /// secret is read only from the file named, never from wherever a link points).
        case notRegularFile(path: String)
        /// The file, or a directory above it, is readable or replaceable by someone else.
        case unsafe(FileSafetyError)
        /// The file is empty (or only whitespace).
        case empty(path: String)
        /// The file is longer than ``MeshSecret/maximumFileSize``.
        case tooLarge(path: String)

        /// One line naming the problem.
        public var description: String {
            switch self {
            case let .unreadable(path, reason): return "cannot read the mesh secret \(path): \(reason)"
            case let .notRegularFile(path):
                return "the mesh secret file \(path) is not a regular file (symbolic links are refused); name the file itself"
            case let .unsafe(error): return error.description
            case let .empty(path): return "the mesh secret file \(path) is empty"
            case let .tooLarge(path): return "the mesh secret file \(path) is longer than \(MeshSecret.maximumFileSize) bytes"
            }
        }
    }

    /// The pre-shared key for `contents`, or `nil` when they are empty after trimming.
    public static func presharedKey(from contents: [UInt8]) -> SecureBytes? {
        var end = contents.count
        while end > 0, [0x20, 0x09, 0x0a, 0x0d].contains(contents[end - 1]) { end -= 1 }
        guard end > 0 else { return nil }
        return SecureBytes(BLAKE2b.hash(contents[..<end], outputLength: 32, key: domain))
    }

    /// The pre-shared key from the secret file at `path`.
    ///
    /// The file must be a regular file, not a symbolic link (checked with `lstat` and opened
    /// with `O_NOFOLLOW`), owned by the effective user or root, with no access for group or
    /// others, in directories only they can write (``FileSafety``, as OpenSSH's `StrictModes`).
    public static func load(fromFile path: String) throws(LoadError) -> SecureBytes {
        var entry = stat()
        guard lstat(path, &entry) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard entry.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: path) }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ELOOP { throw .notRegularFile(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(descriptor) }
        var opened = stat()
        guard fstat(descriptor, &opened) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard opened.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: path) }
        do {
            try FileSafety.check(openFile: descriptor, at: path, role: .meshSecret, forbiddenBits: FileSafety.secretForbiddenBits)
        } catch {
            throw .unsafe(error)
        }
        var contents = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            contents += buffer[..<count]
            if contents.count > maximumFileSize { throw .tooLarge(path: path) }
        }
        guard let key = presharedKey(from: contents) else { throw .empty(path: path) }
        return key
    }
}
