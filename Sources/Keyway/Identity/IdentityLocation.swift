#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a node's identity file lives unless told otherwise.
///
/// The default follows the XDG Base Directory specification: `$XDG_DATA_HOME/keyway/identity`,
/// or `$HOME/.local/share/keyway/identity` when `XDG_DATA_HOME` is unset, empty or relative (the
/// specification says a relative value is invalid and must be ignored). When `HOME` is unset,
/// empty or relative too, the user's home directory from the user database is used. An explicit
/// path always wins and is used as given, relative or not.
///
/// The environment and the home directory are parameters, so tests never touch the real home.
public enum IdentityLocation {
    /// The directory keyway creates inside the data directory.
    public static let directoryName = "keyway"
    /// The name of the identity file inside that directory.
    public static let fileName = "identity"
    /// The data directory relative to the home directory when `XDG_DATA_HOME` is not usable.
    public static let defaultDataDirectory = ".local/share"

    /// The identity file to use: `explicitPath` if given, otherwise the default location computed
    /// from `environment` (`XDG_DATA_HOME`, `HOME`) and, as the last resort, `homeDirectory`.
    ///
    /// `homeDirectory` is only evaluated when needed; by default it asks the user database.
    /// Throws ``IdentityError/noHomeDirectory`` when no absolute directory can be found.
    public static func resolve(
        explicitPath: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: @autoclosure () -> String? = accountHomeDirectory()
    ) throws(IdentityError) -> String {
        if let explicitPath { return explicitPath }
        if let dataHome = environment["XDG_DATA_HOME"], isAbsolute(dataHome) {
            return FileSystem.join(dataHome, directoryName, fileName)
        }
        let home: String
        if let variable = environment["HOME"], isAbsolute(variable) {
            home = variable
        } else if let account = homeDirectory(), isAbsolute(account) {
            home = account
        } else {
            throw .noHomeDirectory
        }
        return FileSystem.join(home, defaultDataDirectory, directoryName, fileName)
    }

    /// The home directory of the effective user in the user database (`getpwuid_r`), or `nil`.
    public static func accountHomeDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: passwdBufferSize)
        // The entry's strings point into `buffer`, so they are read while it is pinned.
        return buffer.withUnsafeMutableBufferPointer { storage -> String? in
            guard let base = storage.baseAddress else { return nil }
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let status = getpwuid_r(geteuid(), &entry, base, storage.count, &result)
            guard status == 0, result != nil, let directory = entry.pw_dir else { return nil }
            return String(cString: directory)
        }
    }

    /// Room for one user database entry; far more than any real entry needs.
    private static let passwdBufferSize = 16_384

    /// Whether `path` is absolute (an empty value is not).
    private static func isAbsolute(_ path: String) -> Bool { path.hasPrefix("/") }
}
