#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCrypto

/// Creates an identity file atomically and durably, and never over an existing one.
///
/// Steps: create the missing parent directories (mode 0700); write the file to a temporary name in
/// the same directory, `.<name>.<random>.tmp`, opened with `O_CREAT | O_EXCL` and mode 0600 so it is
/// never readable by others, not even for a moment, and locked (``LockedTemporaryFile``: a crashed
/// writer's file is removed at the next start, a live writer's is not); `fsync` it; publish it
/// under the final name with `link(2)`, which fails with `EEXIST` instead of replacing anything;
/// remove the temporary name; `fsync` the directory. A reader therefore sees no file or a
/// complete, durable one.
///
/// Concurrency: when two processes (or threads) create the same identity at once, `link` lets
/// exactly one of them publish; the other gets ``Outcome/alreadyExists``, discards its key and
/// loads the winner's file, so both end up with the same identity. On a file system without hard
/// links (`link` fails with `EPERM` or `ENOTSUP`) the file is published with `rename(2)` after
/// checking that the name is still free; there a simultaneous creator can win the narrow window
/// between check and rename, which is the best that file system offers.
enum IdentityFileWriter {
    /// How a creation ended.
    enum Outcome {
        /// The file is on disk with the key pair that was passed in.
        case published
        /// Something appeared at the path first; nothing was written there.
        case alreadyExists
    }

    /// Writes `keyPair` to a new file at `path`. `beforePublishing` runs between writing the
    /// temporary file and publishing it: tests use it to lose the race on purpose.
    static func create(
        _ keyPair: Ed25519.KeyPair, at path: String, beforePublishing: () -> Void
    ) throws(IdentityError) -> Outcome {
        let directory = FileSystem.directoryName(of: path)
        try FileSystem.createDirectories(directory, mode: IdentityStore.directoryMode)
        // A secret written where someone else may rename or replace entries is not kept safe.
        do {
            try FileSafety.checkDirectories(above: path, role: .identity)
        } catch {
            throw .unsafeFile(error)
        }

        let temporary: LockedTemporaryFile
        do {
            temporary = try LockedTemporaryFile.create(for: path, mode: IdentityStore.fileMode)
        } catch {
            throw .systemError(path: error.path, operation: error.operation, code: error.code)
        }
        // The lock is held until the temporary name is gone, so a cleaner never takes it.
        defer { _ = temporary.release() }
        do {
            try writeDurably(IdentityFileFormat.encode(keyPair), to: temporary)
        } catch {
            _ = unlink(temporary.path)
            throw error
        }

        beforePublishing()
        let published = Result { () throws(IdentityError) in try publish(temporary.path, as: path) }
        // The temporary name goes whatever happened; once published, the file lives on under
        // `path`. Removing it before the sync lets one directory sync make both changes durable.
        _ = unlink(temporary.path)
        guard try published.get() else { return .alreadyExists }
        try FileSystem.syncDirectory(directory)
        return .published
    }

    /// Gives the file at `temporary` the name `path` unless `path` exists; `false` if it does.
    private static func publish(_ temporary: String, as path: String) throws(IdentityError) -> Bool {
        guard link(temporary, path) != 0 else { return true }
        let code = errno
        switch code {
        case EEXIST:
            return false
        case EPERM, ENOTSUP:
            var info = stat()
            guard lstat(path, &info) != 0, errno == ENOENT else { return false }
            guard rename(temporary, path) == 0 else {
                throw .systemError(path: path, operation: "rename", code: errno)
            }
            return true
        default:
            throw .systemError(path: path, operation: "link", code: code)
        }
    }

    /// Writes `contents` to the temporary file and flushes it to disk.
    private static func writeDurably(_ contents: SecureBytes, to file: LockedTemporaryFile) throws(IdentityError) {
        if let code = contents.withUnsafeBytes({ FileSystem.writeAll($0, to: file.descriptor) }) {
            throw .systemError(path: file.path, operation: "write", code: code)
        }
        guard fsync(file.descriptor) == 0 else { throw .systemError(path: file.path, operation: "sync", code: errno) }
    }
}
