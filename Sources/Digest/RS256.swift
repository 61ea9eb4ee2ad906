import CDigest
public import Foundation

/// RS256 signatures over the system libcrypto: what a GitHub App signs its JSON Web Tokens with.
public enum RS256 {
    /// Signs `data` with an RSA private key in PEM; nil when the key does not parse or is not RSA.
    public static func sign(_ data: Data, privateKeyPEM: String) -> Data? {
        var pem = privateKeyPEM
        return pem.withUTF8 { key -> Data? in
            var signature = [UInt8](repeating: 0, count: 1024)
            let length = data.withUnsafeBytes { bytes in
                signature.withUnsafeMutableBufferPointer { out in
                    key.withMemoryRebound(to: CChar.self) { text in
                        ghillie_rs256_sign(
                            text.baseAddress, Int32(text.count), bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count,
                            out.baseAddress, out.count)
                    }
                }
            }
            return length > 0 ? Data(signature.prefix(length)) : nil
        }
    }

    /// Whether `signature` is `data` signed by the RSA public key in PEM.
    public static func verify(_ signature: Data, of data: Data, publicKeyPEM: String) -> Bool {
        var pem = publicKeyPEM
        return pem.withUTF8 { key in
            data.withUnsafeBytes { bytes in
                signature.withUnsafeBytes { signed in
                    key.withMemoryRebound(to: CChar.self) { text in
                        ghillie_rs256_verify(
                            text.baseAddress, Int32(text.count), bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count,
                            signed.bindMemory(to: UInt8.self).baseAddress, signed.count) == 1
                    }
                }
            }
        }
    }

    /// A fresh 2048-bit key pair as PEM (private, public), for tests and the fake GitHub.
    public static func generateKeyPair() -> (privateKey: String, publicKey: String)? {
        var privatePEM: UnsafeMutablePointer<CChar>?
        var publicPEM: UnsafeMutablePointer<CChar>?
        defer {
            free(privatePEM)
            free(publicPEM)
        }
        guard ghillie_rsa_generate(2048, &privatePEM, &publicPEM) == 0, let privatePEM, let publicPEM else { return nil }
        return (String(cString: privatePEM), String(cString: publicPEM))
    }
}
