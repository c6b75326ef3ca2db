import Foundation
import KeywayCore

/// A named law for random durations (session lengths, downtimes), fixed by its mean.
///
/// Measurements of deployed DHTs found session lengths short on average but heavy-tailed
/// (Falkner et al., IMC 2007, on Azureus) and Weibull-distributed (Steiner et al., IEEE/ACM
/// ToN 2009, on KAD); exponential, the textbook assumption, is offered beside them.
public enum DistributionKind: String, Sendable, CaseIterable, Equatable {
    /// Memoryless: P(X > x) = exp(-x / mean).
    case exponential
    /// Pareto with shape 2 (finite mean, infinite variance): many short sessions, a few very long.
    case pareto
    /// Weibull with shape 0.5: a heavy tail, the family Steiner et al. fit to KAD sessions.
    case weibull
    /// Log-normal with sigma 1.
    case lognormal

    /// Pareto's shape.
    static let paretoShape = 2.0
    /// Weibull's shape.
    static let weibullShape = 0.5
    /// Log-normal's sigma.
    static let logNormalSigma = 1.0

    /// A draw with the given mean, in seconds.
    public func sample(meanSeconds mean: Double, using rng: inout SeededRandom) -> Double {
        let u = rng.openUnit()
        switch self {
        case .exponential:
            return -mean * log(u)
        case .pareto:
            let shape = DistributionKind.paretoShape
            let minimum = mean * (shape - 1) / shape
            return minimum / pow(u, 1 / shape)
        case .weibull:
            let shape = DistributionKind.weibullShape
            let scale = mean / tgamma(1 + 1 / shape)
            return scale * pow(-log(u), 1 / shape)
        case .lognormal:
            let sigma = DistributionKind.logNormalSigma
            let mu = log(mean) - sigma * sigma / 2
            return exp(mu + sigma * rng.normal())
        }
    }

    /// A draw with the given mean, as a duration.
    public func sample(mean: Duration, using rng: inout SeededRandom) -> Duration {
        .seconds(double: sample(meanSeconds: mean.secondsDouble, using: &rng))
    }
}
