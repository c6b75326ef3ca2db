/// The embedding API of keyway: a node's identity on disk and, with the runtime, a running node.
///
/// The protocol itself lives in `KeywayCore`, which does no I/O; this module supplies the files,
/// sockets and clock around it.
public enum Keyway {
    /// The version of this package, reported by the CLI and in logs.
    public static let version = "0.1.0"
}
