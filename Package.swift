// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "keyway",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KeywayCore", targets: ["KeywayCore"]),
        .library(name: "Keyway", targets: ["Keyway"]),
        .executable(name: "keyway", targets: ["KeywayCLI"]),
        .executable(name: "keyway-sim", targets: ["keyway-sim"]),
    ],
    dependencies: [
        // 4.x: its Crypto module uses FoundationEssentials, so no ICU in our binaries.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // `--metrics`: the swift-metrics API, exported in Prometheus's text format.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libsodium from the system (Debian: libsodium-dev).
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        // The only module that touches libsodium or swift-crypto (SHA-1, which libsodium lacks).
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
        // The embedding API: identity on disk and the SwiftNIO runtime around the core.
        .target(
            name: "Keyway",
            dependencies: [
                "KeywayCore", "KeywayCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `keyway` command. The module is KeywayCLI, not `keyway`, so that its module file
        // cannot clash with Keyway's on a case-insensitive file system; the binary is `keyway`.
        .executableTarget(
            name: "KeywayCLI",
            dependencies: [
                "Keyway", "KeywayCore", "KeywayCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // TCP for `listen --forward` and `forward`.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // `--metrics`: counters through swift-metrics, served at /metrics over HTTP/1.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/keyway",
            linkerSettings: [
                // Release builds on Linux link the Swift runtime and libraries into the binary,
                // as `swift build --static-swift-stdlib` does: a node then maps and relocates only
                // the runtime code it uses instead of all of libswiftCore and FoundationEssentials.
                // `--no-export-dynamic` undoes the toolchain's `-export-dynamic` for static
                // runtimes, which put every runtime symbol in the dynamic table and kept it alive;
                // lld, shipped with the toolchain, links it without gold's warnings about
                // FoundationEssentials' use of `mktemp`. Together these keep an idle node under
                // 20 MB resident (Docs/PERFORMANCE.md, "Idle memory"). Only the `keyway`
                // executable carries the flags, so the libraries stay usable as dependencies;
                // debug builds (and so the tests) link dynamically.
                .unsafeFlags(
                    ["-static-stdlib", "-use-ld=lld", "-Xlinker", "--no-export-dynamic"],
                    .when(platforms: [.linux], configuration: .release)),
                // FoundationEssentials' own static dependencies: modules compiled against the
                // shared runtime do not name them for the linker, as `--static-swift-stdlib` would.
                .linkedLibrary("_FoundationCShims", .when(platforms: [.linux], configuration: .release)),
                .linkedLibrary("_FoundationCollections", .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        // Release-mode micro-benchmarks: `swift run -c release keyway-bench`.
        .executableTarget(
            name: "keyway-bench",
            dependencies: [
                "KeywayCore", "KeywayCrypto", "Keyway",
                .product(name: "Logging", package: "swift-log"),
            ]
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
        // Depends on the command too, so `swift test` builds the binary the CLI tests run.
        .testTarget(
            name: "KeywayTests",
            dependencies: [
                "Keyway", "KeywayCore", "KeywayCrypto", "KeywayCLI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "KeywaySimulatorTests", dependencies: ["KeywaySimulator", "KeywayCore"]),
    ],
    swiftLanguageModes: [.v6]
)
