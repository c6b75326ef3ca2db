/// The two handshake patterns keyway uses (Noise sections 7.5 and 9.4).
///
/// ```
/// IK:                 IKpsk2:
///   <- s                <- s
///   ...                 ...
///   -> e, es, s, ss     -> e, es, s, ss
///   <- e, ee, se        <- e, ee, se, psk
/// ```
public enum NoisePattern: Sendable, Equatable, CaseIterable {
    /// `Noise_IK_25519_ChaChaPoly_BLAKE2b`: mutual authentication by static keys.
    case ik
    /// `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b`: IK that also requires a shared 32-byte secret.
    case ikpsk2

    /// A token of a message pattern (Noise section 7.1).
    enum Token: Sendable {
        case e, s, ee, es, se, ss, psk
    }

    /// The full protocol name, which seeds the handshake hash.
    public var protocolName: String {
        switch self {
        case .ik: return Noise.protocolNameIK
        case .ikpsk2: return Noise.protocolNameIKpsk2
        }
    }

    /// Whether the pattern has a `psk` token (and so mixes every `e` into the key too).
    public var usesPresharedKey: Bool { self == .ikpsk2 }

    /// The message patterns in order; even indices are written by the initiator.
    var messages: [[Token]] {
        switch self {
        case .ik: return [[.e, .es, .s, .ss], [.e, .ee, .se]]
        case .ikpsk2: return [[.e, .es, .s, .ss], [.e, .ee, .se, .psk]]
        }
    }

    /// The smallest message `tokens` can produce (an empty payload), given whether the
    /// handshake cipher already has a key when the message starts.
    func minimumLength(of tokens: [Token], startingWithKey hasKeyAtStart: Bool) -> Int {
        var hasKey = hasKeyAtStart
        var length = 0
        for token in tokens {
            switch token {
            case .e:
                length += Noise.dhLength
                if usesPresharedKey { hasKey = true }
            case .s:
                length += Noise.dhLength + (hasKey ? Noise.macLength : 0)
            case .ee, .es, .se, .ss, .psk:
                hasKey = true
            }
        }
        return length + (hasKey ? Noise.macLength : 0)
    }
}
