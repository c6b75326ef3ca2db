// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "keyway",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KeywayCore", targets: ["KeywayCore"]),
        .library(name: "Keyway", targets: ["Keyway"]),
        .library(name: "KeywaySimulator", targets: ["KeywaySimulator"]),
        .executable(name: "keyway-sim", targets: ["keyway-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
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
        // The discrete-event simulator: many cores on a virtual clock and network, one seed.
        .target(
            name: "KeywaySimulator",
            dependencies: [
                "KeywayCore", "KeywayCrypto",
                .product(name: "Collections", package: "swift-collections"),
            ],
            path: "Simulations/KeywaySimulator"
        ),
        // `keyway-sim`: the simulator's command line.
        .executableTarget(
            name: "keyway-sim",
            dependencies: [
                "KeywaySimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Simulations/keyway-sim"
        ),
        .testTarget(name: "KeywayCryptoTests", dependencies: ["KeywayCrypto"]),
        .testTarget(
            name: "KeywayCoreTests",
            dependencies: [
                "KeywayCore", "KeywayCrypto",
                .product(name: "Collections", package: "swift-collections"),
            ]
        ),
        .testTarget(name: "KeywayTests", dependencies: ["Keyway", "KeywayCore"]),
        .testTarget(name: "KeywaySimulatorTests", dependencies: ["KeywaySimulator", "KeywayCore"]),
    ],
    swiftLanguageModes: [.v6]
)
