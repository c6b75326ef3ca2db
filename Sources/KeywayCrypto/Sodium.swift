import CSodium

/// libsodium's one-time initialisation.
///
/// `sodium_init()` is idempotent and thread-safe; every entry point of this module calls
/// ``Sodium/ensureInitialized()`` before it uses the library, so callers never have to.
enum Sodium {
    /// `true` once libsodium has been initialised; evaluated on first use, exactly once.
    private static let initialized: Bool = sodium_init() >= 0

    /// Initialises libsodium if that has not happened yet.
    ///
    /// A failure here means the process cannot do cryptography at all (libsodium failed to find
    /// a source of randomness), which no caller can recover from.
    @inline(__always)
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }
}
