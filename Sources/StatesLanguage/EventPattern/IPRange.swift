/// The addresses of a `cidr` pattern: `10.0.0.0/24`, `2001:db8::/32`.
///
/// AWS behaviour: the host bits of the pattern's address are ignored
/// (`220.160.154.255/24` is `220.160.154.0/24`). IPv4 patterns match IPv4 addresses and IPv6
/// patterns IPv6 addresses; an event value matches only when it is an address in text form.
struct IPRange: Hashable, Sendable {
    /// 4 or 16 bytes each.
    let low: [UInt8]
    let high: [UInt8]

    init(cidr text: String) throws(InvalidEventPatternError) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2 else {
            throw InvalidEventPatternError(reason: "Malformed CIDR, one '/' required")
        }
        guard !pieces[1].isEmpty, pieces[1].utf8.count <= 3, pieces[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let bits = Int(pieces[1])
        else {
            throw InvalidEventPatternError(reason: "Malformed CIDR, mask bits must be an integer")
        }
        guard let address = Self.parseAddress(pieces[0]) else {
            throw InvalidEventPatternError(reason: "Nonstandard IP address: \(pieces[0])")
        }
        guard bits <= address.count * 8 else {
            throw InvalidEventPatternError(reason: "Malformed CIDR, mask bits must be <= \(address.count * 8)")
        }
        var low = address
        var high = address
        for i in address.indices {
            let keep = max(0, min(8, bits - i * 8))
            let mask: UInt8 = keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            low[i] = address[i] & mask
            high[i] = address[i] | ~mask
        }
        self.low = low
        self.high = high
    }

    func contains(_ text: String) -> Bool {
        guard let address = Self.parseAddress(Substring(text)), address.count == low.count else { return false }
        return !address.lexicographicallyPrecedes(low) && !high.lexicographicallyPrecedes(address)
    }

    /// The bytes of an IPv4 (dotted quad) or IPv6 (RFC 4291 text form) address.
    static func parseAddress(_ text: Substring) -> [UInt8]? {
        if text.utf8.contains(UInt8(ascii: ":")) { return parseIPv6(text) }
        return parseIPv4(text)
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.utf8.count <= 3, p.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = Int(p), v <= 255
            else { return nil }
            out.append(UInt8(v))
        }
        return out
    }

    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        // Split at "::" (at most one).
        let bytes = Array(text.utf8)
        var halves: [String] = []
        var start = 0
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: ":") {
                halves.append(String(decoding: bytes[start..<i], as: UTF8.self))
                i += 2
                start = i
                continue
            }
            i += 1
        }
        halves.append(String(decoding: bytes[start...], as: UTF8.self))
        guard halves.count <= 2 else { return nil }
        sawGap = halves.count == 2
        func groups(_ s: String, allowIPv4: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if allowIPv4, i == items.count - 1, item.contains(".") {
                    guard let v4 = parseIPv4(item) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard !item.isEmpty, item.utf8.count <= 4, let v = UInt16(item, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        if sawGap {
            guard let h = groups(halves[0], allowIPv4: false), let t = groups(halves[1], allowIPv4: true) else { return nil }
            head = h
            tail = t
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard let h = groups(halves[0], allowIPv4: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for g in all {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xFF))
        }
        return out
    }
}
