#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a small text file (replacing it), without Foundation.
func writeTextFile(path: String, contents: String) throws(KafkaError) {
    // The FILE is ours, closed below.
    guard let file = fopen(path, "w") else {
        throw KafkaError(.configuration, "cannot write '\(path)': \(String(cString: strerror(errno)))")
    }
    let ok = fputs(contents, file) >= 0
    if fclose(file) != 0 || !ok {
        throw KafkaError(.configuration, "cannot write '\(path)': \(String(cString: strerror(errno)))")
    }
}
