import Foundation
import Manifest
import PostgresDriver
import SQLiteDriver
import Store

/// Turns a store spec into an open, migrated ``Database``. The only place drivers are chosen.
enum StoreOpener {
    /// `GHILLIE_STORE` wins over the manifest's `store:`, which wins over the default.
    static func spec(manifest: Manifest?, environment: [String: String]) throws -> StoreSpec {
        if let override = environment["GHILLIE_STORE"], !override.isEmpty {
            guard let spec = StoreSpec.parse(override) else {
                throw Failure(
                    .unavailable, "GHILLIE_STORE is not a store",
                    hint: "use `sqlite:PATH` or a `postgres://` URL")
            }
            return spec
        }
        return manifest?.store ?? .defaultSpec
    }

    /// Whether the store already exists (an SQLite file is only created by commands that write).
    static func exists(_ spec: StoreSpec) -> Bool {
        switch spec {
        case .sqlite(let path): return FileManager.default.fileExists(atPath: path)
        case .postgres: return true
        }
    }

    static func open(_ spec: StoreSpec) throws -> Database {
        do {
            let database: Database
            switch spec {
            case .sqlite(let path):
                database = Database(
                    connection: try SQLiteConnection(path: path), displayName: spec.description,
                    reader: { () throws(StoreError) in try SQLiteConnection(path: path) })
            case .postgres(let url):
                database = Database(
                    connection: try PostgresConnection(url: url), displayName: spec.description,
                    reader: { () throws(StoreError) in try PostgresConnection(url: url) })
            }
            try Migrator().migrate(database)
            return database
        } catch let error as StoreError {
            var failure = Failure.store(error)
            if error.code != .migration {
                failure = Failure(
                    .unavailable, "cannot open the store \(spec): \(error.message)",
                    hint: "check the `store:` setting or `GHILLIE_STORE`, and that it is reachable and writable")
            }
            throw failure
        }
    }
}
