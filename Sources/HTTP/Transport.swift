import CCurl
public import Foundation
import Synchronization

/// HTTP for every client of the process (GitHub, the App's tokens, the model endpoint): one
/// libcurl multi handle driven by one thread of its own, which sleeps in `curl_multi_poll`
/// until a socket, a timer or a new request needs it.
///
/// Why not `URLSession`: on Linux, FoundationNetworking drives the same libcurl through
/// dispatch sources that it re-arms all the time, and a request that waits for its answer costs
/// CPU all the while — measured here at about a quarter of a core per request in flight (32 ms
/// of CPU for a request answered after 150 ms, 137 ms for one answered after 600 ms). A worker
/// with 16 requests out to GitHub spent its machine waiting. This transport costs ~0.1 ms a
/// request, however long the answer takes. Connections are kept alive and reused (libcurl's
/// cache), answers are decompressed, proxies come from the usual environment variables
/// (`https_proxy`, `no_proxy`), and TLS certificates from the system's store, with any a
/// private CA adds (``Trust``, `GHILLIE_CA_BUNDLE`).
public final class Transport: Sendable {
    /// The process's transport: one thread, however many clients.
    public static let shared = Transport(trust: Result { () throws(TrustError) in try Trust.fromEnvironment() })

    private let loop: EventLoop
    /// The certificates peers are verified with; a failure fails every request with its text
    /// (the CLI reports it before any work: ``Trust/fromEnvironment(_:)``).
    private let trust: Result<Trust, TrustError>

    private init(trust: Result<Trust, TrustError>) {
        loop = EventLoop()
        self.trust = trust
    }

    /// Sends `request` and returns the answer, following up to `maximumRedirects` redirects
    /// (``redirected(_:to:status:)``). Cancelling the task cancels the exchange.
    public func send(_ request: Request, maximumRedirects: Int = 5) async throws -> Response {
        let bundle: Data?
        switch trust {
        case .success(let trust): bundle = trust.bundle
        case .failure(let error): throw TransportError(.failed, "\(error.message) (\(error.hint))")
        }
        var current = request
        var hops = 0
        while true {
            let response = try await loop.perform(current, caBundle: bundle)
            guard Self.redirects.contains(response.status), let location = response.header("Location"),
                let next = URL(string: location, relativeTo: current.url)?.absoluteURL
            else { return response }
            hops += 1
            guard hops <= maximumRedirects else {
                throw TransportError(.failed, "more than \(maximumRedirects) redirects from \(request.url.host ?? "the server")")
            }
            current = Self.redirected(current, to: next, status: response.status)
        }
    }

    static let redirects: Set<Int> = [301, 302, 303, 307, 308]

    /// Headers that carry credentials: they go only to the origin they were given for.
    static let credentials: Set<String> = ["authorization", "proxy-authorization", "cookie", "api-key"]

    /// The request a redirect asks for. Credentials stay with their origin (scheme, host and
    /// port): a redirect anywhere else goes without them, so a token never reaches a host it
    /// was not meant for. 303, and 301/302 after a POST, become a GET without a body (as every
    /// browser and libcurl do); 307 and 308 repeat the request as it was.
    public static func redirected(_ request: Request, to url: URL, status: Int) -> Request {
        var next = request
        next.url = url
        if origin(of: url) != origin(of: request.url) {
            for (name, _) in request.headers where credentials.contains(name.lowercased()) {
                next.setHeader(name, nil)
            }
        }
        if status == 303 || ((status == 301 || status == 302) && request.method == "POST") {
            next.method = "GET"
            next.body = nil
            next.setHeader("Content-Type", nil)
        }
        return next
    }

    /// Scheme, host and port (the scheme's default when none is given).
    static func origin(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : 0)
        return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
    }
}

/// One exchange: the request, libcurl's easy handle for it, and what has come back so far.
///
/// Unchecked `Sendable`: `continuation` and `cancelled` are read and written only under the
/// event loop's lock; the handle and the buffers only on the loop's thread (libcurl calls the
/// callbacks there, from `curl_multi_perform`).
private final class Transfer: @unchecked Sendable {
    let request: Request
    /// The PEM bundle peers are verified with, when not the system's store (``Trust``).
    let caBundle: Data?
    var continuation: CheckedContinuation<Response, any Error>?
    var cancelled = false
    var handle: UnsafeMutableRawPointer?
    var list: UnsafeMutablePointer<curl_slist>?
    var status = 0
    var headers: [(name: String, value: String)] = []
    var body = Data()
    let errors = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(_ request: Request, caBundle: Data?) {
        self.request = request
        self.caBundle = caBundle
        errors.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        if let list { curl_slist_free_all(list) }
        errors.deallocate()
    }

