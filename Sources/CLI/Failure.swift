import Manifest
import Store

/// Exit codes of design §2.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case invalid = 2
    case unitsFailed = 3
    case locked = 4
    case unavailable = 5
    case interrupted = 130
}

/// An error the CLI reports and exits on. Rendered only by ``Entry``.
struct Failure: Error {
    let status: ExitStatus
    let message: String
    let hint: String?
    /// Manifest diagnostics, rendered one per line before the message.
    let diagnostics: [Diagnostic]

    init(_ status: ExitStatus, _ message: String, hint: String? = nil, diagnostics: [Diagnostic] = []) {
        self.status = status
        self.message = message
        self.hint = hint
        self.diagnostics = diagnostics
    }

    static func store(_ error: StoreError) -> Failure {
        switch error.code {
        case .locked:
            return Failure(
                .locked, error.message,
                hint: "wait for that run to finish; a lock whose process died is taken over automatically")
        case .migration:
            return Failure(.unavailable, "store schema problem: \(error.message)")
        default:
            return Failure(
                .unavailable, "store error: \(error.description)",
                hint: "check the `store:` setting or `GHILLIE_STORE`, and that the store is reachable and writable")
        }
    }
}

/// Ends a command with a status and no message (the command already printed what it had to say).
struct Exit: Error {
    let status: ExitStatus
}
