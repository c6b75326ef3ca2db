#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCore
import KeywayCrypto

/// The routing table on disk, so a restarted node rejoins the mesh without its seeds.
///
/// Format (text, one contact a line, so a person can read and edit it):
/// ```
/// keyway-contacts v1
/// <40 hex digits of the node ID> <endpoint, e.g. 192.0.2.1:4000 or [2001:db8::1]:4000>
/// ```
/// Reading is lenient: a line that does not parse is skipped and counted, since a stale or damaged
/// table must never stop a node (it still has its seeds). Writing is atomic: the table goes to a
/// locked temporary file in the same directory (mode 0600, ``LockedTemporaryFile``), is flushed
/// to disk, and replaces the old one with `rename(2)`, so a reader sees the old table or the new
/// one, never a mix; a writer that crashed first leaves a temporary file the next load removes.
public enum ContactsFile {
    /// The first line of every contacts file.
    public static let header = "keyway-contacts v1"
    /// The default name: the identity file's path with this suffix, so several identities in one
    /// directory keep separate tables.
    public static let defaultSuffix = ".contacts"
    /// Permission bits of the file: owner only (it says where the node's peers are).
    public static let fileMode: UInt32 = 0o600
    /// Bytes read at most; a table of a few thousand contacts fits many times over.
    public static let readLimit = 1 << 20

    /// What ``load(at:limit:)`` found.
    public struct Contents: Sendable, Equatable {
        /// The contacts, in file order.
        public var contacts: [NodeContact]
        /// Lines that did not parse (or were over the limit) and were skipped.
        public var skippedLines: Int
    }

    /// The contacts file that belongs to the identity file at `identityPath`.
    public static func defaultPath(forIdentity identityPath: String) -> String {
        identityPath + defaultSuffix
    }

    /// The contacts at `path`, at most `limit`; empty when there is no file. Temporary files a
    /// crashed ``save(_:to:)`` left beside `path` are removed first (not a live writer's).
    public static func load(at path: String, limit: Int) throws(ContactsFileError) -> Contents {
        LockedTemporaryFile.removeStale(beside: path)
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return Contents(contacts: [], skippedLines: 0) }
            throw .system(path: path, operation: "open", code: code)
        }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(path: path, operation: "stat", code: errno) }
        guard FileSystem.kind(of: info.st_mode) == nil else { throw .notRegularFile(path: path) }

        var bytes = [UInt8](repeating: 0, count: readLimit)
        var length = 0
        while length < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + length, $0.count - length) }
            if count > 0 {
                length += count
            } else if count == 0 {
                break
            } else if errno != EINTR {
                throw .system(path: path, operation: "read", code: errno)
            }
        }
        return parse(bytes[0..<length], limit: limit, path: path)
    }

    /// Parses the text of a contacts file.
    static func parse(_ bytes: ArraySlice<UInt8>, limit: Int, path: String) -> Contents {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)[...]
        guard let first = lines.popFirst(), String(decoding: first, as: UTF8.self) == header else {
            return Contents(contacts: [], skippedLines: lines.count + (bytes.isEmpty ? 0 : 1))
        }
        var contents = Contents(contacts: [], skippedLines: 0)
        var seen = Set<NodeID>()
        for line in lines {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard contents.contacts.count < limit, fields.count == 2,
                  let idBytes = [UInt8](hex: String(decoding: fields[0], as: UTF8.self)),
                  let id = NodeID(bytes: idBytes),
                  let endpoint = Endpoint(String(decoding: fields[1], as: UTF8.self)),
                  !endpoint.address.isUnspecified, endpoint.port != 0,
                  seen.insert(id).inserted
            else {
                contents.skippedLines += 1
                continue
            }
            contents.contacts.append(NodeContact(id: id, endpoint: endpoint))
        }
        return contents
    }

    /// The text of a contacts file holding `contacts`.
    static func format(_ contacts: [NodeContact]) -> [UInt8] {
        var text = header + "\n"
        for contact in contacts { text += "\(contact.id) \(contact.endpoint)\n" }
        return Array(text.utf8)
    }

    /// Replaces the file at `path` with one holding `contacts`, atomically (see the type's
    /// documentation); creates the directory (mode 0700) when it is missing.
    public static func save(_ contacts: [NodeContact], to path: String) throws(ContactsFileError) {
        let directory = FileSystem.directoryName(of: path)
        do {
            try FileSystem.createDirectories(directory, mode: IdentityStore.directoryMode)
        } catch {
            throw .directory(error)
        }
        let temporary: LockedTemporaryFile
        do {
            temporary = try LockedTemporaryFile.create(for: path, mode: fileMode)
        } catch {
            throw .system(path: error.path, operation: error.operation, code: error.code)
        }
        // The lock is held until the temporary name is gone, so a cleaner never takes it.
        defer { _ = temporary.release() }
        var failure: ContactsFileError?
        if let code = format(contacts).withUnsafeBytes({ FileSystem.writeAll($0, to: temporary.descriptor) }) {
            failure = .system(path: temporary.path, operation: "write", code: code)
        }
        if failure == nil, fsync(temporary.descriptor) != 0 { failure = .system(path: temporary.path, operation: "sync", code: errno) }
        if failure == nil, rename(temporary.path, path) != 0 { failure = .system(path: path, operation: "rename", code: errno) }
        if let failure {
            _ = unlink(temporary.path)
            throw failure
        }
        do {
            try FileSystem.syncDirectory(directory)
        } catch {
            throw .directory(error)
        }
    }
}

/// Why the contacts file could not be read or written; the description is one line.
public enum ContactsFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Something other than a regular file is at `path`.
    case notRegularFile(path: String)
    /// The directory could not be created or synced.
    case directory(IdentityError)
    /// A system call failed: `operation` names it, `code` is the `errno` value.
    case system(path: String, operation: String, code: Int32)

    /// One line naming the path and the problem.
    public var description: String {
        switch self {
        case let .notRegularFile(path): return "contacts file \(path): not a regular file"
        case let .directory(error): return "contacts file: \(error)"
        case let .system(path, operation, code):
            return "contacts file \(path): \(operation) failed: \(String(cString: strerror(code)))"
        }
    }
}
