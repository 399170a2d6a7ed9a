import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's data directory and its files: readable by the daemon's user only.
public enum DataDirectory {
    /// Makes the daemon's files private: from here on every file and directory the process
    /// creates (the data directory, the SQLite database and its `-wal`/`-shm`, the lock,
    /// `triggers.json`, `bootstrap.servers`) is 0700/0600, whatever the umask it was started
    /// with. Then creates the data directory. An existing directory that others can read is
    /// left as it is (its owner may mean it) and reported.
    ///
    /// - Important: it sets the process's umask, for every thread and every later file.
    /// - Throws: what creating the directory throws.
    public static func makePrivate(_ directory: String, logger: Logger) throws {
        umask(0o077)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue {
            if let mode = (try? FileManager.default.attributesOfItem(atPath: directory))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                logger.warning("the data directory is open to other users; chmod 700 it", metadata: [
                    "directory": "\(directory)", "mode": "\(String(mode, radix: 8))",
                ])
            }
            return
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    /// Replaces `path` with `text` in one step (a temporary file renamed over it), mode 0600
    /// whatever the umask. Best effort: a file that cannot be written is left as it was.
    public static func writePrivate(_ text: String, to path: String) {
        let fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(path + ".tmp", path)
    }
}

/// The process's open-file limit (`ulimit -n`): every connection is a file.
public enum OpenFileLimit {
    /// Raises the soft open-file limit to the hard limit where it is lower.
    ///
    /// - Returns: the limit in force after that (`Int.max` for no limit), or nil when the
    ///   system does not tell it.
    public static func raise() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is all ones: clamped, it reads as no limit.
        return Int(clamping: limit.rlim_cur)
    }
}
