#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCrypto

/// The temporary file an atomic write goes through, `.<name>.<hex>.tmp` beside the final file,
/// held under an exclusive `flock(2)` by its writer for as long as it exists under that name.
///
/// A writer that crashes between writing and renaming leaves its temporary file behind, and its
/// lock dies with it. ``removeStale(beside:)``, run at the next start, removes every temporary
/// file of that pattern it can lock; one it cannot lock belongs to a live writer and stays.
///
/// Race with a cleaner: the writer creates the file and then locks it, so a cleaner may lock and
/// remove it in between. The writer therefore checks, once it holds the lock, that the name still
/// refers to its file, and starts again under a new name if it does not.
struct LockedTemporaryFile {
    /// A system call failed: `operation` names it, `code` is the `errno` value, `path` the file.
    struct Failure: Error {
        var path: String
        var operation: String
        var code: Int32
    }

    /// Attempts at a fresh name before giving up (each lost only to a cleaner that got in first).
    static let creationAttempts = 8
    /// The suffix of every temporary name.
    static let suffix = ".tmp"
    /// Hex digits in the random part of a name at most (a `UInt64` in hex).
    static let maximumHexDigits = 16

    /// The temporary file's path.
    let path: String
    /// The open, locked descriptor; ``release()`` closes it, which releases the lock.
    let descriptor: Int32

    /// Creates and locks a new temporary file for `finalPath`, with permission bits exactly `mode`.
    static func create(for finalPath: String, mode: UInt32) throws(Failure) -> LockedTemporaryFile {
        let directory = FileSystem.directoryName(of: finalPath)
        var lastFailure = Failure(path: finalPath, operation: "create", code: EEXIST)
        for _ in 0..<creationAttempts {
            let path = FileSystem.join(
                directory, ".\(FileSystem.baseName(of: finalPath)).\(String(SecureRandom.uint64(), radix: 16))\(suffix)")
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
            guard fd >= 0 else {
                let code = errno
                lastFailure = Failure(path: path, operation: "create", code: code)
                if code == EEXIST { continue }
                throw lastFailure
            }
            // A cleaner holds it (and is removing it): try another name.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                lastFailure = Failure(path: path, operation: "lock", code: errno)
                _ = close(fd)
                continue
            }
            guard Self.names(path, fd) else {
                lastFailure = Failure(path: path, operation: "lock", code: ENOENT)
                _ = close(fd)
                continue
            }
            // The umask may have cleared bits of `mode`; set exactly `mode` (this never widens it).
            guard fchmod(fd, mode_t(mode)) == 0 else {
                let failure = Failure(path: path, operation: "chmod", code: errno)
                _ = unlink(path)
                _ = close(fd)
                throw failure
            }
            return LockedTemporaryFile(path: path, descriptor: fd)
        }
        throw lastFailure
    }

    /// Closes the descriptor, which releases the lock.
    func release() -> Int32? {
        close(descriptor) == 0 ? nil : errno
    }

    /// Whether `name` is the name of a temporary file for a final file called `base`.
    static func isTemporaryName(_ name: String, for base: String) -> Bool {
        let prefix = "." + base + "."
        guard !base.isEmpty, name.hasPrefix(prefix), name.hasSuffix(suffix) else { return false }
        let middle = name.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        return (1...maximumHexDigits).contains(middle.count)
            && middle.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// Removes the temporary files for `finalPath` that crashed writers left: every regular file
    /// named `.<name>.<hex>.tmp` in its directory that no live writer holds locked. Returns the
    /// names removed; anything unreadable is left alone (cleaning never stops a start).
    @discardableResult
    static func removeStale(beside finalPath: String) -> [String] {
        let directory = FileSystem.directoryName(of: finalPath)
        let base = FileSystem.baseName(of: finalPath)
        var removed = [String]()
        for name in entries(of: directory) where isTemporaryName(name, for: base) {
            let path = FileSystem.join(directory, name)
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { _ = close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, FileSystem.kind(of: info.st_mode) == nil,
                  flock(fd, LOCK_EX | LOCK_NB) == 0, names(path, fd)
            else { continue }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Whether `path` still names the file open as `fd`.
    private static func names(_ path: String, _ fd: Int32) -> Bool {
        var opened = stat(), named = stat()
        return fstat(fd, &opened) == 0 && lstat(path, &named) == 0
            && opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    /// The names in `directory` (empty when it cannot be read).
    private static func entries(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { _ = closedir(stream) }
        var names = [String]()
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            names.append(name)
        }
        return names
    }
}
