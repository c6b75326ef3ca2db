// keyway-loadserver: TEST SCAFFOLDING for the load benchmark until `keyway run` exists.
// One KeywayCore DHTNode on a blocking UDP socket at 127.0.0.1:PORT, query rate limit off,
// one recvfrom and one sendto per datagram (as libtorrent does). Runs until killed, or for
// SECONDS if given.
//
//     swift build -c release --product keyway-loadserver
//     Tests/Interop/load_benchmark.sh -k '.build/release/keyway-loadserver {port}'
import KeywayCore
import KeywayCrypto
#if canImport(Glibc)
import Glibc

/// Prints one line on stderr and exits with status 2.
func fail(_ message: String) -> Never {
    let bytes = Array((message + "\n").utf8)
    _ = write(2, bytes, bytes.count)
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let port = UInt16(arguments[1]) else {
    fail("usage: keyway-loadserver PORT [SECONDS]")
}
let lifetime = arguments.count >= 3 ? Double(arguments[2]) ?? 600 : 600

let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
address.sin_port = port.bigEndian
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
guard fd >= 0, bound == 0 else {
    fail("keyway-loadserver: cannot bind 127.0.0.1:\(port)")
}
var receiveTimeout = timeval(tv_sec: 0, tv_usec: 100_000)
setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size))
var bufferSize: Int32 = 4 << 20
setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))

var configuration = DHTConfiguration()
configuration.inboundQueryRatePerSource = 0
let clock = ContinuousClock()
let origin = clock.now
func now() -> Instant { Instant(nanoseconds: UInt64((clock.now - origin).nanosecondsClamped)) }
var node = DHTNode(keyPair: .generate(), configuration: configuration, seed: 1, now: now())
print("keyway-loadserver on 127.0.0.1:\(port) node \(node.id)")

var buffer = [UInt8](repeating: 0, count: 2048)
var source = sockaddr_in()
var target = sockaddr_in()
target.sin_family = sa_family_t(AF_INET)
var received = 0
var nextTimer = node.nextTimeout()
while (clock.now - origin) < .seconds(lifetime) {
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let count = buffer.withUnsafeMutableBytes { bytes in
        withUnsafeMutablePointer(to: &source) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
        }
    }
    // The clock is read once per datagram, as a runtime would.
    let instant = now()
    if count > 0 {
        received += 1
        let from = Endpoint(address: .v4(UInt32(bigEndian: source.sin_addr.s_addr)), port: UInt16(bigEndian: source.sin_port))
        node.handleDatagram(Array(buffer[0..<count]), from: from, now: instant)
    }
    if let deadline = nextTimer, deadline <= instant { node.handleTimeout(now: instant) }
    while let datagram = node.pollTransmit() {
        guard case let .v4(ip) = datagram.endpoint.address else { continue }
        target.sin_addr.s_addr = ip.bigEndian
        target.sin_port = datagram.endpoint.port.bigEndian
        _ = datagram.payload.withUnsafeBytes { bytes in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
    while node.pollEvent() != nil {}
    nextTimer = node.nextTimeout()
}
print("received \(received), answered \(node.statistics.queriesAnswered)")
#else
print("keyway-loadserver needs Glibc")
#endif
