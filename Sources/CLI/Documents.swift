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
        let manifestPath: String
        let manifestSha256: String
        let gitCommit: String?
        let windowStart: String
        let windowEnd: String
        /// `--window-end DATE` when the run was of a moved window (`backfill` runs are).
        let windowOverride: String?
        let startedAt: String
        let finishedAt: String?
        let host: String
        let pid: Int
        let invocation: String

        init(_ run: RunRecord) {
            id = run.id
            name = run.name
            state = run.state.rawValue
            manifestPath = run.manifestPath
            manifestSha256 = run.manifestSHA256
            gitCommit = run.gitCommit
            windowStart = Timestamp.string(run.windowStart)
            windowEnd = Timestamp.string(run.windowEnd)
            windowOverride = RunChoice.override(inWindowSpec: run.windowSpec)
            startedAt = Timestamp.string(run.startedAt)
            finishedAt = run.finishedAt.map(Timestamp.string)
            host = run.host
            pid = run.pid
            invocation = run.invocation
        }

        enum CodingKeys: String, CodingKey {
            case id
            case name
            case state
            case manifestPath = "manifest_path"
            case manifestSha256 = "manifest_sha256"
            case gitCommit = "git_commit"
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case windowOverride = "window_override"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case host
            case pid
            case invocation
        }
    }

    struct AttemptDoc: Encodable {
        let unit: String
        let stage: String
        let key: String
        let state: String
        let attempt: Int
        let reason: String
        let reusedFromRun: Int64?
        let startedAt: String?
        let finishedAt: String?
        let counters: [String: Int64]
        let errorCode: String?
        let errorMessage: String?

        init(_ attempt: AttemptRecord) {
            unit = attempt.unit.description
            stage = attempt.unit.stage
            key = attempt.unit.unit
            state = attempt.state.rawValue
            self.attempt = attempt.attempt
            reason = attempt.reason
            reusedFromRun = attempt.reusedFromRun
            startedAt = attempt.startedAt.map(Timestamp.string)
            finishedAt = attempt.finishedAt.map(Timestamp.string)
            counters = attempt.counters
            errorCode = attempt.errorCode
            errorMessage = attempt.errorMessage
        }

        enum CodingKeys: String, CodingKey {
            case unit
            case stage
            case key
            case state
            case attempt
            case reason
            case reusedFromRun = "reused_from_run"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case counters
            case errorCode = "error_code"
            case errorMessage = "error_message"
        }
    }

    struct LockDoc: Encodable {
        let host: String
        let pid: Int
        let since: String
        let runId: Int64?
        let alive: Bool

        enum CodingKeys: String, CodingKey {
            case host
            case pid
            case since
            case runId = "run_id"
            case alive
        }
    }
}
