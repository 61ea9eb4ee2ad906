public import GitHubNodes

/// Who did something, as GitHub says: a login and whether it is a bot.
///
/// GitHub's two APIs name a bot differently: GraphQL returns a `Bot` actor's login without the
/// suffix its REST API and web pages show (`dependabot` there, `dependabot[bot]` here), and
/// only `__typename` (GraphQL) or `type` (REST) tells a bot from a user. Every actor is
/// classified here, from what GitHub says, and a bot gets one canonical login whichever API
/// named it: the REST form, `NAME[bot]` — the form people write in `ignore_authors` and see on
/// GitHub, and one no user account can have (`[` is not allowed in a login). A deleted account
/// (`author: null`) is `ghost`, as GitHub shows it.
public struct Actor: Sendable, Hashable {
    public let login: String
    public let isBot: Bool

    public init(login: String, isBot: Bool) {
        self.login = login
        self.isBot = isBot
    }

    /// A deleted account, as GitHub shows it.
    public static let ghost = Actor(login: "ghost", isBot: false)

    static let suffix = "[bot]"

    /// A GraphQL `Actor` (`__typename` and `login`); null is a deleted account.
    public init(_ actor: ActorNode?) {
        guard let actor else {
            self = .ghost
            return
        }
        if let typename = actor.typename {
            self =
                typename == "Bot"
                ? Actor(login: Self.canonical(bot: actor.login), isBot: true) : Actor(login: actor.login, isBot: false)
        } else {
            // Stored before actors carried their type: only the suffix can tell.
            self = Actor(login: actor.login, isBot: actor.login.lowercased().hasSuffix(Self.suffix))
        }
    }

    /// A REST `user` (`login` and `type`); null is a deleted account.
    public init(rest user: ReviewCommentNode.RESTUser?) {
        guard let user else {
            self = .ghost
            return
        }
        let bot = user.type == "Bot" || user.login.lowercased().hasSuffix(Self.suffix)
        self = Actor(login: bot ? Self.canonical(bot: user.login) : user.login, isBot: bot)
    }

    /// A commit's author: its linked GitHub user when there is one (GraphQL `GitActor.user`, a
    /// `User`); otherwise — a bot is never linked, nor is an email no account claims — the
    /// author's name and email say whether it is a bot (`NAME[bot]`, or
    /// `ID+NAME[bot]@users.noreply.github.com`), and only a bot gets a login.
    public init?(commitAuthor author: CommitAuthor?) {
        if let user = author?.user {
            self =
                user.typename == "Bot"
                ? Actor(login: Self.canonical(bot: user.login), isBot: true)
                : Actor(login: user.login, isBot: user.login.lowercased().hasSuffix(Self.suffix))
            return
        }
        let name = author?.name ?? ""
        let email = (author?.email ?? "").lowercased()
        if name.lowercased().hasSuffix(Self.suffix) {
            self = Actor(login: Self.canonical(bot: name), isBot: true)
        } else if email.hasSuffix("[bot]@users.noreply.github.com"), let local = email.split(separator: "@").first {
            // `49699333+dependabot[bot]`: the name after the account id.
            let bot = local.split(separator: "+").last.map(String.init) ?? String(local)
            self = Actor(login: Self.canonical(bot: bot), isBot: true)
        } else {
            return nil
        }
    }

    /// A bot's login in its one canonical form, `NAME[bot]`.
    static func canonical(bot login: String) -> String {
        login.lowercased().hasSuffix(suffix) ? login : login + suffix
    }

    /// The names noise `ignore_authors` may give this actor: its login, and a bot's login
    /// without the suffix too (GraphQL's form).
    var names: [String] {
        isBot ? [login, String(login.dropLast(Self.suffix.count))] : [login]
    }
}
