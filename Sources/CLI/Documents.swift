import Foundation
import JSON
import Manifest
import Pipeline
import Store

/// Versioned JSON documents printed by `--output json`. Bump `schemaVersion` on any breaking change.
enum Documents {
    static let schemaVersion = 1

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    struct DiagnosticDoc: Encodable {
        let severity: String
        let file: String
        let line: Int
        let column: Int
        let message: String
        let hint: String?

        init(_ diagnostic: Diagnostic) {
            severity = diagnostic.severity.rawValue
            file = diagnostic.location.file
            line = diagnostic.location.line
            column = diagnostic.location.column
            message = diagnostic.message
            hint = diagnostic.hint
        }
    }

    struct RunDoc: Encodable {
        let id: Int64
        let name: String
        let state: String
        let manifest_path: String
        let manifest_sha256: String
        let git_commit: String?
        let window_start: String
        let window_end: String
        let started_at: String
        let finished_at: String?
        let host: String
        let pid: Int
        let invocation: String

        init(_ run: RunRecord) {
            id = run.id
            name = run.name
            state = run.state.rawValue
            manifest_path = run.manifestPath
            manifest_sha256 = run.manifestSHA256
            git_commit = run.gitCommit
            window_start = Timestamp.string(run.windowStart)
            window_end = Timestamp.string(run.windowEnd)
            started_at = Timestamp.string(run.startedAt)
            finished_at = run.finishedAt.map(Timestamp.string)
            host = run.host
            pid = run.pid
            invocation = run.invocation
        }
    }

    struct AttemptDoc: Encodable {
        let unit: String
        let stage: String
        let key: String
        let state: String
        let attempt: Int
        let reason: String
        let reused_from_run: Int64?
        let started_at: String?
        let finished_at: String?
        let counters: [String: Int64]
        let error_code: String?
        let error_message: String?

        init(_ attempt: AttemptRecord) {
            unit = attempt.unit.description
            stage = attempt.unit.stage
            key = attempt.unit.unit
            state = attempt.state.rawValue
            self.attempt = attempt.attempt
            reason = attempt.reason
            reused_from_run = attempt.reusedFromRun
            started_at = attempt.startedAt.map(Timestamp.string)
            finished_at = attempt.finishedAt.map(Timestamp.string)
            counters = attempt.counters
            error_code = attempt.errorCode
            error_message = attempt.errorMessage
        }
    }

    struct LockDoc: Encodable {
        let host: String
        let pid: Int
        let since: String
        let run_id: Int64?
        let alive: Bool
    }
}
