import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `keyway` child in a network namespace of its own with only loopback up (`unshare
/// --net`), so that a name lookup it makes (a DNS query for a name that must not resolve) cannot
/// leave the machine: the system resolver is unreachable from there, and the lookup fails at once.
enum OfflineNamespace {
    /// Where `unshare` lives.
    static let unshare = ["/usr/bin/unshare", "/bin/unshare"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why children cannot run offline here, or `nil` when they can (root, `unshare` and `ip`
    /// work: a probe runs `ip link set lo up` in a new namespace).
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root (unshare --net)" }
        guard let unshare else { return "no unshare command" }
        guard let ip = NetworkNamespaces.ip else { return "no ip command" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unshare)
        process.arguments = ["--net", ip, "link", "set", "lo", "up"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unshare does not start" }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : "unshare --net does not work here"
    }()

    /// The executable and arguments that run `keyway arguments` offline.
    static func command(_ arguments: [String]) throws -> (executable: String, arguments: [String]) {
        guard let unshare, let ip = NetworkNamespaces.ip else { throw NetworkNamespaces.Failure(description: unavailableReason ?? "unavailable") }
        let keyway = try KeywayBinary.path()
        return (unshare, ["--net", "/bin/sh", "-c", "\(ip) link set lo up && exec \"$@\"", "sh", keyway] + arguments)
    }
}
