/// `$formatInteger` / `$parseInteger` pictures (XPath F&O 3.1 §4.6.1), as jsonata-js's
/// `datetime.js` implements them; also used for date/time components.
enum IntegerFormat {
    enum Primary { case decimal, letters, roman, words, sequence }
    enum Case { case upper, lower, title }

    struct Spec {
        var primary: Primary = .decimal
        var letterCase: Case = .lower
        var ordinal = false
        var zeroCode: UInt32 = 0x30
        var mandatoryDigits = 0
        var optionalDigits = 0
        var regular = false
        var separators: [(position: Int, character: Character)] = []
        var token = ""
        /// Fixed digit count when parsing adjacent date/time components.
        var width: Int?
    }

    static let decimalGroups: [UInt32] = [
        0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
        0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    ]

    static func analyse(_ picture: String) throws -> Spec {
        var spec = Spec()
        var primary = picture
        if let semi = picture.lastIndex(of: ";") {
            primary = String(picture[..<semi])
            let modifier = picture[picture.index(after: semi)...]
            if modifier.first == "o" { spec.ordinal = true }
        }
        switch primary {
        case "A": spec.letterCase = .upper; spec.primary = .letters
        case "a": spec.primary = .letters
        case "I": spec.letterCase = .upper; spec.primary = .roman
        case "i": spec.primary = .roman
        case "W": spec.letterCase = .upper; spec.primary = .words
        case "Ww": spec.letterCase = .title; spec.primary = .words
        case "w": spec.primary = .words
        default:
            var zero: UInt32?
            var mandatory = 0, optional = 0, position = 0
            var separators: [(Int, Character)] = []
            for ch in primary.unicodeScalars.reversed() {
                var digit = false
                for g in decimalGroups where ch.value >= g && ch.value <= g + 9 {
                    digit = true
                    mandatory += 1
                    position += 1
                    if zero == nil { zero = g } else if zero != g { throw JSONataError(code: "D3131") }
                    break
                }
                if !digit {
                    if ch == "#" {
                        position += 1
                        optional += 1
                    } else {
                        separators.append((position, Character(ch)))
                    }
                }
            }
            if mandatory > 0 {
                spec.primary = .decimal
                spec.zeroCode = zero!
                spec.mandatoryDigits = mandatory
                spec.optionalDigits = optional
                let r = regularRepeat(separators)
                if r > 0 {
                    spec.regular = true
                    spec.separators = [(r, separators[0].1)]
                } else {
                    spec.separators = separators.map { (position: $0.0, character: $0.1) }
                }
            } else {
                spec.primary = .sequence
                spec.token = primary
            }
        }
        return spec
    }

    static func regularRepeat(_ seps: [(Int, Character)]) -> Int {
        guard let first = seps.first else { return 0 }
        for s in seps.dropFirst() where s.1 != first.1 { return 0 }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let positions = seps.map(\.0)
        let factor = positions.dropFirst().reduce(positions[0], gcd)
        guard factor > 0 else { return 0 }
        for i in 1...positions.count where !positions.contains(i * factor) { return 0 }
        return factor
    }

    /// `$formatInteger(value, picture)`.
    static func format(_ value: Double, _ picture: String) throws -> String {
        try format(value.rounded(.down), try analyse(picture))
    }

    static func format(_ v: Double, _ spec: Spec) throws -> String {
        var out: String
        let negative = v < 0
        let value = abs(v)
        switch spec.primary {
        case .letters:
            out = letters(Int(value), upper: spec.letterCase == .upper)
        case .roman:
            out = roman(Int(value))
            if spec.letterCase == .upper { out = out.uppercased() }
        case .words:
            out = words(value, ordinal: spec.ordinal)
            if spec.letterCase == .upper { out = out.uppercased() } else if spec.letterCase == .lower { out = out.lowercased() }
        case .decimal:
            var digits = Array(NumberText.js(value).unicodeScalars)
            if digits.count < spec.mandatoryDigits {
                digits = Array(repeating: "0", count: spec.mandatoryDigits - digits.count) + digits
            }
            if spec.zeroCode != 0x30 {
                digits = digits.map { d in
                    d.value >= 0x30 && d.value <= 0x39 ? Unicode.Scalar(d.value - 0x30 + spec.zeroCode)! : d
                }
            }
            var chars = digits.map { Character($0) }
            if spec.regular, let sep = spec.separators.first {
                let n = (chars.count - 1) / sep.position
                var i = n
                while i > 0 {
                    let pos = chars.count - i * sep.position
                    chars.insert(sep.character, at: pos)
                    i -= 1
                }
            } else {
                for sep in spec.separators.reversed() {
                    let pos = chars.count - sep.position
                    if pos >= 0 && pos <= chars.count { chars.insert(sep.character, at: pos) }
                }
            }
            out = String(chars)
            if spec.ordinal {
                let last = out.last
                var suffix = ["1": "st", "2": "nd", "3": "rd"][last.map { String($0) } ?? ""] ?? "th"
                if out.count > 1, out[out.index(out.endIndex, offsetBy: -2)] == "1" { suffix = "th" }
                out += suffix
            }
        case .sequence:
            throw JSONataError(code: "D3130", value: .string(spec.token))
        }
        return negative ? "-" + out : out
    }

