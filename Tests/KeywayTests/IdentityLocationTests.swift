import Testing
@testable import Keyway

/// The default identity path, from an injected environment and home directory (never the real ones).
@Suite struct IdentityLocationTests {
    private func resolve(_ environment: [String: String], home: String? = "/home/account") throws -> String {
        try IdentityLocation.resolve(environment: environment, homeDirectory: home)
    }

    @Test func usesAbsoluteXDGDataHome() throws {
        #expect(try resolve(["XDG_DATA_HOME": "/data", "HOME": "/home/u"]) == "/data/keyway/identity")
        #expect(try resolve(["XDG_DATA_HOME": "/data/"]) == "/data/keyway/identity")
    }

    @Test func fallsBackToHomeWhenXDGDataHomeIsUnsetEmptyOrRelative() throws {
        for xdg in [nil, "", "data", "./data", "~/data"] as [String?] {
            var environment = ["HOME": "/home/u"]
            environment["XDG_DATA_HOME"] = xdg
            #expect(try resolve(environment) == "/home/u/.local/share/keyway/identity", "XDG_DATA_HOME=\(xdg ?? "unset")")
        }
    }

    @Test func fallsBackToTheAccountHomeWhenHomeIsUnusable() throws {
        for home in [nil, "", "relative"] as [String?] {
            var environment: [String: String] = [:]
            environment["HOME"] = home
            #expect(try resolve(environment) == "/home/account/.local/share/keyway/identity")
        }
    }

    @Test func rootHomeGetsNoDoubleSlash() throws {
        #expect(try resolve(["HOME": "/"]) == "/.local/share/keyway/identity")
    }

    @Test func noUsableDirectoryIsAnError() {
        #expect(throws: IdentityError.noHomeDirectory) { try resolve([:], home: nil) }
        #expect(throws: IdentityError.noHomeDirectory) { try resolve(["HOME": "x"], home: "") }
    }

    @Test func explicitPathWinsAndIsUsedAsGiven() throws {
        let environment = ["XDG_DATA_HOME": "/data", "HOME": "/home/u"]
        #expect(try IdentityLocation.resolve(explicitPath: "node.key", environment: environment) == "node.key")
        #expect(try IdentityLocation.resolve(explicitPath: "/etc/keyway/id", environment: [:], homeDirectory: nil)
            == "/etc/keyway/id")
    }

    /// The account's home directory is only looked up when the environment does not give one.
    @Test func accountHomeIsNotConsultedWhenTheEnvironmentSuffices() throws {
        var consulted = false
        func account() -> String? {
            consulted = true
            return "/home/account"
        }
        _ = try IdentityLocation.resolve(environment: ["HOME": "/home/u"], homeDirectory: account())
        #expect(!consulted)
        _ = try IdentityLocation.resolve(environment: [:], homeDirectory: account())
        #expect(consulted)
    }
}
