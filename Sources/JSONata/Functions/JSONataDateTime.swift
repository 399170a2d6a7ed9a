import StatesCore

/// `$fromMillis`, `$toMillis` and `$now`: XPath date/time pictures (F&O 3.1 §9.8) over UTC
/// civil time, as jsonata-js's `datetime.js` implements them.
enum DateTime {
    struct Marker {
        var component: Character
        var presentation1 = ""
        var presentation2: Character?
        var ordinal = false
        var names: IntegerFormat.Case?
        var width: (min: Int?, max: Int?)?
        var integer: IntegerFormat.Spec?
        var n = -1
    }

    enum Part {
        case literal(String)
        case marker(Marker)
    }

    static let defaultPresentation: [Character: String] = [
        "Y": "1", "M": "1", "D": "1", "d": "1", "F": "n", "W": "1", "w": "1", "X": "1", "x": "1", "H": "1",
        "h": "1", "P": "n", "m": "01", "s": "01", "f": "1", "Z": "01:01", "z": "01:01", "C": "n", "E": "n",
    ]
    static let days = ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    static func analyse(_ picture: String) throws -> [Part] {
        var parts: [Part] = []
        let chars = Array(picture)
        var start = 0, pos = 0
        func addLiteral(_ from: Int, _ to: Int) {
            if to > from {
                var lit = String(chars[from..<to])
                lit = lit.replacing("]]", with: "]")
                parts.append(.literal(lit))
            }
        }
        while pos < chars.count {
            if chars[pos] == "[" {
                if pos + 1 < chars.count, chars[pos + 1] == "[" {
                    addLiteral(start, pos)
                    parts.append(.literal("["))
                    pos += 2
                    start = pos
                    continue
                }
                addLiteral(start, pos)
                start = pos
                guard let close = chars[start...].firstIndex(of: "]") else { throw JSONataError(code: "D3135") }
                pos = close
                let marker = String(chars[(start + 1)..<pos].filter { !$0.isWhitespace })
                guard let component = marker.first else { throw JSONataError(code: "D3132", value: .string("")) }
                var def = Marker(component: component)
                var presMod: String
                if let comma = marker.lastIndex(of: ",") {
                    let widthMod = marker[marker.index(after: comma)...]
                    func width(_ s: Substring) -> Int? { s == "*" ? nil : Int(s) }
                    if let dash = widthMod.firstIndex(of: "-") {
                        def.width = (width(widthMod[..<dash]), width(widthMod[widthMod.index(after: dash)...]))
                    } else {
                        def.width = (width(widthMod), nil)
                    }
                    presMod = String(marker[marker.index(after: marker.startIndex)..<comma])
                } else {
                    presMod = String(marker.dropFirst())
                }
                if presMod.count == 1 {
                    def.presentation1 = presMod
                } else if presMod.count > 1 {
                    let last = presMod.last!
                    if "atco".contains(last) {
                        def.presentation2 = last
                        if last == "o" { def.ordinal = true }
                        def.presentation1 = String(presMod.dropLast())
                    } else {
                        def.presentation1 = presMod
                    }
                } else {
                    guard let p = defaultPresentation[component] else {
                        throw JSONataError(code: "D3132", value: .string(String(component)))
                    }
                    def.presentation1 = p
                }
                guard defaultPresentation[component] != nil else {
                    throw JSONataError(code: "D3132", value: .string(String(component)))
                }
                let p1 = Array(def.presentation1)
                if p1.first == "n" {
                    def.names = .lower
                } else if p1.first == "N" {
                    def.names = p1.count > 1 && p1[1] == "n" ? .title : .upper
                } else if "YMDdFWwXxHhmsf".contains(component) {
                    var pattern = def.presentation1
                    if let p2 = def.presentation2 { pattern += ";" + String(p2) }
                    var spec = try IntegerFormat.analyse(pattern)
                    spec.ordinal = def.ordinal
                    if let w = def.width, let min = w.min, spec.mandatoryDigits < min { spec.mandatoryDigits = min }
                    if component == "Y" {
                        def.n = -1
                        if let w = def.width, let max = w.max {
                            def.n = max
                            spec.mandatoryDigits = max
                        } else {
                            let w = spec.mandatoryDigits + spec.optionalDigits
                            if w >= 2 { def.n = w }
                        }
                    }
                    def.integer = spec
                }
                if component == "Z" || component == "z" {
                    var spec = try IntegerFormat.analyse(def.presentation1)
                    spec.ordinal = def.ordinal
                    def.integer = spec
                }
                parts.append(.marker(def))
                start = pos + 1
            }
            pos += 1
        }
        addLiteral(start, pos)
        return parts
    }

