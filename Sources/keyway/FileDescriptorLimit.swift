#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files (RLIMIT_NOFILE), raised in-process when a command needs
/// more than the soft limit allows: `keyway demo --nodes 2000` holds a socket per node, and
/// most systems start processes with a soft limit of 1,024.
enum FileDescriptorLimit {
    /// Descriptors kept for everything that is not a node's socket: standard streams, the
    /// event loops' epoll and event descriptors, files being written.
    static let reserve = 64

    /// Makes sure at least `needed` descriptors can be open, raising the soft limit up to the
    /// hard one. Throws a one-line ``CommandFailure`` when even the hard limit is too low.
    static func ensure(_ needed: Int, for what: String) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(needed)
        if limit.rlim_cur >= wanted { return }
        if limit.rlim_max < wanted {  // RLIM_INFINITY is the largest rlim_t, so it never is
            throw CommandFailure(
                status: CommandFailure.errorStatus,
                message: "\(what) needs \(needed) open files but the hard limit is \(limit.rlim_max) (raise it, e.g. ulimit -Hn \(needed))")
        }
        var raised = limit
        raised.rlim_cur = wanted
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else {
            throw CommandFailure(
                status: CommandFailure.errorStatus,
                message: "\(what) needs \(needed) open files; raising the limit from \(limit.rlim_cur) failed: \(String(cString: strerror(errno)))")
        }
    }
}
