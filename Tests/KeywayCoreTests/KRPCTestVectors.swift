import Foundation
import Testing

/// The KRPC captures in `shared/vectors/krpc` (libtorrent 2.0.8; see the README there).
///
/// They are found from this source file's path: up to the package root (the first folder
/// holding `Package.swift`), then `../shared/vectors/krpc`, so any checkout with `shared/`
/// beside it works. The vectors are not copied into the repository.
enum KRPCTestVectors {
    /// Every capture's file name (without `.bin`), in the README's order.
    static let names = [
        "ping_query", "ping_response", "find_node_query", "find_node_response",
        "get_peers_query", "get_peers_response", "get_query", "get_response",
        "get_with_value_query", "get_with_value_response", "put_query", "put_response",
    ]

    /// The folder holding the captures.
    static let directory: URL = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
            folder.deleteLastPathComponent()
        }
        return folder.deletingLastPathComponent().appendingPathComponent("shared/vectors/krpc")
    }()

    /// The bytes of the capture `name`; records an issue (and returns no bytes) if it is missing.
    static func bytes(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        let url = directory.appendingPathComponent("\(name).bin")
        guard let data = try? Data(contentsOf: url) else {
            Issue.record("missing KRPC vector \(url.path)", sourceLocation: sourceLocation)
            return []
        }
        return [UInt8](data)
    }

    /// Every capture, by name.
    static func all() -> [(name: String, bytes: [UInt8])] {
        names.map { ($0, bytes($0)) }
    }
}