    // MARK: - Civil calendar (proleptic Gregorian, UTC)

    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int {
        Int(Timestamp.daysFromCivil(year: Int64(y), month: Int64(m), day: Int64(d)))
    }

    static func civilFromDays(_ z0: Int) -> (y: Int, m: Int, d: Int) {
        let c = Timestamp.civilFromDays(Int64(z0))
        return (Int(c.year), Int(c.month), Int(c.day))
    }

    struct Civil {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int
        var days: Int
        init(millis: Double) {
            let ms = Int(millis.rounded(.down))
            var dayCount = ms / 86_400_000
            var rem = ms % 86_400_000
            if rem < 0 { rem += 86_400_000; dayCount -= 1 }
            days = dayCount
            (year, month, day) = DateTime.civilFromDays(dayCount)
            hour = rem / 3_600_000
            minute = rem / 60_000 % 60
            second = rem / 1000 % 60
            millisecond = rem % 1000
        }
        /// ISO day of week, Monday = 1 ... Sunday = 7.
        var weekday: Int { ((days % 7 + 7) % 7 + 3) % 7 + 1 }
    }

    static func startOfFirstWeek(_ year: Int, _ month: Int) -> Int {
        let d = daysFromCivil(year, month, 1)
        let dow = ((d % 7 + 7) % 7 + 3) % 7 + 1
        return dow > 4 ? d + (8 - dow) : d - (dow - 1)
    }

    static func deltaWeeks(_ start: Int, _ end: Int) -> Int { Int((Double(end - start) / 7 + 1).rounded(.down)) }

    static func fragment(_ c: Civil, _ component: Character) -> Int {
        switch component {
        case "Y": return c.year
        case "M": return c.month
        case "D": return c.day
        case "d": return c.days - daysFromCivil(c.year, 1, 1) + 1
        case "F": return c.weekday
        case "W":
            let start = startOfFirstWeek(c.year, 1)
            var week = deltaWeeks(start, c.days)
            if week > 52 {
                if c.days >= startOfFirstWeek(c.year + 1, 1) { week = 1 }
            } else if week < 1 {
                week = deltaWeeks(startOfFirstWeek(c.year - 1, 1), c.days)
            }
            return week
        case "w":
            let start = startOfFirstWeek(c.year, c.month)
            var week = deltaWeeks(start, c.days)
            if week > 4 {
                let (ny, nm) = c.month == 12 ? (c.year + 1, 1) : (c.year, c.month + 1)
                if c.days >= startOfFirstWeek(ny, nm) { week = 1 }
            } else if week < 1 {
                let (py, pm) = c.month == 1 ? (c.year - 1, 12) : (c.year, c.month - 1)
                week = deltaWeeks(startOfFirstWeek(py, pm), c.days)
            }
            return week
        case "X":
            if c.days < startOfFirstWeek(c.year, 1) { return c.year - 1 }
            if c.days >= startOfFirstWeek(c.year + 1, 1) { return c.year + 1 }
            return c.year
        case "x":
            let (ny, nm) = c.month == 12 ? (c.year + 1, 1) : (c.year, c.month + 1)
            if c.days < startOfFirstWeek(c.year, c.month) { return c.month == 1 ? 12 : c.month - 1 }
            if c.days >= startOfFirstWeek(ny, nm) { return nm }
            return c.month
        case "H": return c.hour
        case "h":
            let h = c.hour % 12
            return h == 0 ? 12 : h
        case "m": return c.minute
        case "s": return c.second
        case "f": return c.millisecond
        case "P": return c.hour >= 12 ? 1 : 0
        default: return 0
        }
    }

