import Digest
import Foundation

/// A file being written under a temporary name, renamed into place only when complete.
///
/// Bytes go through one buffer into the file and the SHA-256 at once, so a file is read
/// from the store once and never re-read to be hashed. Until ``commit()`` the final name
/// is untouched: a crash leaves at most a `.NAME.PID.tmp` file, which the next export of
/// the same file removes.
final class OutputFile {
    let url: URL
    let temporary: URL
    private let descriptor: Int32
    private var hasher = SHA256()
    private var buffer: [UInt8] = []
    private(set) var bytes = 0
    private var finished = false

    static let bufferSize = 1 << 18

    init(_ url: URL) throws(ExportError) {
        self.url = url
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ExportError(
                "cannot create the export folder `\(folder.path)`: \(error.localizedDescription)",
                hint: "check that `export.path` names a writable place")
        }
        Self.removeLeftovers(of: url)
        temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ExportError(
                "cannot write `\(temporary.path)`: \(String(cString: strerror(errno)))",
                hint: "check that `export.path` names a writable place")
        }
        buffer.reserveCapacity(Self.bufferSize + 4096)
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporary.path)
        }
    }

    /// Temporary files of earlier, killed exports of the same file.
    static func removeLeftovers(of url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            unlink(folder.appendingPathComponent(name).path)
        }
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        buffer.append(byte)
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }

    /// Writes the buffer out once it is full; call between records.
    @inline(__always)
    func flushIfFull() throws(ExportError) {
        if buffer.count >= Self.bufferSize { try flush() }
    }

    func flush() throws(ExportError) {
        guard !buffer.isEmpty else { return }
        let failure: Int32? = buffer.withUnsafeBytes { raw -> Int32? in
            hasher.update(raw)
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure {
            throw ExportError(
                "cannot write `\(temporary.path)`: \(String(cString: strerror(failure)))",
                hint: "check the free space where `export.path` points")
        }
        bytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and syncs the temporary file and returns its SHA-256; the final name is untouched.
    func finish() throws(ExportError) -> String {
        try flush()
        guard fsync(descriptor) == 0 else {
            throw ExportError("cannot sync `\(temporary.path)`: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        finished = true
        var done = SHA256()
        swap(&done, &hasher)
        return done.hexDigest()
    }

    /// Renames the finished temporary file over the final name, then syncs the folder so the
    /// rename itself survives a power cut.
    func commit() throws(ExportError) {
        guard rename(temporary.path, url.path) == 0 else {
            throw ExportError("cannot rename `\(temporary.path)` to `\(url.path)`: \(String(cString: strerror(errno)))")
        }
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Removes the temporary file (after ``finish()`` when the export is refused).
    func discard() {
        if !finished { close(descriptor) }
        finished = true
        unlink(temporary.path)
    }
}

/// A problem writing an export, with what to do about it.
struct ExportError: Error {
    let message: String
    let hint: String?
    var code = "export_failed"

    init(_ message: String, hint: String? = nil, code: String = "export_failed") {
        self.message = message
        self.hint = hint
        self.code = code
    }
}