    /// A header line as libcurl hands it over: a status line starts a new answer (after a
    /// `100 Continue`, or a proxy's `CONNECT`); the blank line that ends the headers is skipped.
    func received(headerLine line: String) {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        headers.append(
            (
                String(text[..<colon]).trimmingCharacters(in: .whitespaces),
                String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            ))
    }

    /// The easy handle, set up for the request.
    func prepare() throws(TransportError) -> UnsafeMutableRawPointer {
        guard let handle = curl_easy_init() else { throw TransportError(.failed, "libcurl could not start a transfer") }
        self.handle = handle
        let me = Unmanaged.passUnretained(self).toOpaque()
        let milliseconds = Int(
            request.timeout.components.seconds * 1000 + request.timeout.components.attoseconds / 1_000_000_000_000_000)
        var failed = CURLE_OK
        func set(_ code: CURLcode) { if failed == CURLE_OK { failed = code } }
        set(ghillie_curl_set_pointer(handle, CURLOPT_URL, request.url.absoluteString))
        set(ghillie_curl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ghillie_curl_set_pointer(handle, CURLOPT_PRIVATE, me))
        set(ghillie_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errors))
        set(ghillie_curl_set_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ghillie_curl_set_long(handle, CURLOPT_TIMEOUT_MS, max(1, milliseconds)))
        set(ghillie_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(milliseconds, 30_000))))
        // Every encoding libcurl can decode is offered, and answers are decoded.
        set(ghillie_curl_set_pointer(handle, CURLOPT_ACCEPT_ENCODING, ""))
        set(ghillie_curl_set_callback(handle, CURLOPT_WRITEFUNCTION, receiveBody))
        set(ghillie_curl_set_pointer(handle, CURLOPT_WRITEDATA, me))
        set(ghillie_curl_set_callback(handle, CURLOPT_HEADERFUNCTION, receiveHeader))
        set(ghillie_curl_set_pointer(handle, CURLOPT_HEADERDATA, me))
        switch request.method {
        case "GET" where request.body == nil:
            set(ghillie_curl_set_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD":
            set(ghillie_curl_set_long(handle, CURLOPT_NOBODY, 1))
        default:
            if request.method != "POST" { set(ghillie_curl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, request.method)) }
            let body = request.body ?? Data()
            set(ghillie_curl_set_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // libcurl keeps a copy: the request's data need not outlive this call.
            if body.isEmpty {
                set(ghillie_curl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                set(body.withUnsafeBytes { ghillie_curl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) })
            }
        }
        // No `Expect: 100-continue` round trip before a body; a user agent unless one is given.
        var lines = ["Expect:"]
        if request.header("User-Agent") == nil { lines.append("User-Agent: ghillie-run/0.1") }
        lines += request.headers.map { "\($0.name): \($0.value)" }
        for line in lines {
            guard let appended = curl_slist_append(list, line) else {
                throw TransportError(.failed, "libcurl could not hold the request's headers")
            }
            list = appended
        }
        set(ghillie_curl_set_pointer(handle, CURLOPT_HTTPHEADER, list))
        if let caBundle {
            caBundle.withUnsafeBytes { set(ghillie_curl_set_blob(handle, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count)) }
        }
        guard failed == CURLE_OK else {
            throw TransportError(.failed, "libcurl refused an option: \(String(cString: curl_easy_strerror(failed)))")
        }
        return handle
    }

    /// The answer, or the failure, once libcurl is done with the transfer.
    func outcome(_ code: CURLcode) -> Result<Response, TransportError> {
        guard code == CURLE_OK, let handle else {
            let detail = errors.pointee == 0 ? String(cString: curl_easy_strerror(code)) : String(cString: errors)
            let host = request.url.host ?? "the server"
            switch code {
            case CURLE_OPERATION_TIMEDOUT:
                return .failure(TransportError(.timedOut, "\(host) did not answer in time (\(detail))"))
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
                CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
                return .failure(TransportError(.unreachable, "cannot reach \(host): \(detail)"))
            case CURLE_PEER_FAILED_VERIFICATION:
                return .failure(
                    TransportError(
                        .failed,
                        "\(host)'s certificate is not trusted: \(detail) (a private CA: set \(Trust.variable) to its "
                            + "PEM file)"))
            default:
                return .failure(TransportError(.failed, "the exchange with \(host) failed: \(detail)"))
            }
        }
        var code = 0
        _ = ghillie_curl_response_code(handle, &code)
        return .success(Response(status: code, headers: headers, body: body, url: request.url))
    }
}

