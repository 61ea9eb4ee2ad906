import Foundation
import HTTP
import JSON
import Store
import Synchronization

/// One message of a chat.
struct ChatMessage: Sendable, Hashable {
    let role: String
    let content: String
}

/// A model's answer and what it cost.
struct ChatAnswer: Sendable {
    let content: String
    let promptTokens: Int
    let completionTokens: Int
    let latencyMs: Int
}

/// A failure talking to the model endpoint; the message never holds the key.
struct ModelError: Error, Sendable, CustomStringConvertible {
    let code: String
    let message: String
    var description: String { "\(code): \(message)" }
}

/// An OpenAI-compatible Chat Completions client (OpenAI, Azure-style base URLs, vLLM, Ollama,
/// llama.cpp server).
///
/// Asks for structured output with the report's JSON schema (`response_format: json_schema`);
/// an endpoint that refuses it (HTTP 400 naming `response_format`) is asked again in JSON mode,
/// and remembered. 429 and 5xx answers, timeouts and transport errors are retried with
/// exponential backoff and jitter, honouring `Retry-After`.
final class ModelClient: Sendable {
    let url: URL
    let model: String
    let key: String
    let temperature: Double
    let maxTokens: Int
    let timeout: Duration
    let attempts = 5
    private let jsonMode = Mutex(false)
    /// Requests in flight to the endpoint, capped for every report unit of the run together.
    let slots: Slots
    /// The same cap across every worker of the store (the ledger's `endpoint_slots`), if any.
    let shared: EndpointSlots?
    let maxInFlight: Int
    /// How long a shared slot outlives a worker that died holding it.
    let slotLease: Duration

    init(
        endpoint: String, model: String, key: String, temperature: Double, maxTokens: Int, timeout: Int, maxInFlight: Int = 4,
        shared: EndpointSlots? = nil
    ) throws(ModelError) {
        slots = Slots(maxInFlight)
        self.shared = shared
        self.maxInFlight = max(1, maxInFlight)
        slotLease = .seconds(timeout + 30)
        guard var components = URLComponents(string: endpoint) else {
            throw ModelError(code: "bad_endpoint", message: "`\(endpoint)` is not a URL")
        }
        components.path =
            components.path.hasSuffix("/")
            ? components.path + "chat/completions"
            : components.path + "/chat/completions"
        guard let url = components.url else { throw ModelError(code: "bad_endpoint", message: "`\(endpoint)` is not a URL") }
        self.url = url
        self.model = model
        self.key = key
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.timeout = .seconds(timeout)
    }

    static let schema: JSONValue = [
        "type": "object", "additionalProperties": false,
        "required": ["status", "summary", "highlights", "risks", "next_steps"],
        "properties": [
            "status": ["type": "string", "enum": ["on_track", "at_risk", "blocked", "unknown"]],
            "summary": ["type": "string"],
            "highlights": ["type": "array", "items": ["type": "string"], "maxItems": 5],
            "risks": ["type": "array", "items": ["type": "string"], "maxItems": 5],
            "next_steps": ["type": "array", "items": ["type": "string"], "maxItems": 5],
        ],
    ]

    func body(_ messages: [ChatMessage], jsonMode: Bool) -> Data {
        let format: JSONValue =
            jsonMode
            ? ["type": "json_object"]
            : ["type": "json_schema", "json_schema": ["name": "status_report", "strict": true, "schema": Self.schema]]
        let value: JSONValue = [
            "model": .string(model),
            "messages": .array(messages.map { ["role": .string($0.role), "content": .string($0.content)] }),
            "temperature": .double(temperature), "max_tokens": .int(Int64(maxTokens)), "response_format": format,
        ]
        return Data(value.canonical.utf8)
    }

    func complete(_ messages: [ChatMessage]) async throws(ModelError) -> ChatAnswer {
        var attempt = 0
        while true {
            attempt += 1
            let json = jsonMode.withLock { $0 }
            var request = Request("POST", url, body: body(messages, jsonMode: json), timeout: timeout)
            request.setHeader("Content-Type", "application/json")
            request.setHeader("Authorization", "Bearer \(key)")
            request.setHeader("api-key", key)
            // A slot first (this process's, then the store's): the wait is not the endpoint's latency.
            await slots.enter()
            let holder: String
            do {
                holder = try await sharedSlot()
            } catch {
                await slots.leave()
                throw error
            }
            let started = ContinuousClock.now
            let exchanged: Result<Response, any Error>
            do {
                exchanged = .success(try await Transport.shared.send(request))
            } catch {
                exchanged = .failure(error)
            }
            if let shared { try? shared.release(url.absoluteString, holder: holder) }
            await slots.leave()
            let response: Response
            do {
                response = try exchanged.get()
            } catch is CancellationError {
                throw ModelError(code: "interrupted", message: "stopped while waiting for the endpoint's answer")
            } catch {
                guard attempt < attempts else {
                    throw ModelError(code: "unreachable", message: "\(url.host ?? "the endpoint") did not answer: \(error)")
                }
                try await pause(attempt: attempt, retryAfter: nil)
                continue
            }
            let data = response.body
            let elapsed = ContinuousClock.now - started
            let latency = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            let text = String(decoding: data, as: UTF8.self)
            switch response.status {
            case 200..<300:
                guard let value = try? JSONValue(parsing: data),
                    let content = value["choices"]?.array?.first?["message"]?["content"]?.string
                else {
                    throw ModelError(
                        code: "bad_response",
                        message: "the endpoint's answer has no `choices[0].message.content`: \(preview(text))")
                }
                return ChatAnswer(
                    content: content, promptTokens: Int(value["usage"]?["prompt_tokens"]?.int ?? 0),
                    completionTokens: Int(value["usage"]?["completion_tokens"]?.int ?? 0), latencyMs: latency)
            case 400 where !json && (text.contains("response_format") || text.contains("json_schema")):
                jsonMode.withLock { $0 = true }
                attempt -= 1
            case 429, 500..<600:
                guard attempt < attempts else {
                    throw ModelError(
                        code: response.status == 429 ? "rate_limited" : "server_error",
                        message: "HTTP \(response.status) after \(attempts) attempts: \(preview(text))")
                }
                let retryAfter = response.header("Retry-After").flatMap(Double.init)
                try await pause(attempt: attempt, retryAfter: retryAfter)
            case 401, 403:
                throw ModelError(code: "unauthorized", message: "HTTP \(response.status): the API key was refused")
            default:
                throw ModelError(code: "http_\(response.status)", message: "HTTP \(response.status): \(preview(text))")
            }
        }
    }

