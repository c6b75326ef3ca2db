#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines to standard output and standard error, written with one `write(2)` each: nothing is
/// buffered, so a script or test reading the output sees each line as soon as it is printed, and
/// lines from different tasks never interleave.
enum Console {
    /// Writes `line` and a newline to standard output.
    static func out(_ line: String) { write(line + "\n", to: STDOUT_FILENO) }

    /// Writes `line` and a newline to standard error.
    static func err(_ line: String) { write(line + "\n", to: STDERR_FILENO) }

    /// Writes `text` to standard error as it is, with no newline (a progress line rewritten
    /// in place).
    static func errPartial(_ text: String) { write(text, to: STDERR_FILENO) }

    private static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var written = 0
            while written < buffer.count {
                #if canImport(Glibc)
                let count = Glibc.write(fd, base + written, buffer.count - written)
                #else
                let count = Darwin.write(fd, base + written, buffer.count - written)
                #endif
                if count > 0 {
                    written += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