    // MARK: - Formatting

    static let iso = try! analyse("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]")

    static func fromMillis(_ millis: Double, picture: String?, timezone: String?) throws -> String {
        var offsetHours = 0, offsetMinutes = 0
        if let timezone {
            let offset = parseIntPrefix(timezone) ?? 0
            offsetHours = Int((Double(offset) / 100).rounded(.down))
            offsetMinutes = offset % 100
        }
        let parts = try picture.map(analyse) ?? iso
        let c = Civil(millis: millis + Double((60 * offsetHours + offsetMinutes) * 60_000))
        var out = ""
        for p in parts {
            switch p {
            case .literal(let s): out += s
            case .marker(let m): out += try formatComponent(c, m, offsetHours, offsetMinutes)
            }
        }
        return out
    }

    static func parseIntPrefix(_ s: String) -> Int? {
        var chars = Substring(s.trimmingPrefix(while: { $0 == " " }))
        var sign = 1
        if chars.first == "-" { sign = -1; chars = chars.dropFirst() } else if chars.first == "+" { chars = chars.dropFirst() }
        var n = 0
        var any = false
        for ch in chars {
            guard ch.isASCII, let d = ch.wholeNumberValue else { break }
            n = n * 10 + d
            any = true
        }
        return any ? sign * n : nil
    }

    static func formatComponent(_ c: Civil, _ m: Marker, _ offsetHours: Int, _ offsetMinutes: Int) throws -> String {
        var value = fragment(c, m.component)
        if "YMDdFWwXxHhms".contains(m.component) {
            if m.component == "Y", m.n != -1 {
                var p = 1
                for _ in 0..<m.n { p *= 10 }
                value = value % p
            }
            if let names = m.names {
                var name: String
                if m.component == "M" || m.component == "x" {
                    name = months[value - 1]
                } else if m.component == "F" {
                    name = days[value]
                } else {
                    throw JSONataError(code: "D3133", value: .string(String(m.component)))
                }
                if names == .upper { name = name.uppercased() } else if names == .lower { name = name.lowercased() }
                if let w = m.width, let max = w.max, name.count > max { name = String(name.prefix(max)) }
                return name
            }
            return try IntegerFormat.format(Double(value), m.integer!)
        }
        switch m.component {
        case "f":
            return try IntegerFormat.format(Double(value), m.integer!)
        case "Z", "z":
            let offset = offsetHours * 100 + offsetMinutes
            let spec = m.integer!
            var s: String
            if spec.regular {
                s = try IntegerFormat.format(Double(offset), spec)
            } else {
                let n = spec.mandatoryDigits
                if n == 1 || n == 2 {
                    s = try IntegerFormat.format(Double(offsetHours), spec)
                    if offsetMinutes != 0 { s += ":" + (try IntegerFormat.format(Double(offsetMinutes), "00")) }
                } else if n == 3 || n == 4 {
                    s = try IntegerFormat.format(Double(offset), spec)
                } else {
                    throw JSONataError(code: "D3134", value: .number(Double(n)))
                }
            }
            if offset >= 0 { s = "+" + s }
            if m.component == "z" { s = "GMT" + s }
            if offset == 0 && m.presentation2 == "t" { s = "Z" }
            return s
        case "P":
            let s = c.hour >= 12 ? "pm" : "am"
            return m.names == .upper ? s.uppercased() : s
        case "C", "E":
            return "ISO"
        default:
            throw JSONataError(code: "D3132", value: .string(String(m.component)))
        }
    }

    // MARK: - Parsing

    /// `$toMillis(timestamp[, picture])`.
    static func toMillis(_ s: String, picture: String?, now: Double = 0) throws -> Double? {
        guard let picture else {
            guard let v = parseISO(s) else { throw JSONataError(code: "D3110", value: .string(s)) }
            return v
        }
        return try parse(s, picture, now: now)
    }

