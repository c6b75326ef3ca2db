import CSodium

/// A fixed-size buffer for secret material that is zeroed when the last copy is dropped.
///
/// Copies share one allocation (the type is a reference-counted value), so a secret exists in
/// memory once however often it is passed around. The bytes are wiped with `sodium_memzero`,
/// which the compiler may not optimise away.
public struct SecureBytes: Sendable {
    private final class Storage: @unchecked Sendable {
        // Immutable after `init`, so sharing across threads is safe.
        let pointer: UnsafeMutableRawBufferPointer

        init(count: Int) {
            pointer = .allocate(byteCount: max(count, 1), alignment: 16)
            pointer.initializeMemory(as: UInt8.self, repeating: 0)
        }

        deinit {
            sodium_memzero(pointer.baseAddress, pointer.count)
            pointer.deallocate()
        }
    }

    private let storage: Storage
    /// The number of secret bytes.
    public let count: Int

    /// Copies `bytes` into a new secret buffer.
    public init(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        storage = Storage(count: array.count)
        count = array.count
        array.withUnsafeBytes { storage.pointer.copyMemory(from: $0) }
    }

    /// A buffer of `count` bytes filled by `body`, which receives writable memory.
    public init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        storage = Storage(count: count)
        self.count = count
        try body(UnsafeMutableRawBufferPointer(rebasing: storage.pointer[0..<count]))
    }

    /// Calls `body` with read access to the secret bytes. Do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage.pointer[0..<count]))
    }

    /// A copy of the secret as a plain array: for persisting a key, never for logging it.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension SecureBytes: Equatable {
    /// Constant-time comparison (`sodium_memcmp`).
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in sodium_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }
}
