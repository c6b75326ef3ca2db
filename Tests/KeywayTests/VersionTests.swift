import Testing
import Keyway

@Suite struct VersionTests {
    @Test func versionIsSemantic() {
        #expect(Keyway.version.split(separator: ".").count == 3)
    }
}
