//! Version ordering of each package ecosystem, as its own package manager orders versions:
//! dpkg (`dpkg --compare-versions`: epoch, upstream, revision, `~` before everything), rpm
//! (`rpmvercmp` over epoch, version and release, with `~` and `^`), and apk (apk-tools'
//! tokeniser: digits, letter, `_alpha`.. `_p` suffixes, `~hash`, `-rN`). Each is a port of the
//! reference algorithm and is tested against the real tool (dpkg, rpm) or its own test data
//! (apk-tools' `test/unit/version.data`).

use std::cmp::Ordering;

use crate::inventory::PackageFormat;

/// Orders two versions of the given ecosystem.
pub fn compare(format: PackageFormat, a: &str, b: &str) -> Ordering {
    match format {
        PackageFormat::Deb => dpkg(a, b),
        PackageFormat::Rpm => rpm(a, b),
        PackageFormat::Apk => apk(a, b, false),
    }
}

// ---- dpkg ----------------------------------------------------------------------------------

fn split_deb(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if e.bytes().all(|b| b.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((up, rev)) => (epoch, up, rev),
        None => (epoch, rest, ""),
    }
}

/// dpkg's character order in non-digit parts: `~` first, then end of string, letters, others.
fn deb_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn deb_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (deb_order(a.get(i).copied()), deb_order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// `dpkg --compare-versions` ordering.
pub fn dpkg(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split_deb(a.trim());
    let (eb, ub, rb) = split_deb(b.trim());
    ea.cmp(&eb)
        .then_with(|| deb_part(ua, ub))
        .then_with(|| deb_part(ra, rb))
}

// ---- rpm -----------------------------------------------------------------------------------

/// rpm's `rpmvercmp` on one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca.is_none() || cb.is_none() {
            break;
        }
        let (si, sj) = (i, j);
        let numeric = a[i].is_ascii_digit();
        let class = |c: u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        while i < a.len() && class(a[i]) {
            i += 1;
        }
        while j < b.len() && class(b[j]) {
            j += 1;
        }
        if j == sj {
            // Segments of different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[si..i], &b[sj..j]);
        if numeric {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

/// rpm ordering of `[epoch:]version[-release]` strings (a missing epoch is 0, a missing release
/// sorts before any release, as `rpm.vercmp` of rpm 4.18 orders them).
pub fn rpm(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (u64, &str, Option<&str>) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
                (e.parse().unwrap_or(u64::MAX), r)
            }
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((ver, rel)) => (epoch, ver, Some(rel)),
            None => (epoch, rest, None),
        }
    }
    let (ea, va, ra) = split(a.trim());
    let (eb, vb, rb) = split(b.trim());
    ea.cmp(&eb)
        .then_with(|| rpmvercmp(va, vb))
        .then_with(|| rpmvercmp(ra.unwrap_or(""), rb.unwrap_or("")))
}

// ---- apk -----------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks: pre-release suffixes sort before "no suffix", post-release ones after.
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg"];
const SUFFIX_NONE: usize = 4;

struct State<'a> {
    token: Token,
    suffix: usize,
    number: u64,
    value: &'a [u8],
}

fn digits<'a>(t: &mut State<'a>, s: &mut &'a [u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    t.value = &s[..n];
    t.number = t.value.iter().fold(0u64, |acc, d| {
        acc.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
    });
    *s = &s[n..];
    if n == 0 {
        t.token = Token::Invalid;
    }
}

fn first<'a>(s: &mut &'a [u8]) -> State<'a> {
    let mut t = State {
        token: Token::InitialDigit,
        suffix: 0,
        number: 0,
        value: &[],
    };
    digits(&mut t, s);
    t
}

