import FlyingFox
public import Foundation
public import JSON
import LoopbackServer
import Synchronization

/// A fake OpenAI-compatible Chat Completions server on 127.0.0.1, for tests and the demo.
///
/// It answers from the prompt it is sent: a "good" answer writes the brief's numbers by their
/// fact keys, so it passes verification; other modes misbehave the way real endpoints and
/// models do. Modes are
/// consumed one per request, the last one repeating. Every request is recorded.
public final class FakeModel: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case good
        /// Numbers the evidence does not have.
        case wrongNumbers = "wrong-numbers"
        /// The evidence's own numbers, typed, each on the wrong fact ("Pull requests merged: 13"
        /// where 13 is the outstanding issues).
        case misattributed
        /// Fact keys in sentences about other facts ("Pull requests merged: {issues_resolved}").
        case swappedKeys = "swapped-keys"
        /// A `#N` that is no pull request or issue of the evidence.
        case inventedReferences = "invented-refs"
        /// The JSON inside a Markdown code fence (accepted).
        case fenced
        /// Prose around the JSON (rejected).
        case invalidJSON = "invalid-json"
        /// HTTP 429 with `Retry-After: 1`.
        case rateLimited = "rate-limited"
        /// HTTP 500.
        case serverError = "server-error"
        /// A good answer after 1.5 s.
        case slow
        /// A good answer after 6 s: long enough for every worker to be asking at once.
        case patient
        /// An empty message content.
        case empty
        /// HTTP 400 for `response_format: json_schema` (the endpoint only knows JSON mode).
        case jsonModeOnly = "json-mode-only"
        /// A good answer with another status than the one the brief's rules decide (on track
        /// where they say otherwise, at risk where they say on track), as a model steered by a
        /// title would answer.
        case contrarian
    }

    /// One request as received.
    public struct Request: Sendable {
        public let body: JSON.JSONValue
        public let authorization: String?
    }

    struct State {
        var modes: [Mode]
        var requests: [Request] = []
        var promptTokens = 0
        var completionTokens = 0
        var inFlight = 0
        var peakInFlight = 0
    }

    private let state: Mutex<State>
    public let models: [String]
    private let server = LoopbackServer()

    public init(modes: [Mode] = [.good], models: [String] = ["fake-model"]) {
        state = Mutex(State(modes: modes.isEmpty ? [.good] : modes))
        self.models = models
    }

    public var requests: [Request] { state.withLock { $0.requests } }
    /// Most chat requests it was answering at once.
    public var peakInFlight: Int { state.withLock { $0.peakInFlight } }
    /// Tokens the fake reported in `usage`, over every answer it gave.
    public var tokens: (prompt: Int, completion: Int) { state.withLock { ($0.promptTokens, $0.completionTokens) } }

    public func setModes(_ modes: [Mode]) { state.withLock { $0.modes = modes.isEmpty ? [.good] : modes } }

    /// Starts listening; returns the base URL (`http://127.0.0.1:PORT/v1`).
    public func start(port: UInt16 = 0) async throws -> URL {
        let bound = try await server.start(
            port: port,
            routes: [
                (
                    "POST /v1/chat/completions",
                    { [self] request in
                        state.withLock { state in
                            state.inFlight += 1
                            state.peakInFlight = max(state.peakInFlight, state.inFlight)
                        }
                        let answer = await self.complete(request)
                        state.withLock { $0.inFlight -= 1 }
                        return answer
                    }
                ),
                (
                    "GET /v1/models",
                    { [self] _ in
                        let list: JSON.JSONValue = [
                            "object": "list", "data": .array(self.models.map { ["id": .string($0), "object": "model"] }),
                        ]
                        return Self.reply(200, list.canonical)
                    }
                ),
            ])
        guard let url = URL(string: "http://127.0.0.1:\(bound)/v1") else { throw URLError(.badURL) }
        return url
    }

    public func stop() async {
        await server.stop()
    }

    static func reply(_ status: Int, _ body: String, headers extra: [String: String] = [:]) -> HTTPResponse {
        var headers: HTTPHeaders = [.contentType: "application/json", .connection: "close"]
        for (name, value) in extra { headers[HTTPHeader(name)] = value }
        return HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: "Status \(status)"), headers: headers, body: Data(body.utf8))
    }

    func complete(_ request: HTTPRequest) async -> HTTPResponse {
        let data = (try? await request.bodyData) ?? Data()
        let body = (try? JSON.JSONValue(parsing: data)) ?? .null
        let mode = state.withLock { state -> Mode in
            state.requests.append(Request(body: body, authorization: request.headers[.authorization]))
            return state.modes.count > 1 ? state.modes.removeFirst() : state.modes[0]
        }
        let messages = body["messages"]?.array ?? []
        let prompt = messages.first { $0["role"]?.string == "user" }?["content"]?.string ?? ""
        switch mode {
        case .rateLimited:
            return Self.reply(
                429, #"{"error":{"message":"Rate limit reached","type":"requests"}}"#, headers: ["Retry-After": "1"])
        case .serverError:
            return Self.reply(500, #"{"error":{"message":"The server had an error","type":"server_error"}}"#)
        case .jsonModeOnly where body["response_format"]?["type"]?.string == "json_schema":
            return Self.reply(
                400,
                #"{"error":{"message":"Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.","type":"invalid_request_error"}}"#
            )
        case .slow:
            try? await Task.sleep(for: .milliseconds(1500))
        case .patient:
            try? await Task.sleep(for: .seconds(6))
        default:
            break
        }
        let good = Self.answer(to: prompt)
        let content: String
        switch mode {
        case .wrongNumbers: content = good.replacingOccurrences(of: #""summary":""#, with: #""summary":"9999 changes shipped. "#)
        case .misattributed, .swappedKeys:
            content = Self.misattribute(prompt, keys: mode == .swappedKeys, good: good)
        case .inventedReferences:
            // Valid JSON either way: with other highlights after it, or alone.
            content =
                good.contains("\"highlights\":[]")
                ? good.replacingOccurrences(of: "\"highlights\":[]", with: "\"highlights\":[\"Shipped #987654\"]")
                : good.replacingOccurrences(of: "\"highlights\":[", with: "\"highlights\":[\"Shipped #987654\",")
        case .fenced: content = "```json\n" + good + "\n```"
        case .invalidJSON: content = "Here is the report you asked for:\n" + good
        case .empty: content = ""
        case .contrarian:
            let status = Self.ruledStatus(in: prompt) == "on_track" ? "at_risk" : "on_track"
            content = good.replacingOccurrences(
                of: #""status":"\#(Self.ruledStatus(in: prompt))""#, with: #""status":"\#(status)""#)
        default: content = good
        }
        let promptTokens = messages.reduce(0) { $0 + ($1["content"]?.string?.utf8.count ?? 0) } / 4 + 1
        let completionTokens = content.utf8.count / 4 + 1
        state.withLock { state in
            state.promptTokens += promptTokens
            state.completionTokens += completionTokens
        }
        let reply: JSON.JSONValue = [
            "id": "chatcmpl-fake", "object": "chat.completion", "model": body["model"] ?? "fake-model",
            "choices": [["index": 0, "finish_reason": "stop", "message": ["role": "assistant", "content": .string(content)]]],
            "usage": [
                "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
                "total_tokens": .int(Int64(promptTokens + completionTokens)),
            ],
        ]
        return Self.reply(200, reply.canonical)
    }

    /// The brief's facts as `(key, value)`, from its `- {key} = value words` lines.
    static func facts(in prompt: String) -> [(key: String, value: String)] {
        prompt.split(separator: "\n").compactMap { line -> (String, String)? in
            guard line.hasPrefix("- {"), let close = line.firstIndex(of: "}") else { return nil }
            let key = String(line[line.index(line.startIndex, offsetBy: 3)..<close])
            let rest = line[close...].dropFirst(4)
            return rest.split(separator: " ").first.map { (key, String($0)) }
        }
    }

    /// The good answer with a summary that puts the evidence's numbers (or keys) on the wrong
    /// facts: merged takes outstanding's, resolved takes merged's, outstanding takes resolved's.
    static func misattribute(_ prompt: String, keys: Bool, good: String) -> String {
        let facts = Dictionary(facts(in: prompt), uniquingKeysWith: { first, _ in first })
        let swapped = [
            ("Pull requests merged", "issues_outstanding"), ("Issues resolved", "pull_requests_merged"),
            ("Issues outstanding", "issues_resolved"),
        ]
        let summary =
            swapped.map { label, key in "\(label): \(keys ? "{\(key)}" : facts[key] ?? "0")" }
            .joined(separator: "; ") + "."
        guard var report = try? JSON.JSONValue(parsing: good), case .object(var object) = report else { return good }
        object["summary"] = .string(summary)
        report = .object(object)
        return report.canonical
    }

    /// The status the brief's "Status" section states (`- at_risk: why`), or `unknown`.
    static func ruledStatus(in prompt: String) -> String { verdict(in: prompt).status }

    /// The brief's "Status" line: the status and why.
    static func verdict(in prompt: String) -> (status: String, reason: String) {
        let lines = prompt.split(separator: "\n")
        guard let heading = lines.firstIndex(where: { $0.hasPrefix("## Status") }), heading + 1 < lines.count else {
            return ("unknown", "")
        }
        let line = lines[heading + 1].dropFirst(2)
        guard let colon = line.firstIndex(of: ":") else { return (String(line), "") }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// A report that writes numbers only as the brief's fact keys, and names only its references.
    static func answer(to prompt: String) -> String {
        let lines = prompt.split(separator: "\n").map(String.init)
        let subject = lines.first.map { $0.components(separatedBy: ": ").dropFirst().joined(separator: ": ") } ?? "the subject"
        func has(_ key: String) -> Bool { lines.contains { $0.hasPrefix("- {\(key)} = ") } }
        var summary = "\(subject) had a quiet window."
        if has("pull_requests_merged") && has("issues_outstanding") {
            summary = "\(subject) landed {pull_requests_merged} in the window and ends it with {issues_outstanding}."
        } else if has("parts_on_track") {
            summary = "\(subject) has {parts_on_track}."
        }
        // Like a careful model: the status the brief's rules decide, and why as a risk.
        let (status, reason) = verdict(in: prompt)
        // Highlights and risks only from lines of the brief, so a good answer stays verifiable;
        // titles quoted with their marks, as the brief asks.
        let merged = lines.filter { $0.hasPrefix("- #") && $0.hasSuffix("[merged]") }.prefix(3).map { line in
            "Merged " + line.dropFirst(2).replacingOccurrences(of: " [merged]", with: "")
        }
        let blockedItems = lines.filter { $0.hasPrefix("- #") && $0.contains("labelled blocked") }.prefix(3)
            .compactMap { $0.dropFirst(2).split(separator: " ").first.map(String.init) }
        let troubledParts = lines.filter { $0.hasPrefix("- ") && ($0.contains(", blocked]") || $0.contains(", at_risk]")) }
            .prefix(3).compactMap { line -> String? in
                guard let name = line.dropFirst(2).components(separatedBy: " [").first else { return nil }
                return "\(name) is \(line.contains(", blocked]") ? "blocked" : "at risk")"
            }
        let healthy = lines.filter { $0.hasPrefix("- ") && $0.contains(", on_track]") }.prefix(3).compactMap { line in
            line.dropFirst(2).components(separatedBy: " [").first.map { "\($0) is on track" }
        }
        var next = blockedItems.isEmpty ? [] : ["Unblock " + blockedItems.joined(separator: ", ")]
        next += troubledParts.prefix(2).map { "Follow up: " + $0 }
        next.append("Keep reviewing pull requests promptly")
        let report: JSON.JSONValue = [
            "status": .string(status), "summary": .string(summary),
            "highlights": .array((merged + healthy).prefix(5).map { .string($0) }),
            "risks": .array(
                (blockedItems.map { "\($0) is labelled blocked" } + troubledParts + (status == "at_risk" ? [reason] : []))
                    .prefix(5).map { .string($0) }),
            "next_steps": .array(next.prefix(5).map { .string($0) }),
        ]
        return report.canonical
    }
}
