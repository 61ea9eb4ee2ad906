public import Foundation

/// One HTTP request: what ``Transport/send(_:maximumRedirects:)`` sends.
public struct Request: Sendable {
    public var method: String
    public var url: URL
    /// In the order given; names are matched without regard to case.
    public private(set) var headers: [(name: String, value: String)] = []
    public var body: Data?
    /// The whole exchange, connection included: past it the request fails with
    /// ``TransportError/Code/timedOut``.
    public var timeout: Duration

    public init(_ method: String = "GET", _ url: URL, body: Data? = nil, timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.body = body
        self.timeout = timeout
    }

    /// Sets a header, replacing any of the same name; nil removes it.
    public mutating func setHeader(_ name: String, _ value: String?) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        if let value { headers.append((name, value)) }
    }

    /// The value of a header, if set.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What a server answered.
public struct Response: Sendable {
    public let status: Int
    /// In the order received; names are matched without regard to case.
    public let headers: [(name: String, value: String)]
    public let body: Data
    /// Where the answer came from: the request's URL, or the last redirect's.
    public let url: URL

    public init(status: Int, headers: [(name: String, value: String)], body: Data, url: URL) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }

    /// The first value of a header, if the answer has it.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A request that got no answer: what went wrong, in libcurl's words (never a header's value).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        /// The request's timeout passed before the answer was complete.
        case timedOut
        /// No connection: the host does not resolve, or refuses or drops the connection.
        case unreachable
        /// Anything else: a TLS failure, a malformed answer, too many redirects.
        case failed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
