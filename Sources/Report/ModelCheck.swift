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
            let models = try await client.models()
            let name = config.model ?? ""
            guard models.contains(name) else {
                let listed = models.prefix(5).map { "`\($0)`" }.joined(separator: ", ")
                return (
                    false,
                    "\(endpoint) answers, but does not list model `\(name)`"
                        + (models.isEmpty ? "" : " (it lists \(listed)\(models.count > 5 ? ", …" : ""))")
                )
            }
            return (true, "\(endpoint) answers and lists model `\(name)`; key from `\(variable)`")
        } catch {
            return (false, "\(endpoint): \(error.message)")
        }
    }
}