    /// ISO 8601 as jsonata accepts it: `YYYY(-MM)*(-DD)*(THH:mm:ss)*(.fff)?(±HH:?mm|Z)?`.
    static func parseISO(_ s: String) -> Double? {
        let u = Array(s.utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= u.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = u[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func lit(_ c: Character) -> Bool {
            if i < u.count, u[i] == c.asciiValue! { i += 1; return true }
            return false
        }
        guard let year = digits(4) else { return nil }
        var month = 1, day = 1, hour = 0, minute = 0, second = 0
        var ms = 0.0
        var offset = 0
        if lit("-") { guard let m = digits(2) else { return nil }; month = m
            if lit("-") { guard let d = digits(2) else { return nil }; day = d }
        }
        if lit("T") {
            guard let h = digits(2), lit(":"), let mi = digits(2), lit(":"), let se = digits(2) else { return nil }
            hour = h; minute = mi; second = se
            if lit(".") {
                var frac = 0.0, scale = 100.0
                var any = false
                while i < u.count, u[i] >= 48, u[i] <= 57 {
                    frac += Double(u[i] - 48) * scale
                    scale /= 10
                    i += 1
                    any = true
                }
                if !any { return nil }
                ms = frac.rounded(.down)
            }
        }
        if lit("Z") {
        } else if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return nil }
            _ = lit(":")
            guard let om = digits(2) else { return nil }
            offset = sign * (oh * 60 + om)
        }
        guard i == u.count, month >= 1, month <= 12, day >= 1, day <= 31, hour <= 24, minute < 60, second < 60 else { return nil }
        let days = daysFromCivil(year, month, day)
        return Double(days) * 86_400_000 + Double(hour * 3_600_000 + minute * 60_000 + second * 1000) + ms - Double(offset * 60_000)
    }

    private struct MatchPart {
        var regex: String
        var component: Character?
        var parse: ((String) throws -> Double?)?
    }

