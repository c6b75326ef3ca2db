#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The progress line of a long demo step, on standard error: rewritten in place on a terminal
/// (at most every ``terminalInterval``), one plain line every ``logInterval`` otherwise, so a
/// log of a 2,000-node demo shows it is moving without filling up.
struct DemoProgress {
    /// Steps this small finish before a line would help.
    static let minimumTotal = 200
    /// Shortest time between two updates on a terminal.
    static let terminalInterval: Duration = .milliseconds(200)
    /// Time between two lines when standard error is not a terminal.
    static let logInterval: Duration = .seconds(5)

    let step: Int
    let total: Int
    let what: String
    private var done = 0
    private var shown = false
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let clock = ContinuousClock()
    private var lastShown: ContinuousClock.Instant

    init(step: Int, total: Int, what: String) {
        self.step = step
        self.total = total
        self.what = what
        lastShown = clock.now
    }

    /// One more item done.
    mutating func advance() {
        done += 1
        guard total >= DemoProgress.minimumTotal else { return }
        let now = clock.now
        guard now - lastShown >= (isTerminal ? DemoProgress.terminalInterval : DemoProgress.logInterval) else { return }
        lastShown = now
        show()
    }

    /// The step is over: a terminal's line is cleared.
    mutating func end() {
        if shown && isTerminal { Console.errPartial("\r\u{1B}[K") }
        shown = false
    }

    private mutating func show() {
        shown = true
        let line = "  \(step). \(done)/\(total) \(what)"
        if isTerminal { Console.errPartial("\r\u{1B}[K" + line) } else { Console.err(line) }
    }
}
