public import Manifest

/// Whether a manifest's model endpoint is ready: key set, endpoint answering, model listed.
public enum ModelCheck {
    /// A one-line verdict; never holds the key.
    public static func check(_ config: ModelConfig, environment: [String: String]) async -> (ok: Bool, message: String) {
        guard config.backend == .openai else { return (true, "backend `heuristic` (offline; nothing to reach)") }
        let variable = config.apiKeyEnv ?? ModelConfig.defaultAPIKeyEnv
        let endpoint = config.endpoint ?? ModelConfig.defaultEndpoint
        guard let key = environment[variable], !key.isEmpty else {
            return (false, "the API key variable `\(variable)` is not set")
        }
        do {
            let client = try ModelClient(
                endpoint: endpoint, model: config.model ?? "", key: key, temperature: 0,
                maxTokens: 16, timeout: min(config.timeoutSeconds, 30))
            let name = config.model ?? ""
            // Listed: enough. Not listed (Azure deployments, some local servers list none, or
            // other names): a one-token completion says whether the model answers.
            var unlisted = "it does not list its models"
            do {
                let models = try await client.models()
                if models.contains(name) {
                    return (true, "\(endpoint) answers and lists model `\(name)`; key from `\(variable)`")
                }
                if !models.isEmpty {
                    let listed = models.prefix(5).map { "`\($0)`" }.joined(separator: ", ")
                    unlisted = "it lists \(listed)\(models.count > 5 ? ", …" : "") but not `\(name)`"
                }
            } catch {
                if error.code == "unauthorized" { throw error }
                unlisted = "its model list is not there (\(error.message))"
            }
            try await client.ping()
            return (
                true,
                "\(endpoint) answers a one-token completion from `\(name)` (\(unlisted)); key from `\(variable)`"
            )
        } catch let error as ModelError {
            return (false, "\(endpoint): \(error.message)")
        } catch {
            return (false, "\(endpoint): \(error)")
        }
    }
}
