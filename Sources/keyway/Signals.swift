#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Waiting for SIGINT or SIGTERM without killing the process, so `run` can shut down cleanly.
enum Signals {
    /// Stops the default action of SIGINT and SIGTERM and returns a stream that yields each one
    /// as it arrives. Call it before starting work, so an early signal is not lost.
    static func termination() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "keyway.signals")
        var sources = [any DispatchSourceSignal]()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        // The sources live as long as the stream's consumer.
        let keep = SignalSources(sources: sources)
        continuation.onTermination = { _ in keep.cancel() }
        return stream
    }
}

/// Holds the dispatch sources alive; they are only touched on creation and on cancel.
private final class SignalSources: Sendable {
    // Dispatch sources are thread-safe objects (their methods may be called from any thread),
    // but are not marked Sendable; the array itself is never mutated after init.
    nonisolated(unsafe) let sources: [any DispatchSourceSignal]
    init(sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
