import Foundation
import Pipeline
import Store
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Shows a run's progress on stderr.
///
/// On a TTY, one status line redrawn at most ten times a second, with failures printed above
/// it as they happen. Off a TTY, plain lines: one per finished, failed or skipped unit
/// (`-v` adds started and reused units). `-q` shows failures only.
final class ProgressDisplay: RunObserver {
    struct State {
        var done = 0
        var running: [UnitID: String] = [:]
        var failed = 0
        var skipped = 0
        var lastDraw = Date.distantPast
        /// Lines of the live block currently on screen.
        var shownLines = 0
        var budget: (remaining: Int, resetAt: Date)?
    }

    let terminal: Terminal
    let total: Int
    let verbosity: Int
    let live: Bool
    private let state = Mutex(State())

    init(terminal: Terminal, total: Int, verbosity: Int) {
        self.terminal = terminal
        self.total = total
        self.verbosity = verbosity
        live = terminal.stderrIsTTY && verbosity >= 0
    }

    func event(_ event: RunEvent) {
        state.withLock { state in
            var line: String?
            var force = false
            switch event {
            case .started(let id, let reason, _):
                state.running[id] = ""
                if verbosity > 0 { line = "  start \(id) (\(reason))" }
            case .progress(let id, let message):
                state.running[id] = message
                if verbosity > 0 && !live { line = "  \(id): \(message)" }
            case .succeeded(let id, let duration, _):
                state.running[id] = nil
                state.done += 1
                if !live && verbosity >= 0 { line = terminal.paint("ok", .success) + "    \(id) \(formatDuration(duration))" }
            case .failed(let id, let code, let message):
                state.running[id] = nil
                state.done += 1
                state.failed += 1
                line = terminal.paint("FAIL", .error) + "  \(id): \(message) [\(code)]"
                force = true
            case .warning(let id, let message):
                line = terminal.paint("WARN", .warning) + "  \(id): \(message)"
                force = true
            case .interrupted(let id, let reason):
                state.running[id] = nil
                line = terminal.paint("STOP", .warning) + "  \(id) interrupted" + (reason.map { ": " + $0 } ?? "")
                force = reason != nil
            case .reused(let id, let run):
                state.done += 1
                if verbosity > 0 { line = terminal.paint("reuse", .dim) + " \(id) (up to date from run \(run))" }
            case .settled(let id):
                state.done += 1
                if verbosity > 0 { line = terminal.paint("done", .dim) + "  \(id)" }
            case .skipped(let id, let upstream):
                state.done += 1
                state.skipped += 1
                if verbosity > 0 { line = terminal.paint("skip", .warning) + "  \(id) (upstream \(upstream) failed)" }
            case .tookOver(let id, let worker, let attempt):
                line =
                    terminal.paint("TAKE", .warning)
                    + "  \(id) attempt \(attempt): taken over from worker \(worker), whose lease expired"
                force = true
            case .leaseLost(let id, let attempt):
                state.running[id] = nil
                line =
                    terminal.paint("LOST", .warning)
                    + "  \(id) attempt \(attempt): its lease was taken over while it ran; its end was not written"
                force = true
            case .budget(let remaining, let reset):
                state.budget = (remaining, reset)
            case .stopping:
                line =
                    terminal.paint("stopping", .warning)
                    + ": no new units will start; waiting for \(state.running.count) running (Ctrl-C again to quit now)"
                force = true
            }
            if live {
                let now = Date()
                if line != nil || force || now.timeIntervalSince(state.lastDraw) > 0.1 {
                    // Clear the live block, print any permanent line above it, redraw the block.
                    var output = clear(&state)
                    if let line { output += line + "\n" }
                    let block = liveBlock(state)
                    output += block.joined(separator: "\n")
                    state.shownLines = block.count
                    state.lastDraw = now
                    terminal.errRaw(output)
                }
            } else if let line {
                terminal.err(line)
            }
        }
    }

    /// Clears the live block before the summary.
    func finish() {
        guard live else { return }
        state.withLock { state in terminal.errRaw(clear(&state)) }
    }

    /// Escape codes that erase the live block (the cursor ends at its first line's start).
    private func clear(_ state: inout State) -> String {
        guard state.shownLines > 0 else { return "" }
        var text = "\r\u{1B}[2K"
        for _ in 1..<state.shownLines { text += "\u{1B}[1A\u{1B}[2K" }
        state.shownLines = 0
        return text
    }

    /// One line per running unit (at most 8) and a footer: done/total, failures, API budget.
    private func liveBlock(_ state: State) -> [String] {
        let running = state.running.keys.sorted()
        var lines = running.prefix(8).map { id -> String in
            let note = state.running[id] ?? ""
            return fit("  \(id)" + (note.isEmpty ? "" : "  " + terminal.paint(note, .dim)))
        }
        if running.count > 8 { lines.append("  … and \(running.count - 8) more") }
        lines.append(fit(statusLine(state)))
        return lines
    }

    /// Cuts the live line to the terminal's width so that `\r` redraws it in place.
    private func fit(_ line: String) -> String {
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        // Colour codes take no room on screen but count as characters; leave room for them.
        let visible = line.replacingOccurrences(of: "\u{1B}[31m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "")
        guard visible.count >= columns else { return line }
        return String(visible.prefix(max(10, columns - 2))) + "…"
    }

    private func statusLine(_ state: State) -> String {
        var text = "[\(state.done)/\(total)] \(state.running.count) running"
        if state.failed > 0 { text += " · " + terminal.paint("\(state.failed) failed", .error) }
        if state.skipped > 0 { text += " · \(state.skipped) skipped" }
        if let budget = state.budget {
            let minutes = max(0, Int(budget.resetAt.timeIntervalSinceNow / 60))
            text += " · GitHub budget \(budget.remaining) (resets in \(minutes) min)"
        }
        return text
    }
}