fn next<'a>(t: &mut State<'a>, s: &mut &'a [u8]) {
    let Some(&c) = s.first() else {
        t.token = Token::End;
        return;
    };
    match c {
        b'a'..=b'z' if t.token <= Token::Digit => {
            t.value = &s[..1];
            t.token = Token::Letter;
            *s = &s[1..];
        }
        b'.' | b'0'..=b'9' => {
            if c == b'.' {
                if t.token > Token::Digit {
                    t.token = Token::Invalid;
                    return;
                }
                *s = &s[1..];
            }
            t.token = match t.token {
                Token::InitialDigit | Token::Digit => Token::Digit,
                Token::Suffix => Token::SuffixNo,
                _ => {
                    t.token = Token::Invalid;
                    return;
                }
            };
            digits(t, s);
        }
        b'_' if t.token <= Token::SuffixNo => {
            let rest = &s[1..];
            let n = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
            t.value = &rest[..n];
            *s = &rest[n..];
            let name = std::str::from_utf8(t.value).unwrap_or("");
            let rank = if name == "p" {
                Some(SUFFIXES.len())
            } else if name.is_empty() {
                None
            } else {
                SUFFIXES.iter().position(|x| *x == name)
            };
            match rank {
                Some(r) => {
                    t.suffix = r;
                    t.token = Token::Suffix;
                }
                None => t.token = Token::Invalid,
            }
        }
        b'~' if t.token < Token::CommitHash => {
            let rest = &s[1..];
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
                .count();
            t.value = &rest[..n];
            *s = &rest[n..];
            t.token = if n == 0 {
                Token::Invalid
            } else {
                Token::CommitHash
            };
        }
        b'-' if t.token < Token::RevisionNo && s.starts_with(b"-r") => {
            *s = &s[2..];
            t.token = Token::RevisionNo;
            digits(t, s);
        }
        _ => t.token = Token::Invalid,
    }
}

fn token_cmp(a: &State, b: &State) -> Ordering {
    let string = || a.value.cmp(b.value);
    match a.token {
        Token::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => {
            string()
        }
        Token::Digit | Token::InitialDigit | Token::SuffixNo | Token::RevisionNo => {
            a.number.cmp(&b.number)
        }
        Token::Letter => a.value.first().cmp(&b.value.first()),
        Token::Suffix => a.suffix.cmp(&b.suffix),
        _ => string(),
    }
}

/// apk-tools' version comparison; `fuzzy` is the `~` operator (`b` as a prefix of `a`).
pub fn apk(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut sa, mut sb) = (a.trim().as_bytes(), b.trim().as_bytes());
    let mut ta = first(&mut sa);
    let mut tb = first(&mut sb);
    while ta.token == tb.token && ta.token < Token::End {
        let r = token_cmp(&ta, &tb);
        if r != Ordering::Equal {
            return r;
        }
        next(&mut ta, &mut sa);
        next(&mut tb, &mut sb);
    }
    if ta.token == tb.token || (tb.token == Token::End && fuzzy) {
        return Ordering::Equal;
    }
    if ta.token == Token::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.token == Token::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    tb.token.cmp(&ta.token)
}

/// Whether apk-tools accepts `v` as a version.
pub fn apk_valid(v: &str) -> bool {
    let mut s = v.as_bytes();
    let mut t = first(&mut s);
    while t.token < Token::End {
        next(&mut t, &mut s);
    }
    t.token == Token::End
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn dpkg_tricky_cases() {
        for (a, b, want) in [
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0", "1.0-0", Equal),
            ("1.0.1e-2+deb7u4", "1.0.1e-2+deb7u5", Less),
            ("1.0.1e-2+deb7u13", "1.0.1e-2+deb7u5", Greater),
            ("4.2+dfsg-0.1", "4.2+dfsg-0.1+deb7u1", Less),
            ("1.2a", "1.2+", Less),
        ] {
            assert_eq!(dpkg(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn rpm_tricky_cases() {
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0a", "1.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0^git1", "1.0", Greater),
            ("1:1.0-1", "2.0-1", Greater),
            ("1.0.2k-19.el7", "1.0.2k-16.el7", Greater),
            ("1.0-1", "1.0", Greater),
            ("010", "10", Equal),
            ("a", "1", Less),
        ] {
            assert_eq!(rpm(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn apk_tricky_cases() {
        for (a, b, want) in [
            ("1.2.3-r1", "1.2.3-r0", Greater),
            ("1.2.3_rc1", "1.2.3", Less),
            ("1.2.3_p1", "1.2.3", Greater),
            ("3.1.4-r5", "3.1.4-r10", Less),
        ] {
            assert_eq!(apk(a, b, false), want, "{a} vs {b}");
        }
    }
}
