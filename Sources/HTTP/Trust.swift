import CCurl
public import Foundation

/// Certificates trusted besides the system's — a private CA in front of GitHub Enterprise
/// Server or a model endpoint — from the PEM file that `GHILLIE_CA_BUNDLE` names.
///
/// libcurl reads no variable for this (`CURL_CA_BUNDLE` and `SSL_CERT_FILE` are the curl
/// tool's, and replace the system's store instead of adding to it), so the transport hands
/// libcurl the system's bundle and the extra certificates together, in memory
/// (`CURLOPT_CAINFO_BLOB`): api.github.com and a public model endpoint stay trusted.
public struct Trust: Sendable {
    /// The variable naming the extra certificates' PEM file.
    public static let variable = "GHILLIE_CA_BUNDLE"

    /// The PEM bytes libcurl verifies peers with: the system's bundle and the extra
    /// certificates; nil for the system's store as libcurl finds it.
    let bundle: Data?
    /// How many certificates the extra file holds.
    public let extraCertificates: Int

    /// The system's store alone.
    public static let system = Trust(bundle: nil, extraCertificates: 0)

    /// The system's bundle and the certificates of the PEM file at `path`.
    public static func adding(path: String) throws(TrustError) -> Trust {
        guard let extra = FileManager.default.contents(atPath: path) else {
            throw TrustError(
                "\(variable)=\(path): the file cannot be read",
                hint: "mount the CA's PEM file and point \(variable) at it, or unset \(variable)")
        }
        let count = String(decoding: extra, as: UTF8.self).components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1
        guard count > 0 else {
            throw TrustError(
                "\(variable)=\(path): the file holds no PEM certificate (no `-----BEGIN CERTIFICATE-----`)",
                hint: "give the CA's certificate in PEM form (`openssl x509 -in ca.der -inform der -out ca.pem`)")
        }
        guard let path = systemBundlePath(), let system = FileManager.default.contents(atPath: path) else {
            throw TrustError(
                "\(variable): the system's CA bundle was not found, so the extra certificates cannot be added to it",
                hint: "install the system's CA certificates (Debian: ca-certificates)")
        }
        var bundle = system
        if bundle.last != UInt8(ascii: "\n") { bundle.append(UInt8(ascii: "\n")) }
        bundle.append(extra)
        return Trust(bundle: bundle, extraCertificates: count)
    }

    /// The trust the environment asks for: the system's, or with `GHILLIE_CA_BUNDLE`'s file.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrustError)
        -> Trust
    {
        guard let path = environment[variable], !path.isEmpty else { return .system }
        return try adding(path: path)
    }

    /// Where libcurl looks for the system's bundle (its build's `cainfo`), else where the
    /// common distributions keep it.
    static func systemBundlePath() -> String? {
        let candidates =
            [ghillie_curl_default_cainfo().map { String(cString: $0) }].compactMap { $0 } + [
                "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
            ]
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }
}

/// A `GHILLIE_CA_BUNDLE` that cannot be used: what is wrong, and what to do.
public struct TrustError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let hint: String

    init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}
