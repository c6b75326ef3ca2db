#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checks OpenSSH's `StrictModes` makes before it trusts a key file (`safe_path` in its
/// `misc.c`), for the files that decide who a node is and who may reach it: the identity, the
/// mesh secret and allow files.
///
/// A file passes when it is owned by the effective user or by root, has none of the forbidden
/// permission bits (for secrets, any access by group or others; for allow files, write by group
/// or others), and every directory from the one holding it up to `/` is owned by the effective
/// user or by root and cannot be written by group or others, unless it is sticky (as `/tmp`),
/// where others may add entries but not replace or remove this user's. Otherwise someone else
/// could read the secret, or swap the file (or a directory above it) for their own.
///
/// Symbolic links are resolved (`realpath(3)`) and the directories on both sides of the link
/// are checked: the one holding the link and the ones holding what it points to.
enum FileSafety {
    /// Permission bits that must be clear on a secret file (identity, mesh secret): any access by
    /// group or others.
    static let secretForbiddenBits: UInt32 = 0o077
    /// Permission bits that must be clear on a file that is public but decides who may connect
    /// (an allow file), and on every directory above a checked file: write by group or others.
    static let writableByOthersBits: UInt32 = 0o022

    /// What a checked file holds, for error messages: "identity file", "mesh secret file", ...
    typealias Role = FileSafetyError.Role

    /// Checks the file open as `descriptor` (at `path`) and the directories above it. `user` is
    /// the effective user ID (a parameter so tests can name another).
    static func check(
        openFile descriptor: Int32, at path: String, role: Role, forbiddenBits: UInt32, user: uid_t = geteuid()
    ) throws(FileSafetyError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw FileSafetyError(role: role, path: path, problem: .unstatable(path: path, code: errno))
        }
        try checkOwner(info, path: path, role: role, user: user)
        try checkMode(info, path: path, role: role, forbiddenBits: forbiddenBits)
        try checkDirectories(above: path, role: role, user: user)
    }

    /// Checks that the directories above `path` (which exists, or whose directory does) are
    /// safe: owned by `user` or root, and not writable by group or others unless sticky.
    static func checkDirectories(above path: String, role: Role, user: uid_t = geteuid()) throws(FileSafetyError) {
        let directory = FileSystem.directoryName(of: path)
        // The directory that holds the name, then (through any links) the one that holds the file.
        var chains = [resolved(directory) ?? directory]
        if let target = resolved(path) { chains.append(FileSystem.directoryName(of: target)) }
        var checked = Set<String>()
        for start in chains {
            var current = start
            while checked.insert(current).inserted {
                try checkDirectory(current, file: path, role: role, user: user)
                let parent = FileSystem.directoryName(of: current)
                if parent == current { break }
                current = parent
            }
        }
    }

    /// Throws unless `info` (the file at `path`) is owned by `user` or root.
    static func checkOwner(_ info: stat, path: String, role: Role, user: uid_t) throws(FileSafetyError) {
        guard info.st_uid == user || info.st_uid == 0 else {
            throw FileSafetyError(role: role, path: path, problem: .fileOwner(owner: UInt32(info.st_uid), user: UInt32(user)))
        }
    }

    /// Throws unless `info` (the file at `path`) has none of `forbiddenBits`.
    static func checkMode(_ info: stat, path: String, role: Role, forbiddenBits: UInt32) throws(FileSafetyError) {
        let mode = UInt32(info.st_mode) & FileSystem.permissionBits
        guard mode & forbiddenBits == 0 else {
            throw FileSafetyError(role: role, path: path, problem: .fileMode(mode: mode, forbidden: forbiddenBits))
        }
    }

    /// Throws unless the directory `directory` (above `file`) is safe.
    private static func checkDirectory(_ directory: String, file: String, role: Role, user: uid_t) throws(FileSafetyError) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw FileSafetyError(role: role, path: file, problem: .unstatable(path: directory, code: errno))
        }
        guard info.st_uid == user || info.st_uid == 0 else {
            throw FileSafetyError(
                role: role, path: file,
                problem: .directoryOwner(directory: directory, owner: UInt32(info.st_uid), user: UInt32(user)))
        }
        let mode = UInt32(info.st_mode) & FileSystem.permissionBits
        let sticky = UInt32(info.st_mode) & UInt32(S_ISVTX) != 0
        guard mode & writableByOthersBits == 0 || sticky else {
            throw FileSafetyError(role: role, path: file, problem: .directoryMode(directory: directory, mode: mode))
        }
    }

    /// The absolute path of `path` with every link resolved, or `nil` when it does not exist.
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