/// libcurl's body callback: appends to the transfer's body.
private let receiveBody: ghillie_curl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue().body.append(
        UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
    return size * count
}

/// libcurl's header callback: one header line at a time.
private let receiveHeader: ghillie_curl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
    Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue().received(headerLine: line)
    return size * count
}

/// The thread that drives libcurl: it takes new and cancelled transfers from the lock, lets
/// libcurl work, hands finished transfers their answers, and sleeps in `curl_multi_poll` until
/// a socket is ready, a libcurl timer is due, or `curl_multi_wakeup` says there is news.
private final class EventLoop: Sendable {
    private struct Inbox {
        var submitted: [Transfer] = []
        var cancelled: [Transfer] = []
        var running = false
    }

    /// Unchecked: the multi handle is used by the loop's thread alone, but for
    /// `curl_multi_wakeup`, which libcurl allows from any thread.
    private struct Multi: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer
    }

    private let inbox = Mutex(Inbox())
    private let multi: Multi

    init() {
        ghillie_curl_global_init()
        guard let handle = curl_multi_init() else { fatalError("libcurl could not start (curl_multi_init)") }
        multi = Multi(handle: handle)
    }

    func perform(_ request: Request, caBundle: Data?) async throws -> Response {
        let transfer = Transfer(request, caBundle: caBundle)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                let start = inbox.withLock { inbox -> Bool? in
                    if transfer.cancelled { return nil }
                    transfer.continuation = continuation
                    inbox.submitted.append(transfer)
                    defer { inbox.running = true }
                    return !inbox.running
                }
                switch start {
                case nil: continuation.resume(throwing: CancellationError())
                case true?: startThread()
                case false?: curl_multi_wakeup(multi.handle)
                }
            }
        } onCancel: {
            inbox.withLock { inbox in
                transfer.cancelled = true
                inbox.cancelled.append(transfer)
            }
            curl_multi_wakeup(multi.handle)
        }
    }

    private func startThread() {
        let thread = Thread { [self] in run() }
        thread.name = "ghillie-http"
        thread.start()
    }

    /// The loop; it runs as long as the process (a thread parked in `poll` costs nothing).
    private func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (submitted, cancelled) = inbox.withLock { inbox in
                defer {
                    inbox.submitted.removeAll()
                    inbox.cancelled.removeAll()
                }
                return (inbox.submitted, inbox.cancelled)
            }
            for transfer in cancelled {
                if let handle = transfer.handle, active.removeValue(forKey: handle) != nil {
                    curl_multi_remove_handle(multi.handle, handle)
                }
                finish(transfer, .failure(CancellationError()))
            }
            for transfer in submitted where !cancelled.contains(where: { $0 === transfer }) {
                do {
                    let handle = try transfer.prepare()
                    active[handle] = transfer
                    curl_multi_add_handle(multi.handle, handle)
                } catch {
                    finish(transfer, .failure(error))
                }
            }
            var running: Int32 = 0
            curl_multi_perform(multi.handle, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi.handle, &left) {
                var code = CURLE_OK
                guard let handle = ghillie_curl_done(message, &code), let transfer = active.removeValue(forKey: handle)
                else { continue }
                curl_multi_remove_handle(multi.handle, handle)
                finish(transfer, transfer.outcome(code).mapError { $0 })
            }
            curl_multi_poll(multi.handle, nil, 0, 10_000, nil)
        }
    }

    /// Resumes the transfer's task once, whichever of the answer and a cancellation comes first.
    private func finish(_ transfer: Transfer, _ result: Result<Response, any Error>) {
        let continuation = inbox.withLock { _ in
            defer { transfer.continuation = nil }
            return transfer.continuation
        }
        continuation?.resume(with: result)
    }
}