    static func parse(_ timestamp: String, _ picture: String, now: Double) throws -> Double? {
        let parts = try analyse(picture)
        var matchParts: [MatchPart] = []
        for (idx, p) in parts.enumerated() {
            switch p {
            case .literal(let s):
                var r = ""
                for ch in s {
                    if ".*+?^${}()|[]\\".contains(ch) { r += "\\" }
                    r.append(ch)
                }
                matchParts.append(MatchPart(regex: r))
            case .marker(let m):
                if m.component == "Z" || m.component == "z" {
                    let spec = m.integer!
                    let sep: Character? = spec.regular && spec.separators.count == 1 ? spec.separators[0].character : nil
                    var r = m.component == "z" ? "GMT" : ""
                    r += "[-+][0-9]+"
                    if let sep { r += "\\" + String(sep) + "[0-9]+" }
                    let isZ = m.component == "z"
                    matchParts.append(MatchPart(regex: r, component: m.component, parse: { v in
                        var value = v
                        if isZ { value = String(value.dropFirst(3)) }
                        var h = 0, mi = 0
                        if let sep, let at = value.firstIndex(of: sep) {
                            h = parseIntPrefix(String(value[..<at])) ?? 0
                            mi = parseIntPrefix(String(value[value.index(after: at)...])) ?? 0
                        } else if value.count - 1 <= 2 {
                            h = parseIntPrefix(value) ?? 0
                        } else {
                            h = parseIntPrefix(String(value.prefix(3))) ?? 0
                            mi = parseIntPrefix(String(value.dropFirst(3))) ?? 0
                        }
                        return Double(h * 60 + mi)
                    }))
                } else if var spec = m.integer {
                    // adjacent numeric markers need fixed widths to split the digits
                    let adjacent = (idx > 0 && { if case .marker = parts[idx - 1] { true } else { false } }())
                        || (idx + 1 < parts.count && { if case .marker = parts[idx + 1] { true } else { false } }())
                    if adjacent && spec.primary == .decimal {
                        spec.width = m.component == "Y" && m.n > 0 ? m.n : spec.mandatoryDigits
                    }
                    let s = spec
                    matchParts.append(MatchPart(regex: try IntegerFormat.regex(s), component: m.component, parse: { v in try IntegerFormat.parseValue(v, s) }))
                } else {
                    var lookup: [String: Double] = [:]
                    if m.component == "M" || m.component == "x" {
                        for (i, name) in months.enumerated() {
                            if let w = m.width, let max = w.max { lookup[String(name.prefix(max))] = Double(i + 1) } else { lookup[name] = Double(i + 1) }
                        }
                    } else if m.component == "F" {
                        for (i, name) in days.dropFirst().enumerated() {
                            if let w = m.width, let max = w.max { lookup[String(name.prefix(max))] = Double(i + 1) } else { lookup[name] = Double(i + 1) }
                        }
                    } else if m.component == "P" {
                        lookup = ["am": 0, "AM": 0, "pm": 1, "PM": 1]
                    } else {
                        throw JSONataError(code: "D3133", value: .string(String(m.component)))
                    }
                    let table = lookup
                    matchParts.append(MatchPart(regex: "[a-zA-Z]+", component: m.component, parse: { v in table[v] }))
                }
            }
        }
        let full = "^" + matchParts.map { "(" + $0.regex + ")" }.joined() + "$"
        let regex = try JSONataRegex(pattern: full, flags: "i")
        let units = Array(timestamp.utf16)
        guard let match = try regex.firstMatch(in: units, from: 0, evaluator: nil), match.start == 0 else { return nil }
        var components: [Character: Double] = [:]
        for (i, mp) in matchParts.enumerated() {
            guard let parse = mp.parse, let comp = mp.component, i < match.groups.count, let g = match.groups[i] else { continue }
            let text = String(decoding: units[g.lowerBound..<g.upperBound], as: UTF16.self)
            if let v = try parse(text) { components[comp] = v }
        }
        if components.isEmpty { return nil }
        var mask = 0
        func shift(_ parts: String) { mask = 0; for p in parts { mask <<= 1; if components[p] != nil { mask += 1 } } }
        func isType(_ t: Int) -> Bool { (~t & mask) == 0 && (t & mask) != 0 }
        shift("YXMxWwdD")
        let dateA = isType(161)
        let dateB = !dateA && isType(130)
        let dateC = isType(84)
        let dateD = !dateC && isType(72)
        shift("PHhmsf")
        let timeA = isType(23)
        let timeB = !timeA && isType(47)
        let dateComps = dateB ? "YD" : dateC ? "XxwF" : dateD ? "XWF" : "YMD"
        let timeComps = timeB ? "Phmsf" : "Hmsf"
        let nowCivil = Civil(millis: now)
        var startSpecified = false, endSpecified = false
        for part in dateComps + timeComps {
            if components[part] == nil {
                if startSpecified {
                    components[part] = "MDd".contains(part) ? 1 : 0
                    endSpecified = true
                } else {
                    components[part] = Double(fragment(nowCivil, part))
                }
            } else {
                startSpecified = true
                if endSpecified { throw JSONataError(code: "D3136") }
            }
        }
        if dateC || dateD { throw JSONataError(code: "D3136") }
        var month = Int(components["M"] ?? 0)
        month = month > 0 ? month - 1 : 0
        var day = Int(components["D"] ?? 1)
        let year = Int(components["Y"] ?? 1970)
        if dateB {
            let d = daysFromCivil(year, 1, 1) + Int(components["d"] ?? 1) - 1
            let civil = civilFromDays(d)
            month = civil.m - 1
            day = civil.d
        }
        if dateC || dateD { throw JSONataError(code: "D3136") }
        var hour = Int(components["H"] ?? 0)
        if timeB {
            let h = Int(components["h"] ?? 0)
            hour = h == 12 ? 0 : h
            if components["P"] == 1 { hour += 12 }
        }
        var y = year
        if y >= 0 && y < 100 { y += 1900 }
        var millis = Double(daysFromCivil(y, month + 1, 1) + day - 1) * 86_400_000
        millis += Double(hour) * 3_600_000 + (components["m"] ?? 0) * 60_000 + (components["s"] ?? 0) * 1000 + (components["f"] ?? 0)
        if let z = components["Z"] ?? components["z"], z != 0 { millis -= z * 60_000 }
        return millis
    }
}
