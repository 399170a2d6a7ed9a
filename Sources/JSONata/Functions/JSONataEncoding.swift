/// `encodeURI`/`encodeURIComponent`/`decodeURI`/`decodeURIComponent`.
enum URLCoding {
    static let componentUnreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()".utf8)
    static let uriReserved = Set(";/?:@&=+$,#".utf8)
    static let uriUnreserved = componentUnreserved.union(uriReserved)

    static func encode(_ s: String, keep: Set<UInt8>, name: String) throws -> String {
        // a lone surrogate cannot be encoded (URIError in JavaScript)
        let units = Array(s.utf16)
        var k = 0
        while k < units.count {
            let u = units[k]
            if UTF16.isLeadSurrogate(u) {
                if k + 1 < units.count, UTF16.isTrailSurrogate(units[k + 1]) { k += 2; continue }
                throw JSONataError(code: "D3140", token: name, value: .string(s))
            }
            if UTF16.isTrailSurrogate(u) { throw JSONataError(code: "D3140", token: name, value: .string(s)) }
            k += 1
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        for b in s.utf8 {
            if keep.contains(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ s: String, reserved: Set<UInt8>, name: String) throws -> String {
        let bytes = Array(s.utf8)
        var out = [UInt8]()
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) else {
                    throw JSONataError(code: "D3140", token: name, value: .string(s))
                }
                let b = h << 4 | l
                if b < 0x80 && reserved.contains(b) {
                    out.append(contentsOf: bytes[i..<(i + 3)])
                } else {
                    out.append(b)
                }
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        // malformed UTF-8 is a URIError in JavaScript
        var decoder = UTF8()
        var it = out.makeIterator()
        var result = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let u): result.append(u)
            case .emptyInput: break loop
            case .error: throw JSONataError(code: "D3140", token: name, value: .string(s))
            }
        }
        return String(result)
    }
}