    // MARK: - Words, roman numerals, letters

    static let few = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
                      "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
    static let ordinals = ["Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
                           "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth",
                           "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"]
    static let decades = ["Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"]
    static let magnitudes = ["Thousand", "Million", "Billion", "Trillion"]

    static func words(_ num: Double, ordinal: Bool) -> String { lookup(num, prev: false, ordinal: ordinal) }

    private static func lookup(_ num: Double, prev: Bool, ordinal: Bool) -> String {
        var words: String
        if num <= 19 {
            words = (prev ? " and " : "") + (ordinal ? ordinals[Int(num)] : few[Int(num)])
        } else if num < 100 {
            let tens = Int(num / 10)
            let remainder = num.truncatingRemainder(dividingBy: 10)
            words = (prev ? " and " : "") + decades[tens - 2]
            if remainder > 0 {
                words += "-" + lookup(remainder, prev: false, ordinal: ordinal)
            } else if ordinal {
                words = String(words.dropLast()) + "ieth"
            }
        } else if num < 1000 {
            let hundreds = Int(num / 100)
            let remainder = num.truncatingRemainder(dividingBy: 100)
            words = (prev ? ", " : "") + few[hundreds] + " Hundred"
            if remainder > 0 {
                words += lookup(remainder, prev: true, ordinal: ordinal)
            } else if ordinal {
                words += "th"
            }
        } else {
            var mag = Int((log10Safe(num) / 3).rounded(.down))
            if mag > magnitudes.count { mag = magnitudes.count }
            var factor = 1.0
            for _ in 0..<(mag * 3) { factor *= 10 }
            let mant = (num / factor).rounded(.down)
            let remainder = num - mant * factor
            words = (prev ? ", " : "") + lookup(mant, prev: false, ordinal: false) + " " + magnitudes[mag - 1]
            if remainder > 0 {
                words += lookup(remainder, prev: true, ordinal: ordinal)
            } else if ordinal {
                words += "th"
            }
        }
        return words
    }

    private static func log10Safe(_ x: Double) -> Double {
        var n = 0.0
        var v = x
        while v >= 10 { v /= 10; n += 1 }
        return n
    }

    static let wordValues: [String: Double] = {
        var d: [String: Double] = [:]
        for (i, w) in few.enumerated() { d[w.lowercased()] = Double(i) }
        for (i, w) in ordinals.enumerated() { d[w.lowercased()] = Double(i) }
        for (i, w) in decades.enumerated() {
            let l = w.lowercased()
            d[l] = Double((i + 2) * 10)
            d[String(l.dropLast()) + "ieth"] = Double((i + 2) * 10)
        }
        d["hundredth"] = 100
        d["hundreth"] = 100
        for (i, w) in magnitudes.enumerated() {
            var v = 1.0
            for _ in 0..<((i + 1) * 3) { v *= 10 }
            d[w.lowercased()] = v
            d[w.lowercased() + "th"] = v
        }
        return d
    }()

