import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One line of progress on stderr for long work, redrawn in place at most ten times a second.
/// Silent unless stderr is a terminal or progress was asked for (`--progress`).
final class ProgressLine: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var drawn = false
        var lastQuarter = -1
        var label = ""
    }

    private let enabled: Bool
    /// On a terminal the line is redrawn in place; elsewhere (logs) a line per quarter is written.
    private let interactive = isatty(2) == 1
    private let state = Mutex(State())
    private let started = ContinuousClock.now

    init(forced: Bool) { enabled = forced || isatty(2) == 1 }

    /// Shows `label` with a percentage of `done` out of `total`.
    func update(_ label: String, done: Int, total: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let percent = total > 0 ? done * 100 / total : 100
        let interactive = self.interactive
        let draw = state.withLock { state -> Bool in
            if state.label != label {
                state.label = label
                state.lastQuarter = -1
                state.lastDraw = nil
            }
            if interactive {
                if let last = state.lastDraw, now - last < .milliseconds(100), done < total { return false }
                state.lastDraw = now
                state.drawn = true
                return true
            }
            guard percent / 25 > state.lastQuarter else { return false }
            state.lastQuarter = percent / 25
            return true
        }
        guard draw else { return }
        let text = "\(label) \(percent)% (\(done.formatted()) of \(total.formatted()))"
        write(interactive ? "\r\u{1B}[K" + text : text + "\n")
    }

    /// Ends the line with what was done and how long it took.
    func finish(_ summary: String) {
        guard enabled else { return }
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let drawn = state.withLock { $0.drawn }
        write((drawn ? "\r\u{1B}[K" : "") + summary + String(format: " (%.1f s)\n", seconds))
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
