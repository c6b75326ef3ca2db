import Foundation
import KeywayCore
import KeywayCrypto
import Testing
@testable import Keyway
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-system helpers for the identity tests. Every test works in its own fresh directory.
enum IdentityTestSupport {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `body` with a new empty directory under the system temporary directory, then removes
    /// the directory and everything in it.
    static func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
        var template = Array((NSTemporaryDirectory() + "/keyway-identity-test-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: \(errno)") }
        let path = String(cString: created)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    /// Writes `bytes` to a new file at `path` with exactly the permission bits `mode`.
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(errno)") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fchmod(fd, mode) == 0 else { throw Failure(description: "cannot write \(path)") }
    }

    /// The bytes of the file at `path`.
    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        return [UInt8](data)
    }

    /// The permission bits of `path` (not following a final symbolic link).
    static func permissions(of path: String) throws -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Failure(description: "cannot stat \(path): \(errno)") }
        return info.st_mode & 0o7777
    }

    /// The names in directory `path`, sorted.
    static func entries(of path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// A valid v1 identity file for `keyPair`.
    static func fileContents(for keyPair: Ed25519.KeyPair) -> [UInt8] {
        IdentityFileFormat.encode(keyPair).bytes
    }

    /// The key pair of RFC 8032 section 7.1, test 1.
    static func rfc8032KeyPair() throws -> Ed25519.KeyPair {
        try Ed25519.KeyPair(seed: #require([UInt8](hex: rfc8032Seed)))
    }

    /// The seed of RFC 8032 section 7.1, test 1.
    static let rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    /// Its public key.
    static let rfc8032PublicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

    /// Whether this process ignores permission bits (root, or a capability that does the same).
    static var bypassesFilePermissions: Bool { geteuid() == 0 }
}
