import KeywayCrypto

/// Keeps a node's permanent identity, an Ed25519 key pair, in a file: loaded when it is there,
/// created on first use.
///
/// The file is three lines of text: `keyway-identity v1`, `seed ` and the 32-byte seed in hex,
/// `public ` and the public key in hex. On load the public key is derived again from the seed and
/// must match (the full format is documented in `IdentityFileFormat.swift`). The default path is
/// ``IdentityLocation``. A usable file is a regular file (a symbolic link to one is followed) that
/// neither group nor others may read or write; it is created with mode 0600 in a directory created
/// with mode 0700, atomically and durably, and never over anything that is already at the path
/// (see ``IdentityFileWriter`` for the steps and for two processes creating at once).
///
/// Anything else at the path is refused with an ``IdentityError`` and left untouched: a corrupt,
/// truncated or foreign file, an unknown version, loose permissions, a directory, a dangling
/// symbolic link. Regenerating would silently give the node a new address, so the decision to
/// start over is left to a person.
public enum IdentityStore {
    /// Permission bits of an identity file the store creates: read and write for the owner only.
    public static let fileMode: UInt32 = 0o600
    /// Permission bits of the directories the store creates: owner only.
    public static let directoryMode: UInt32 = 0o700
    /// Permission bits that must be clear on an identity file: any access by group or others.
    public static let forbiddenModeBits: UInt32 = 0o077

    /// The key pair in the identity file at `path`. Never creates or changes a file.
    ///
    /// Throws ``IdentityError/notFound(path:)`` when there is no file, and the other cases of
    /// ``IdentityError`` when the file cannot be used.
    public static func load(at path: String) throws(IdentityError) -> Ed25519.KeyPair {
        try checkNamesFile(path)
        guard case let .loaded(keyPair) = try IdentityFileReader.readIdentity(at: path) else {
            throw .notFound(path: path)
        }
        return keyPair
    }

    /// The key pair in the identity file at `path`, generated and saved there first if there is
    /// no file yet. Safe to call from several processes at once: all get the same key pair.
    /// Temporary files a crashed creator left beside `path` are removed first.
    public static func loadOrCreate(at path: String) throws(IdentityError) -> Ed25519.KeyPair {
        try loadOrCreate(at: path, beforePublishing: {})
    }

    /// ``loadOrCreate(at:)`` with a hook that runs after the new file is written under its
    /// temporary name and before it is published, so tests can lose the creation race on purpose.
    static func loadOrCreate(
        at path: String, beforePublishing: () -> Void
    ) throws(IdentityError) -> Ed25519.KeyPair {
        try checkNamesFile(path)
        // What a writer that crashed before publishing left behind (no live writer's file).
        LockedTemporaryFile.removeStale(beside: path)
        if case let .loaded(keyPair) = try IdentityFileReader.readIdentity(at: path) { return keyPair }
        let keyPair = Ed25519.KeyPair.generate()
        switch try IdentityFileWriter.create(keyPair, at: path, beforePublishing: beforePublishing) {
        case .published:
            return keyPair
        case .alreadyExists:
            // Another creator won the race (or something else appeared): use what is there.
            return try load(at: path)
        }
    }

    /// Throws ``IdentityError/invalidPath(path:)`` unless `path` can name a file.
    private static func checkNamesFile(_ path: String) throws(IdentityError) {
        guard !path.isEmpty, !path.hasSuffix("/") else { throw .invalidPath(path: path) }
    }
}
