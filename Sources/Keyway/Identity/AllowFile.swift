#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCore
import KeywayCrypto

/// A file of keys that may open sessions with a node (`keyway listen --allow-file FILE`), in the
/// spirit of OpenSSH's `authorized_keys`.
///
/// Format: one key a line (52 z-base-32 characters, optionally after `pk:`, or 64 hex digits);
/// `#` starts a comment that runs to the end of the line; blank lines and surrounding spaces are
/// ignored. Any other line is an error that names the file and the line, so a typo never silently
/// shuts a peer out (or, worse, is mistaken for a key). Anyone who can change the file decides
/// who reaches the node, so it must belong to the effective user (or root), must not be writable
/// by group or others, and must sit in directories only they can write (``FileSafety``).
public enum AllowFile {
    /// The largest file read: tens of thousands of keys.
    public static let maximumFileSize = 4 << 20

    /// The keys in the allow file at `path`, in file order, without repeats.
    public static func load(fromFile path: String) throws(AllowFileError) -> [Ed25519.PublicKey] {
        let contents = try readChecked(path)
        return try parse(contents, path: path)
    }

    /// The keys in `contents`, the text of the allow file at `path`.
    public static func parse(_ contents: [UInt8], path: String) throws(AllowFileError) -> [Ed25519.PublicKey] {
        var keys = [Ed25519.PublicKey]()
        var seen = Set<Ed25519.PublicKey>()
        let lines = contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let uncommented = line.prefix { $0 != UInt8(ascii: "#") }
            let text = trimmed(String(decoding: uncommented, as: UTF8.self))
            if text.isEmpty { continue }
            let key: Ed25519.PublicKey
            do {
                key = try Ed25519.PublicKey(parsing: text)
            } catch {
                throw .invalidKey(path: path, line: index + 1, problem: "\"\(text)\": \(error)")
            }
            if seen.insert(key).inserted { keys.append(key) }
        }
        return keys
    }

    /// `text` without leading and trailing spaces, tabs and carriage returns.
    private static func trimmed(_ text: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(text.drop(while: blank).reversed().drop(while: blank).reversed())
    }

    /// The bytes of the file at `path`, after checking what it is and who may change it.
    private static func readChecked(_ path: String) throws(AllowFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, code: errno) }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, code: errno) }
        guard FileSystem.kind(of: info.st_mode) == nil else { throw .notRegularFile(path: path) }
        do {
            try FileSafety.check(openFile: fd, at: path, role: .allowList, forbiddenBits: FileSafety.writableByOthersBits)
        } catch {
            throw .unsafe(error)
        }
        var contents = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, code: errno)
            }
            if count == 0 { break }
            contents += buffer[..<count]
            if contents.count > maximumFileSize { throw .tooLarge(path: path) }
        }
        return contents
    }
}

/// Why an allow file could not be used; the description is one line naming the file.
public enum AllowFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read; `code` is the `errno` value.
    case unreadable(path: String, code: Int32)
    /// Something other than a regular file is at `path`.
    case notRegularFile(path: String)
    /// The file, or a directory above it, could be changed by someone else (``FileSafety``).
    case unsafe(FileSafetyError)
    /// The file is longer than ``AllowFile/maximumFileSize``.
    case tooLarge(path: String)
    /// Line `line` (1-based) is neither a key, a comment nor blank.
    case invalidKey(path: String, line: Int, problem: String)

    /// One line naming the file (and line) and the problem.
    public var description: String {
        switch self {
        case let .unreadable(path, code):
            return "cannot read the allow file \(path): \(String(cString: strerror(code)))"
        case let .notRegularFile(path):
            return "the allow file \(path) is not a regular file"
        case let .unsafe(error):
            return error.description
        case let .tooLarge(path):
            return "the allow file \(path) is longer than \(AllowFile.maximumFileSize) bytes"
        case let .invalidKey(path, line, problem):
            return "\(path):\(line): not a key: \(problem) (one key a line; # starts a comment)"
        }
    }
}
