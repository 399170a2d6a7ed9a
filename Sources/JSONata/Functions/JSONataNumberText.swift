/// Number to text the way JavaScript writes numbers (`Number.prototype.toString`), and the
/// 15-significant-digit rounding JSONata applies before writing numbers in `$string`.
enum NumberText {
    /// The shortest round-trip decimal digits of `d` (no leading/trailing zeros) and the
    /// decimal exponent `e` such that the value is `0.d1d2d3... × 10^e`.
    static func digits(_ d: Double) -> (digits: [UInt8], exponent: Int) {
        // Swift's description is the shortest round-trip form: "123.45", "1e-07", "1.5e+20"
        let text = Array(abs(d).description.utf8)
        var mantissa: [UInt8] = []
        var pointAt: Int?
        var exp = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                exp = Int(String(decoding: text[(i + 1)...], as: UTF8.self).replacing("+", with: "")) ?? 0
                break
            }
            if c == UInt8(ascii: ".") {
                pointAt = mantissa.count
            } else {
                mantissa.append(c - 48)
            }
            i += 1
        }
        var intDigits = pointAt ?? mantissa.count
        // strip leading zeros
        while let f = mantissa.first, f == 0, mantissa.count > 1 {
            mantissa.removeFirst()
            intDigits -= 1
        }
        while let l = mantissa.last, l == 0, mantissa.count > 1 { mantissa.removeLast() }
        if mantissa == [0] { return ([0], 1) }
        return (mantissa, intDigits + exp)
    }

    /// JavaScript's `String(number)`.
    static func js(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return "0" }
        if let plain = plainDecimal(d) { return plain.text }
        let (ds, n) = digits(d)
        let k = ds.count
        var out = d < 0 ? "-" : ""
        let str = ds.map { String($0) }.joined()
        if k <= n && n <= 21 {
            out += str + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            let idx = str.index(str.startIndex, offsetBy: n)
            out += str[..<idx] + "." + str[idx...]
        } else if -6 < n && n <= 0 {
            out += "0." + String(repeating: "0", count: -n) + str
        } else {
            let e = n - 1
            let sign = e < 0 ? "-" : "+"
            if k == 1 {
                out += str + "e" + sign + String(abs(e))
            } else {
                out += String(str.first!) + "." + str.dropFirst() + "e" + sign + String(abs(e))
            }
        }
        return out
    }

    /// Swift's shortest round-trip text of `d` when it is written without an exponent
    /// (Swift does so for magnitudes from 1e-4 to 2^53, inside the range where JavaScript
    /// does too, with the same shortest digits), with a trailing ".0" removed: then it is
    /// JavaScript's text. `digitCount` counts every digit written, leading zeros included,
    /// so it is at least the number of significant digits.
    static func plainDecimal(_ d: Double) -> (text: String, digitCount: Int)? {
        var text = d.description
        var digitCount = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "n") || c == UInt8(ascii: "i") { return nil }
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { digitCount += 1 }
        }
        if text.utf8.count >= 2, text.hasSuffix(".0") {
            text.removeLast(2)
            digitCount -= 1
        }
        return (text, digitCount)
    }

    /// `Number(d.toPrecision(15))`.
    static func toPrecision15(_ d: Double) -> Double {
        if !d.isFinite || d == 0 { return d }
        let (ds, n) = digits(d)
        if ds.count <= 15 { return d }
        var kept = Array(ds[0..<15])
        var exp = n
        if ds[15] >= 5 {
            var i = 14
            while i >= 0 {
                if kept[i] == 9 {
                    kept[i] = 0
                    i -= 1
                } else {
                    kept[i] += 1
                    break
                }
            }
            if i < 0 {
                kept.insert(1, at: 0)
                kept.removeLast()
                exp += 1
            }
        }
        let text = (d < 0 ? "-" : "") + "0." + kept.map { String($0) }.joined() + "e\(exp)"
        return Double(text) ?? d
    }

    /// The JSON number grammar that `$number` accepts: `-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?`.
    static func isJSONataNumeral(_ s: String) -> Bool {
        let u = Array(s.utf8)
        var i = 0
        func digits() -> Bool {
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            return i > start
        }
        if i < u.count, u[i] == UInt8(ascii: "-") { i += 1 }
        guard digits() else { return false }
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() else { return false }
        }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() else { return false }
        }
        return i == u.count
    }
}
