/// Who counts as responding to a pull request or an issue: the one rule review flow uses
/// (docs/metrics.md, "Review flow").
///
/// A person who is not the item's author, not a bot and not listed in
/// `noise.ignore_responders` (an AI reviewer that runs as a user, say). Logins are canonical
/// (``Actor``: a bot's `NAME[bot]`, a deleted account's `ghost`) and compared without case, as
/// GitHub does; a deleted author and a deleted responder are both `ghost` and cannot be told
/// apart, so such activity never counts.
public struct Responders: Sendable, Hashable {
    /// Lowercased logins whose activity never counts as a response.
    public let ignored: Set<String>

    public init(ignoring logins: [String] = []) {
        ignored = Set(logins.map { $0.lowercased() })
    }

    /// Whether activity by `login` counts as a response to an item `author` opened.
    public func counts(_ login: String, isBot: Bool, author: String) -> Bool {
        let responder = login.lowercased()
        return !isBot && responder != author.lowercased() && !ignored.contains(responder)
    }
}
