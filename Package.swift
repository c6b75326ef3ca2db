// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "keyway",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KeywayCore", targets: ["KeywayCore"]),
        .library(name: "Keyway", targets: ["Keyway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // libsodium from the system (Debian: libsodium-dev).
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        // The only module that touches libsodium or swift-crypto.
        .target(
            name: "KeywayCrypto",
            dependencies: [
                "CSodium",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The pure, deterministic protocol core: no I/O, no clock, no global state.
        .target(
            name: "KeywayCore",
            dependencies: [
                "KeywayCrypto",
                .product(name: "Collections", package: "swift-collections"),
            ]
        ),
        // The embedding API: identity on disk and (later) the SwiftNIO runtime.
        .target(
            name: "Keyway",
            dependencies: ["KeywayCore", "KeywayCrypto"]
        ),
        // Release-mode micro-benchmarks: `swift run -c release keyway-bench`.
        .executableTarget(
            name: "keyway-bench",
            dependencies: ["KeywayCore", "KeywayCrypto"]
        ),
        // TEST SCAFFOLDING until `keyway run` exists: one core on a UDP socket for
        // Tests/Interop/load_benchmark.sh. Delete it once the runtime can be benchmarked.
        .executableTarget(
            name: "keyway-loadserver",
            dependencies: ["KeywayCore", "KeywayCrypto"]
        ),
        .testTarget(name: "KeywayCryptoTests", dependencies: ["KeywayCrypto"]),
        .testTarget(
            name: "KeywayCoreTests",
            dependencies: [
                "KeywayCore", "KeywayCrypto",
                .product(name: "Collections", package: "swift-collections"),
            ]
        ),
        .testTarget(name: "KeywayTests", dependencies: ["Keyway", "KeywayCore", "KeywayCrypto"]),
    ],
    swiftLanguageModes: [.v6]
)
