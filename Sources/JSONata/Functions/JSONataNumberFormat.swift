/// `$formatNumber(value, picture[, options])`: the XPath F&O 3.1 `format-number` picture
/// language (§4.7), following jsonata-js's implementation step by step.
enum NumberFormat {
    private struct Parts {
        var prefix: [Character], suffix: [Character], active: [Character], mantissa: [Character]
        var exponent: [Character]?, integer: [Character], fraction: [Character], subpicture: [Character]
    }

    private struct Analysis {
        var integerGroupingPositions: [Int]
        var regularGrouping: Int
        var minimumIntegerPartSize: Int
        var scalingFactor: Int
        var prefix: [Character]
        var fractionalGroupingPositions: [Int]
        var minimumFractionalPartSize: Int
        var maximumFractionalPartSize: Int
        var minimumExponentSize: Int
        var suffix: [Character]
        var picture: [Character]
    }

    static func formatNumber(_ value: Double, _ picture: String, _ options: JObject?) throws -> String {
        var props: [String: Character] = [
            "decimal-separator": ".", "grouping-separator": ",", "exponent-separator": "e", "minus-sign": "-",
            "percent": "%", "per-mille": "\u{2030}", "zero-digit": "0", "digit": "#", "pattern-separator": ";",
        ]
        var strings: [String: String] = ["infinity": "Infinity", "NaN": "NaN"]
        if let options {
            for i in 0..<options.count {
                if case .string(let s) = options.values[i] {
                    if props[options.keys[i]] != nil, let c = s.first { props[options.keys[i]] = c } else { strings[options.keys[i]] = s }
                }
            }
        }
        let decimalSep = props["decimal-separator"]!, groupSep = props["grouping-separator"]!
        let expSep = props["exponent-separator"]!, minus = props["minus-sign"]!
        let percent = props["percent"]!, perMille = props["per-mille"]!
        let zero = props["zero-digit"]!, digit = props["digit"]!, patternSep = props["pattern-separator"]!
        let zeroCode = zero.unicodeScalars.first!.value
        let family: [Character] = (0..<10).map { Character(Unicode.Scalar(zeroCode + UInt32($0))!) }
        let active: Set<Character> = Set(family + [decimalSep, expSep, groupSep, digit, patternSep])
        func isDigit(_ c: Character) -> Bool { family.contains(c) }

        let subPictures = Array(picture).split(separator: patternSep, omittingEmptySubsequences: false).map(Array.init)
        if subPictures.count > 2 { throw JSONataError(code: "D3080") }

        func split(_ sp: [Character]) -> Parts {
            var prefixEnd = sp.count
            for (i, c) in sp.enumerated() where active.contains(c) && c != expSep { prefixEnd = i; break }
            var suffixStart = prefixEnd
            for i in stride(from: sp.count - 1, through: 0, by: -1) where active.contains(sp[i]) && sp[i] != expSep {
                suffixStart = i + 1
                break
            }
            let prefix = Array(sp[0..<prefixEnd])
            let suffix = Array(sp[max(prefixEnd, suffixStart)...])
            let activePart = Array(sp[prefixEnd..<max(prefixEnd, suffixStart)])
            var mantissa = activePart
            var exponent: [Character]?
            if let e = sp[prefixEnd...].firstIndex(of: expSep), e <= sp.count - suffix.count {
                let rel = e - prefixEnd
                if rel <= activePart.count {
                    mantissa = Array(activePart[0..<rel])
                    exponent = rel + 1 <= activePart.count ? Array(activePart[(rel + 1)...]) : []
                }
            }
            var integer = mantissa, fraction = suffix
            if let d = mantissa.firstIndex(of: decimalSep) {
                integer = Array(mantissa[0..<d])
                fraction = Array(mantissa[(d + 1)...])
            }
            return Parts(prefix: prefix, suffix: suffix, active: activePart, mantissa: mantissa, exponent: exponent, integer: integer, fraction: fraction, subpicture: sp)
        }

        func validate(_ p: Parts) throws {
            var error: String?
            let sp = p.subpicture
            func count(_ c: Character) -> Int { sp.filter { $0 == c }.count }
            if count(decimalSep) > 1 { error = "D3081" }
            if count(percent) > 1 { error = "D3082" }
            if count(perMille) > 1 { error = "D3083" }
            if count(percent) > 0 && count(perMille) > 0 { error = "D3084" }
            if !p.mantissa.contains(where: { isDigit($0) || $0 == digit }) { error = "D3085" }
            if p.active.contains(where: { !active.contains($0) }) { error = "D3086" }
            if let d = sp.firstIndex(of: decimalSep) {
                if (d > 0 && sp[d - 1] == groupSep) || (d + 1 < sp.count && sp[d + 1] == groupSep) { error = "D3087" }
            } else if p.integer.last == groupSep {
                error = "D3088"
            }
            for i in 0..<max(0, sp.count - 1) where sp[i] == groupSep && sp[i + 1] == groupSep { error = "D3089" }
            if let o = p.integer.firstIndex(of: digit), p.integer[0..<o].contains(where: isDigit) { error = "D3090" }
            if let o = p.fraction.lastIndex(of: digit), p.fraction[o...].contains(where: isDigit) { error = "D3091" }
            if let e = p.exponent {
                if !e.isEmpty && (count(percent) > 0 || count(perMille) > 0) { error = "D3092" }
                if e.isEmpty || e.contains(where: { !isDigit($0) }) { error = "D3093" }
            }
            if let error { throw JSONataError(code: error) }
        }

        func analyse(_ p: Parts) -> Analysis {
            func groupingPositions(_ part: [Character], toLeft: Bool) -> [Int] {
                var positions: [Int] = []
                var idx = part.firstIndex(of: groupSep)
                while let g = idx {
                    let slice = toLeft ? Array(part[0..<g]) : Array(part[g...])
                    positions.append(slice.filter { isDigit($0) || $0 == digit }.count)
                    idx = g + 1 < p.integer.count ? p.integer[(g + 1)...].firstIndex(of: groupSep) : nil
                    if idx != nil && idx! >= part.count { idx = nil }
                }
                return positions
            }
            let intPositions = groupingPositions(p.integer, toLeft: false)
            func regular(_ idx: [Int]) -> Int {
                guard !idx.isEmpty else { return 0 }
                func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
                let factor = idx.dropFirst().reduce(idx[0], gcd)
                guard factor > 0 else { return 0 }
                for i in 1...idx.count where !idx.contains(i * factor) { return 0 }
                return factor
            }
            var minInt = p.integer.filter(isDigit).count
            let scaling = minInt
            var minFrac = p.fraction.filter(isDigit).count
            var maxFrac = p.fraction.filter { isDigit($0) || $0 == digit }.count
            let expPresent = p.exponent != nil
            if minInt == 0 && maxFrac == 0 {
                if expPresent {
                    minFrac = 1
                    maxFrac = 1
                } else {
                    minInt = 1
                }
            }
            if expPresent && minInt == 0 && p.integer.contains(digit) { minInt = 1 }
            if minInt == 0 && minFrac == 0 { minFrac = 1 }
            let minExp = p.exponent?.filter(isDigit).count ?? 0
            return Analysis(integerGroupingPositions: intPositions, regularGrouping: regular(intPositions), minimumIntegerPartSize: minInt,
                            scalingFactor: scaling, prefix: p.prefix, fractionalGroupingPositions: groupingPositions(p.fraction, toLeft: true),
                            minimumFractionalPartSize: minFrac, maximumFractionalPartSize: maxFrac, minimumExponentSize: minExp,
                            suffix: p.suffix, picture: p.subpicture)
        }

        let parts = subPictures.map(split)
        for p in parts { try validate(p) }
        var variables = parts.map(analyse)
        if variables.count == 1 {
            var neg = variables[0]
            neg.prefix = [minus] + neg.prefix
            variables.append(neg)
        }
        let pic = value >= 0 ? variables[0] : variables[1]
        var adjusted = value
        if pic.picture.contains(percent) { adjusted = value * 100 } else if pic.picture.contains(perMille) { adjusted = value * 1000 }
        var mantissa = adjusted
        var exponent: Int?
        if pic.minimumExponentSize != 0 {
            var maxM = 1.0, minM = 1.0
            for _ in 0..<pic.scalingFactor { maxM *= 10 }
            minM = maxM / 10
            exponent = 0
            while mantissa < minM && mantissa != 0 { mantissa *= 10; exponent! -= 1 }
            while mantissa > maxM { mantissa /= 10; exponent! += 1 }
        }
        let rounded = Builtins.roundHalfEven(mantissa, Double(pic.maximumFractionalPartSize))
        func makeString(_ v: Double, _ dp: Int) -> [Character] {
            var s = Array(toFixed(abs(v), dp))
            if zero != "0" {
                s = s.map { c in
                    if let d = c.wholeNumberValue, c.isASCII { return family[d] }
                    return c
                }
            }
            return s
        }
        var sv = makeString(rounded, pic.maximumFractionalPartSize)
        if let d = sv.firstIndex(of: ".") { sv[d] = decimalSep } else { sv.append(decimalSep) }
        while sv.first == zero { sv.removeFirst() }
        while sv.last == zero { sv.removeLast() }
        var decimalPos = sv.firstIndex(of: decimalSep) ?? sv.count
        let padLeft = pic.minimumIntegerPartSize - decimalPos
        let padRight = pic.minimumFractionalPartSize - (sv.count - decimalPos - 1)
        if padLeft > 0 { sv = Array(repeating: zero, count: padLeft) + sv }
        if padRight > 0 { sv += Array(repeating: zero, count: padRight) }
        decimalPos = sv.firstIndex(of: decimalSep) ?? sv.count
        if pic.regularGrouping > 0 {
            let groupCount = (decimalPos - 1) / pic.regularGrouping
            if groupCount >= 1 {
                for group in 1...groupCount {
                    let at = decimalPos - group * pic.regularGrouping
                    if at > 0 { sv.insert(groupSep, at: at) }
                }
            }
        } else {
            for pos in pic.integerGroupingPositions {
                let at = decimalPos - pos
                if at >= 0 && at <= sv.count {
                    sv.insert(groupSep, at: at)
                    decimalPos += 1
                }
            }
        }
        decimalPos = sv.firstIndex(of: decimalSep) ?? sv.count
        for pos in pic.fractionalGroupingPositions {
            let at = pos + decimalPos + 1
            if at <= sv.count { sv.insert(groupSep, at: at) }
        }
        decimalPos = sv.firstIndex(of: decimalSep) ?? sv.count
        if pic.maximumFractionalPartSize == 0 || decimalPos == sv.count - 1 {
            if decimalPos < sv.count { sv.remove(at: decimalPos) }
        }
        if let exponent {
            var e = makeString(Double(exponent), 0)
            let pad = pic.minimumExponentSize - e.count
            if pad > 0 { e = Array(repeating: zero, count: pad) + e }
            sv += [expSep] + (exponent < 0 ? [minus] : []) + e
        }
        return String(pic.prefix + sv + pic.suffix)
    }

