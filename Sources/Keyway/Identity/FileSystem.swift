#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations the identity store and the contacts file need, with `errno`
/// turned into ``IdentityError``: path splitting, directory creation and durability, file kinds,
/// complete writes.
enum FileSystem {
    /// The permission bits of `st_mode` (owner, group, others, and setuid, setgid, sticky).
    static let permissionBits: UInt32 = 0o7777

    /// The directory part of `path`, as `dirname(1)` gives it (`.` for a bare name, `/` for root).
    static func directoryName(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let parent = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return parent.isEmpty ? "/" : parent
    }

    /// The last component of `path` (empty when `path` ends in `/` or is empty).
    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `path` without trailing slashes, except that `/` stays `/`.
    static func trimmingTrailingSlashes(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1, result.last == "/" { result = result.dropLast() }
        return String(result)
    }

    /// `components` joined by `/`, without doubling the slash after a base that ends in one.
    static func join(_ base: String, _ components: String...) -> String {
        let head = trimmingTrailingSlashes(base)
        return ([head == "/" ? "" : head] + components).joined(separator: "/")
    }

    /// Whether `path` is a directory or a symbolic link to one.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && kind(of: info.st_mode) == .directory
    }

    /// Whether `path` itself (not what it points to) is a symbolic link.
    static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// What a `st_mode` describes: `nil` for a regular file, otherwise the kind of the other thing.
    static func kind(of mode: mode_t) -> IdentityError.FileKind? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return .directory
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        default: return .other
        }
    }

    /// Creates `path` and any missing parents with permission bits `mode` (narrowed by the umask),
    /// like `mkdir -p`. Existing directories, and links to them, are left exactly as they are. Each
    /// new directory's entry is made durable by syncing its parent.
    static func createDirectories(_ path: String, mode: UInt32) throws(IdentityError) {
        if isDirectory(path) { return }
        let parent = directoryName(of: path)
        if parent != path { try createDirectories(parent, mode: mode) }
        guard mkdir(path, mode_t(mode)) == 0 else {
            let code = errno
            // Another process may have created it meanwhile; anything else in the way is fatal.
            if code == EEXIST, isDirectory(path) { return }
            throw .cannotCreateDirectory(path: path, code: code == EEXIST ? ENOTDIR : code)
        }
        try syncDirectory(parent)
    }

    /// Flushes the directory `path` itself to disk, so that entries added or removed in it survive
    /// a crash. File systems that cannot sync a directory (`EINVAL`) are accepted as they are.
    static func syncDirectory(_ path: String) throws(IdentityError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .systemError(path: path, operation: "open directory", code: errno) }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else {
            let code = errno
            if code == EINVAL || code == ENOTSUP { return }
            throw .systemError(path: path, operation: "sync directory", code: code)
        }
    }

    /// Writes all of `buffer` to `fd`, retrying short and interrupted writes; the `errno` of a
    /// failure, or `nil`.
    static func writeAll(_ buffer: UnsafeRawBufferPointer, to fd: Int32) -> Int32? {
        guard let base = buffer.baseAddress else { return nil }
        var written = 0
        while written < buffer.count {
            let count = write(fd, base + written, buffer.count - written)
            if count > 0 {
                written += count
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return count < 0 ? errno : EIO
            }
        }
        return nil
    }
}