    static func wordsToNumber(_ text: String) -> Double? {
        // split on ", ", " and ", whitespace, backslash or '-'
        var parts: [String] = []
        var current = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == ",", i + 1 < chars.count, chars[i + 1].isWhitespace {
                parts.append(current); current = ""; i += 2; continue
            }
            if c.isWhitespace, i + 4 < chars.count, String(chars[(i + 1)...(i + 3)]) == "and", chars[i + 4].isWhitespace {
                parts.append(current); current = ""; i += 5; continue
            }
            if c.isWhitespace || c == "-" || c == "\\" {
                parts.append(current); current = ""; i += 1; continue
            }
            current.append(c)
            i += 1
        }
        parts.append(current)
        var segs: [Double] = [0]
        for p in parts {
            guard let value = wordValues[p] else { return nil }
            if value < 100 {
                var top = segs.removeLast()
                if top >= 1000 {
                    segs.append(top)
                    top = 0
                }
                segs.append(top + value)
            } else {
                segs.append(segs.removeLast() * value)
            }
        }
        return segs.reduce(0, +)
    }

    static let romanNumerals: [(Int, String)] = [
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
        (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ]

    static func roman(_ value: Int) -> String {
        var v = value
        var out = ""
        for (n, letters) in romanNumerals {
            while v >= n {
                out += letters
                v -= n
            }
        }
        return out
    }

    static func romanToDecimal(_ s: String) -> Double {
        let values: [Character: Int] = ["M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1]
        var decimal = 0
        var maxSeen = 1
        for c in s.uppercased().reversed() {
            let v = values[c] ?? 0
            if v < maxSeen {
                decimal -= v
            } else {
                maxSeen = v
                decimal += v
            }
        }
        return Double(decimal)
    }

    static func letters(_ value: Int, upper: Bool) -> String {
        var v = value
        var out: [Character] = []
        let a = upper ? 65 : 97
        while v > 0 {
            out.insert(Character(Unicode.Scalar(UInt8((v - 1) % 26 + a))), at: 0)
            v = (v - 1) / 26
        }
        return String(out)
    }

    static func lettersToDecimal(_ s: String, upper: Bool) -> Double {
        let a = upper ? 65 : 97
        var decimal = 0.0
        var mult = 1.0
        for c in s.unicodeScalars.reversed() {
            decimal += Double(Int(c.value) - a + 1) * mult
            mult *= 26
        }
        return decimal
    }

    // MARK: - Parsing

    /// The regular expression (JavaScript syntax) matching a formatted integer.
    static func regex(_ spec: Spec) throws -> String {
        let upper = spec.letterCase == .upper
        switch spec.primary {
        case .letters: return upper ? "[A-Z]+" : "[a-z]+"
        case .roman: return upper ? "[MDCLXVI]+" : "[mdclxvi]+"
        case .words:
            return "(?:" + (wordValues.keys.sorted { $0.count > $1.count } + ["and", "[\\-, ]"]).joined(separator: "|") + ")+"
        case .decimal:
            var r = "[0-9]"
            if let w = spec.width {
                r += "{\(w)}"
            } else {
                r += "+"
            }
            if spec.ordinal { r += "(?:th|st|nd|rd)" }
            return r
        case .sequence:
            throw JSONataError(code: "D3130", value: .string(spec.token))
        }
    }

    static func parseValue(_ value: String, _ spec: Spec) throws -> Double? {
        switch spec.primary {
        case .letters: return lettersToDecimal(value, upper: spec.letterCase == .upper)
        case .roman: return romanToDecimal(value)
        case .words: return wordsToNumber(value.lowercased())
        case .decimal:
            var digits = value
            if spec.ordinal { digits = String(digits.dropLast(2)) }
            if spec.regular {
                digits = digits.replacing(",", with: "")
            } else {
                for s in spec.separators { digits = digits.replacing(String(s.character), with: "") }
            }
            if spec.zeroCode != 0x30 {
                digits = String(String.UnicodeScalarView(digits.unicodeScalars.map { u in
                    u.value >= spec.zeroCode && u.value <= spec.zeroCode + 9 ? Unicode.Scalar(u.value - spec.zeroCode + 0x30)! : u
                }))
            }
            // parseInt: leading digits
            var n = 0.0
            var any = false
            var neg = false
            var chars = Substring(digits)
            if chars.first == "-" { neg = true; chars = chars.dropFirst() }
            for c in chars {
                guard let d = c.wholeNumberValue, c.isASCII else { break }
                n = n * 10 + Double(d)
                any = true
            }
            return any ? (neg ? -n : n) : nil
        case .sequence:
            throw JSONataError(code: "D3130", value: .string(spec.token))
        }
    }

    /// `$parseInteger(value, picture)`.
    static func parse(_ s: String, _ picture: String) throws -> Double? {
        let spec = try analyse(picture)
        return try parseValue(s, spec)
    }
}
