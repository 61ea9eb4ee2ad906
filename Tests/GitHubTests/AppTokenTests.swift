import Digest
import Foundation
import JSON
import Testing

@testable import GitHub

/// The App's JSON Web Token as GitHub documents it: RS256 over `header.claims`, base64url
/// without padding, `iss` the App id, `iat` a minute back, `exp` ten minutes after `iat`.
struct AppTokenTests {
    @Test func theWebTokenIsSignedRS256WithGitHubsClaims() throws {
        let keys = try #require(RS256.generateKeyPair())
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let token = try #require(AppInstallation.webToken(appID: "424242", privateKey: keys.privateKey, now: now))
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        func decode(_ text: String) throws -> Data {
            var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while padded.count % 4 != 0 { padded += "=" }
            return try #require(Data(base64Encoded: padded))
        }
        let header = try JSONValue(parsing: try decode(parts[0]))
        #expect(header["alg"]?.string == "RS256" && header["typ"]?.string == "JWT")
        let claims = try JSONValue(parsing: try decode(parts[1]))
        #expect(claims["iss"]?.string == "424242")
        #expect(claims["iat"]?.int == Int64(1_790_000_000 - 60))
        #expect(claims["exp"]?.int == Int64(1_790_000_000 - 60 + 600))
        #expect(RS256.verify(try decode(parts[2]), of: Data("\(parts[0]).\(parts[1])".utf8), publicKeyPEM: keys.publicKey))
        // Another key's signature does not verify.
        let other = try #require(RS256.generateKeyPair())
        #expect(!RS256.verify(try decode(parts[2]), of: Data("\(parts[0]).\(parts[1])".utf8), publicKeyPEM: other.publicKey))
    }

    @Test func aKeyThatIsNotRSAInPEMSignsNothing() {
        #expect(AppInstallation.webToken(appID: "1", privateKey: "not a key") == nil)
    }
}