    /// A one-token completion, for `check`: whether the model (or deployment) answers at all,
    /// at the cost of one token.
    func ping() async throws(ModelError) {
        var request = Request(
            "POST", url,
            body: Data(
                JSONValue.object([
                    "model": .string(model), "messages": [["role": "user", "content": "ping"]], "max_tokens": 1,
                ]).canonical.utf8), timeout: timeout)
        request.setHeader("Content-Type", "application/json")
        request.setHeader("Authorization", "Bearer \(key)")
        request.setHeader("api-key", key)
        let response: Response
        do {
            response = try await Transport.shared.send(request)
        } catch {
            throw ModelError(code: "unreachable", message: "\(url.host ?? "the endpoint") did not answer: \(error)")
        }
        switch response.status {
        case 200..<300: return
        case 401, 403: throw ModelError(code: "unauthorized", message: "HTTP \(response.status): the API key was refused")
        case 404:
            throw ModelError(
                code: "http_404",
                message:
                    "no model or deployment `\(model)` answers at \(url.path) (HTTP 404): check `report.model.model` and the endpoint"
            )
        default:
            throw ModelError(
                code: "http_\(response.status)",
                message: "a one-token completion from `\(model)` answered HTTP \(response.status): "
                    + preview(String(decoding: response.body, as: UTF8.self)))
        }
    }

    /// The models the endpoint lists (`GET /models`), for `check`.
    func models() async throws(ModelError) -> [String] {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return [] }
        let path = components.path.replacingOccurrences(of: "chat/completions", with: "models")
        components.path = path
        guard let modelsURL = components.url else { return [] }
        var request = Request("GET", modelsURL, timeout: timeout)
        request.setHeader("Authorization", "Bearer \(key)")
        request.setHeader("api-key", key)
        do {
            let reply = try await Transport.shared.send(request)
            let data = reply.body
            let status = reply.status
            guard status == 200 else {
                throw ModelError(code: "http_\(status)", message: "GET \(modelsURL.path) answered HTTP \(status)")
            }
            let value = try? JSONValue(parsing: data)
            return (value?["data"]?.array ?? []).compactMap { $0["id"]?.string }
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(
                code: "unreachable", message: "\(modelsURL.host ?? "the endpoint") did not answer: \(error)")
        }
    }

    private func pause(attempt: Int, retryAfter: Double?) async throws(ModelError) {
        let backoff = min(30, 0.25 * pow(2, Double(attempt - 1))) * Double.random(in: 0.8...1.2)
        let seconds = min(60, retryAfter ?? backoff)
        do { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) } catch {
            throw ModelError(code: "cancelled", message: "stopped while waiting to retry")
        }
    }

    /// Waits for one of the store's slots on this endpoint (every worker's requests together
    /// stay under `max_in_flight`); its holder id, empty without a store to share.
    private func sharedSlot() async throws(ModelError) -> String {
        guard let shared else { return "" }
        let holder = UUID().uuidString
        while true {
            do {
                if try shared.acquire(url.absoluteString, limit: maxInFlight, holder: holder, lease: slotLease) { return holder }
                try await Task.sleep(for: .milliseconds(100))
            } catch is CancellationError {
                throw ModelError(code: "interrupted", message: "stopped while waiting for a slot on the endpoint")
            } catch {
                throw ModelError(code: "store", message: "cannot take a slot on the endpoint: \(error)")
            }
        }
    }

    private func preview(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        let short = line.count > 160 ? String(line.prefix(157)) + "..." : line
        return short.replacingOccurrences(of: key, with: "***")
    }
}

/// At most `limit` holders at once; the others wait their turn, first come first served.
actor Slots {
    let limit: Int
    private var held = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) {
        self.limit = max(1, limit)
    }

    func enter() async {
        guard held >= limit else {
            held += 1
            return
        }
        // The slot is handed over by `leave`, so `held` already counts this holder.
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            held -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
