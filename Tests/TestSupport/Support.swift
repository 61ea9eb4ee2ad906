public import Foundation
public import Testing

/// The source tree the tests run from: scripts, schemas, pipelines and fixtures are read from
/// here, never from beside it.
public enum SourceTree {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func url(_ path: String) -> URL { root.appendingPathComponent(path) }
}

/// A child process run to completion on a thread of its own (a test waiting on a Swift
/// concurrency thread would starve the fake servers other tests host in this process).
public enum ChildProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: Data
        public let stderr: String

        public var output: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `executable` (a path, or a name found on `PATH` through `/usr/bin/env`).
    public static func run(_ executable: String, _ arguments: [String], input: URL? = nil) async throws -> Result {
        try await Harness.offPool {
            let process = Process()
            if executable.hasPrefix("/") {
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
            } else {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = [executable] + arguments
            }
            if let input { process.standardInput = try FileHandle(forReadingFrom: input) }
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            // Both pipes drained at once, so a chatty child never blocks on a full one.
            let errors = Thread.Box()
            let reader = Thread { errors.set(err.fileHandleForReading.readDataToEndOfFile()) }
            reader.start()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus, stdout: data,
                stderr: String(decoding: errors.wait(), as: UTF8.self))
        }
    }

    /// One of the project's Python scripts (`scripts/NAME`).
    public static func script(_ name: String, _ arguments: [String], input: URL? = nil) async throws -> Result {
        try await run("python3", [SourceTree.url("scripts/" + name).path] + arguments, input: input)
    }
}

extension Thread {
    /// A value handed from one thread to another, waited for.
    final class Box: @unchecked Sendable {
        private let condition = NSCondition()
        private var value: Data?

        func set(_ data: Data) {
            condition.lock()
            value = data
            condition.signal()
            condition.unlock()
        }

        func wait() -> Data {
            condition.lock()
            defer { condition.unlock() }
            while value == nil { condition.wait() }
            return value ?? Data()
        }
    }
}

/// Golden files: compared byte for byte, re-recorded with `GHILLIE_RECORD_GOLDEN=1`.
public enum Golden {
    public static var recording: Bool { ProcessInfo.processInfo.environment["GHILLIE_RECORD_GOLDEN"] == "1" }

    /// Checks `data` against the golden copy at `file` (or records it), as a test expectation.
    public static func check(_ data: Data, against file: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if recording {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: file)
            return
        }
        let golden = try Data(contentsOf: file)
        #expect(
            data == golden, "differs from \(file.path.replacingOccurrences(of: SourceTree.root.path + "/", with: ""))",
            sourceLocation: sourceLocation)
    }
}

/// The PostgreSQL database tests run against: `scripts/test` starts a server and sets
/// `PG_TEST_CONNINFO`. Without it the PostgreSQL cases are skipped, visibly — except in CI
/// (`CI=true`), where they run and fail loudly rather than vanish.
public enum TestDatabase {
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["PG_TEST_CONNINFO"] }

    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether PostgreSQL cases run: a server is configured, or CI requires them.
    public static var postgresEnabled: Bool { postgresURL != nil || required }

    /// The URL to connect to; in CI without one, a recorded failure names what is missing.
    public static func requirePostgres(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        guard let url = postgresURL else {
            Issue.record(
                "PG_TEST_CONNINFO is not set: run the tests with `make test` (scripts/test starts PostgreSQL)",
                sourceLocation: sourceLocation)
            throw MissingPostgres()
        }
        return url
    }

    struct MissingPostgres: Error {}

    /// The engines a run of the binary is tested on: SQLite always, PostgreSQL when enabled.
    public enum Engine: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres

        public var testDescription: String { rawValue }

        /// `GHILLIE_STORE` for a run on this engine (nil: the manifest's SQLite file).
        public func store() throws -> String? {
            self == .postgres ? try TestDatabase.requirePostgres() : nil
        }
    }

    public static var engines: [Engine] { postgresEnabled ? [.sqlite, .postgres] : [.sqlite] }
}

/// Runs `body`, then `cleanup` — after a throw too — and waits for it: a fake server a test
/// started is stopped before the test ends, never by a task nobody awaits.
public func afterwards<T>(_ cleanup: () async -> Void, _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        await cleanup()
        return result
    } catch {
        await cleanup()
        throw error
    }
}
