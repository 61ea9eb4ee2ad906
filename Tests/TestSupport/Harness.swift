public import Foundation

/// Runs the built binaries as a user would: in a temporary folder, with a clean environment.
public struct Harness: Sendable {
    public let folder: URL

    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public init() throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ghillie-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// The folder holding the built executables (next to the test bundle).
    public static let binaries: URL = {
        if let dir = ProcessInfo.processInfo.environment["GHILLIE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("ghillie-run").path) {
                return url
            }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug")
    }()

    public static var product: String { binaries.appendingPathComponent("ghillie-run").path }
    public static var withTestStages: String { binaries.appendingPathComponent("ghillie-run-teststages").path }

    /// Writes `catalogue.yaml`: one project, `core` ("Core"), whose components are repositories
    /// of `acme`, each `(key, name, type, repository name)`.
    public func writeCoreCatalogue(_ components: [(key: String, name: String, type: String, repository: String)]) throws {
        let lines = components.map {
            "      - {key: \($0.key), name: \($0.name), type: \($0.type), repository: {owner: acme, name: \($0.repository)}}"
        }
        try write(
            "catalogue.yaml",
            "version: 1\nprojects:\n  - key: core\n    name: Core\n    components:\n" + lines.joined(separator: "\n") + "\n")
    }

    public func write(_ name: String, _ text: String) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    public func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    public func process(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var env = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "NO_COLOR": "1",
            "HOME": folder.path, "GHILLIE_TEST_LOG": path("units.log"),
        ]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        return process
    }

    /// Runs to completion and captures both streams.
    @discardableResult
    @available(*, noasync, message: "use the async run: a blocked Swift concurrency thread starves the fake servers")
    public func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try run(Harness.withTestStages, arguments, environment: environment)
    }

    @discardableResult
    @available(*, noasync, message: "use the async run: a blocked Swift concurrency thread starves the fake servers")
    public func run(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = process(binary, arguments, environment: environment)
        let id = UUID().uuidString
        let outURL = folder.appendingPathComponent(".out-\(id)"), errURL = folder.appendingPathComponent(".err-\(id)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs the test-stage binary without blocking a Swift concurrency thread.
    @discardableResult
    public func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await run(Harness.withTestStages, arguments, environment: environment)
    }

    /// Runs the binary without blocking a Swift concurrency thread: tests that serve a fake
    /// GitHub from this process need those threads free to answer the binary's requests.
    public func run(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let harness = self
        return try await Harness.offPool { try harness.run(binary, arguments, environment: environment) }
    }

    /// Runs blocking work (waiting for a process, polling a folder) on a thread of its own, so
    /// that the fake servers this test process hosts keep their Swift concurrency threads (on
    /// Linux those come from Dispatch's worker pool too, so a Dispatch queue would not do).
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
        }
    }

    /// Waits until `condition` holds, polling without blocking a thread; false on timeout.
    public func waitUntil(timeout: TimeInterval = 20, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Lines of the unit start log (`start <unit> run=<id>`).
    public func starts() -> [String] {
        let text = (try? String(contentsOfFile: path("units.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    public func clearStarts() { try? FileManager.default.removeItem(atPath: path("units.log")) }

    /// Waits until `condition` holds, polling; false on timeout.
    @available(*, noasync, message: "use the async waitUntil")
    public func waitUntil(timeout: TimeInterval = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }

    public static let manifest = """
        version: 1
        name: e2e
        estate:
          key: acme
          repositories:
            - slug: acme/a
            - slug: acme/b
            - slug: acme/c
        window:
          start: "2026-11-01T00:00:00Z"
          end: "2026-11-15T00:00:00Z"
        export:
          formats: [csv]
          datasets: [commits, metrics]
        report:
          scopes: [repository, estate]
        """
}
