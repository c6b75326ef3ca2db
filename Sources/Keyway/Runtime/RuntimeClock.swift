#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCore
import NIOCore

/// The runtime's two clocks: the monotonic one mapped onto the core's ``Instant``, and the
/// wall clock that only the `seq` of records needs (pkarr: publish time in microseconds).
struct RuntimeClock: Sendable {
    /// The monotonic moment that is ``Instant/zero`` for the core.
    let origin: NIODeadline
    /// The wall-clock time at ``origin``, since 1970 (the base of handshake timestamps,
    /// ``TransportConfiguration/handshakeClockOrigin``).
    let wallClockAtOrigin: Duration

    /// A clock whose origin is now.
    init() {
        origin = .now()
        wallClockAtOrigin = .microseconds(Self.wallClockMicroseconds())
    }

    /// The core's time now: nanoseconds since ``origin``, never going back.
    func now() -> Instant { instant(at: .now()) }

    /// The core's time at `deadline`.
    func instant(at deadline: NIODeadline) -> Instant {
        let elapsed = deadline.uptimeNanoseconds &- origin.uptimeNanoseconds
        return Instant(nanoseconds: deadline >= origin ? elapsed : 0)
    }

    /// The monotonic deadline of the core's `instant`.
    func deadline(of instant: Instant) -> NIODeadline {
        let clamped = min(instant.nanoseconds, UInt64(Int64.max) - origin.uptimeNanoseconds)
        return NIODeadline.uptimeNanoseconds(origin.uptimeNanoseconds + clamped)
    }

    /// Microseconds since 1970 by the wall clock.
    static func wallClockMicroseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}