    /// JavaScript's `Number.prototype.toFixed`.
    static func toFixed(_ v: Double, _ dp: Int) -> String {
        if v >= 1e21 { return NumberText.js(v) }
        // scale and round half away from zero on the exact decimal expansion of the shortest form
        let (digits, exp) = NumberText.digits(v)
        if v == 0 {
            return dp > 0 ? "0." + String(repeating: "0", count: dp) : "0"
        }
        // digits d1..dk with value 0.d1d2...dk × 10^exp; keep exp + dp digits
        let keep = exp + dp
        var kept: [UInt8]
        if keep < 0 {
            kept = []
        } else if keep >= digits.count {
            kept = digits + [UInt8](repeating: 0, count: keep - digits.count)
        } else {
            kept = Array(digits[0..<keep])
            if digits[keep] >= 5 {
                var i = kept.count - 1
                while i >= 0 {
                    if kept[i] == 9 { kept[i] = 0; i -= 1 } else { kept[i] += 1; break }
                }
                if i < 0 { kept.insert(1, at: 0) }
            }
        }
        var s = kept.map { String($0) }.joined()
        if s.count < dp + 1 { s = String(repeating: "0", count: dp + 1 - s.count) + s }
        if dp > 0 {
            let idx = s.index(s.endIndex, offsetBy: -dp)
            s = s[..<idx] + "." + s[idx...]
        }
        return s
    }
}
