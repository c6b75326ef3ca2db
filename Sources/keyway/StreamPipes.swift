#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import NIOCore

/// Reads a file descriptor (standard input) on a thread of its own, so a blocking read never
/// holds one of the few threads async tasks run on. At most ``depth`` chunks are read ahead of
/// the consumer: a slow stream slows the reading down.
struct DescriptorInput: AsyncSequence, Sendable {
    typealias Element = [UInt8]

    /// Bytes read at once.
    static let chunkSize = 64 * 1024
    /// Chunks read ahead at most.
    static let depth = 4

    private let chunks: AsyncThrowingStream<[UInt8], any Error>
    private let permits: Permits

    /// Starts reading `descriptor` until its end.
    init(descriptor: Int32) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let permits = Permits(Self.depth)
        chunks = stream
        self.permits = permits
        // A thread of its own for the blocking reads: not a Dispatch worker, whose pool has one
        // thread per CPU and also runs the async tasks, so that with one CPU a read blocked on
        // an idle pipe held up everything else for about a second (issue 15). A pthread, as
        // Foundation's Thread would need Foundation, which the binary does not link.
        DedicatedThread.start {
            var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
            while true {
                permits.wait()
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR {
                    permits.signal()
                    continue
                }
                if count < 0 {
                    continuation.finish(throwing: CommandFailure.error("cannot read standard input: \(String(cString: strerror(errno)))"))
                    return
                }
                if count == 0 {
                    continuation.finish()
                    return
                }
                continuation.yield(Array(buffer[..<count]))
            }
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let permits: Permits

        mutating func next() async throws -> [UInt8]? {
            let chunk = try await base.next()
            if chunk != nil { permits.signal() }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: chunks.makeAsyncIterator(), permits: permits)
    }
}

/// Threads of their own for blocking work, outside libdispatch's and Swift concurrency's
/// pools.
enum DedicatedThread {
    /// The closure a new thread runs, passed through `pthread_create`'s one pointer.
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread; on a system that refuses one, on a Dispatch
    /// worker instead (the old behaviour: slower to start with one CPU, but it works).
    static func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            DispatchQueue.global().async(execute: body)
            return
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
    }
}

/// A counting semaphore the reading thread blocks on (a `DispatchSemaphore` may not be
/// released while its count is below its initial value, which an abandoned reader would do).
final class Permits: @unchecked Sendable {
    // pthread primitives (not NSCondition: the binary links no Foundation). Allocated once and
    // never moved; `available` is read and written only while `mutex` is held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private nonisolated(unsafe) var available: Int

    init(_ count: Int) {
        available = count
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes a permit, blocking until one is there.
    func wait() {
        pthread_mutex_lock(mutex)
        while available == 0 { pthread_cond_wait(condition, mutex) }
        available -= 1
        pthread_mutex_unlock(mutex)
    }

    /// Returns a permit.
    func signal() {
        pthread_mutex_lock(mutex)
        available += 1
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }
}

/// Moving bytes between a stream and standard input/output or a TCP connection.
enum StreamPipes {
    /// Writes all of `bytes` to `descriptor` (blocking: standard output pushes back by blocking).
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count > 0 {
                    written += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    throw CommandFailure.error("cannot write standard output: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Standard input into `stream` (finished at its end), and `stream` into standard output,
    /// both at once; returns when both directions are done. On a failure the stream is reset.
    static func pipeStandardIO(_ stream: KeywayStream) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await chunk in DescriptorInput(descriptor: STDIN_FILENO) { try await stream.write(chunk) }
                try await stream.finish()
            }
            group.addTask {
                while let chunk = try await stream.read() { try writeAll(chunk, to: STDOUT_FILENO) }
            }
            do {
                try await group.waitForAll()
            } catch {
                group.cancelAll()
                await stream.reset()
                throw error
            }
        }
    }

    /// A TCP connection and a stream, each into the other; the end of one side's bytes ends
    /// the other's (half-close both ways). On a failure the stream is reset.
    static func pipe(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ stream: KeywayStream) async throws {
        try await connection.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await buffer in inbound { try await stream.write(Array(buffer.readableBytesView)) }
                    try await stream.finish()
                }
                group.addTask {
                    while let chunk = try await stream.read() { try await outbound.write(ByteBuffer(bytes: chunk)) }
                    outbound.finish()
                }
                do {
                    try await group.waitForAll()
                } catch {
                    group.cancelAll()
                    await stream.reset()
                    throw error
                }
            }
        }
    }
}
