//! The pieces of Go's standard library whose exact behaviour decides the acmesolver's answer,
//! written out after reading Go's source (go1.19 `src/`, the version the reference stand-in is
//! built with): `path.Clean` / `path.Dir` / `path.Base` (path/path.go), `URL.EscapedPath` with
//! `unescape`, `escape`, `shouldEscape` and `validEncoded` in `encodePath` mode (net/url/url.go),
//! `net.SplitHostPort` (net/ipsock.go), `httpguts.ValidHostHeader` (x/net/http/httpguts),
//! `textproto.CanonicalMIMEHeaderKey` and `http.DetectContentType` (net/http/sniff.go).
//!
//! Everything works on bytes, like Go's strings: no UTF-8 assumption, no panics on any input.

/// `url.URL.EscapedPath()` of a request whose request-target path (before `?`) is `raw`, as
/// `url.ParseRequestURI` sets `Path` and `RawPath` (`setPath`). `Err` when `unescape` fails
/// (a `%` not followed by two hex digits): Go's server answers such a request 400 itself.
pub fn escaped_path(raw: &str) -> Result<String, String> {
    let path = unescape(raw.as_bytes())?;
    // setPath keeps RawPath only when it differs from the default encoding of Path.
    let default = escape(&path);
    let raw_path = if raw == default { "" } else { raw };
    // EscapedPath: RawPath when it is a valid encoding of Path, else the default encoding.
    if !raw_path.is_empty()
        && valid_encoded(raw_path.as_bytes())
        && unescape(raw_path.as_bytes()).is_ok_and(|p| p == path)
    {
        return Ok(raw_path.to_owned());
    }
    if path == b"*" {
        return Ok("*".to_owned());
    }
    Ok(default)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// `unescape(s, encodePath)`: `%XX` decoded, `+` left alone.
fn unescape(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if i + 2 >= s.len() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]) {
                let bad = &s[i..s.len().min(i + 3)];
                return Err(format!(
                    "invalid URL escape {:?}",
                    String::from_utf8_lossy(bad)
                ));
            }
            out.push(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// `shouldEscape(c, encodePath)`.
fn should_escape(c: u8) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => c == b'?',
        _ => true,
    }
}

/// `escape(s, encodePath)`, upper-case hex.
fn escape(s: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &c in s {
        if should_escape(c) {
            out.push('%');
            out.push(HEX[usize::from(c >> 4)] as char);
            out.push(HEX[usize::from(c & 15)] as char);
        } else {
            out.push(c as char);
        }
    }
    out
}

/// `validEncoded(s, encodePath)`.
fn valid_encoded(s: &[u8]) -> bool {
    s.iter().all(|&c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c)
    })
}

/// `path.Clean`: the shortest equivalent path (`//` → `/`, `.` dropped, `..` backs up, no
/// trailing slash, `""` → `"."`).
pub fn clean(path: &str) -> String {
    let p = path.as_bytes();
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            // An empty element, or `.`.
            r += 1;
        } else if p[r] == b'.' && p[r + 1] == b'.' && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                // Back up to the previous `/` (dropped too) or to `dotdot`.
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_owned();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `path.Dir`: `Clean` of everything up to and including the last `/`.
pub fn dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..cut])
}

/// `path.Base`: the last element, trailing slashes removed; `""` → `"."`, only slashes → `"/"`.
pub fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    let last = trimmed.rfind('/').map_or(trimmed, |i| &trimmed[i + 1..]);
    if last.is_empty() {
        "/".to_owned()
    } else {
        last.to_owned()
    }
}

/// `net.SplitHostPort`'s host, `None` where it returns an error.
pub fn split_host_port(hostport: &str) -> Option<&str> {
    let i = hostport.rfind(':')?;
    let (host, j, k) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != i {
            // `]` at the end (missing port), or something between `]` and the last `:`.
            return None;
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some(host)
}

/// cert-manager's `parseHost` (solver.go): `SplitHostPort`'s host, else the value with every
/// leading and trailing `[` and `]` trimmed (`strings.Trim(s, "[]")`).
pub fn parse_host(s: &str) -> &str {
    split_host_port(s).unwrap_or_else(|| s.trim_matches(|c| c == '[' || c == ']'))
}

/// `httpguts.ValidHostHeader`: only the bytes of a URI host and port (Go's server answers 400
/// "malformed Host header" to anything else).
pub fn valid_host_header(h: &[u8]) -> bool {
    h.iter().all(|&c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'$'
                    | b'%'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'-'
                    | b'.'
                    | b':'
                    | b';'
                    | b'='
                    | b'['
                    | b'\''
                    | b']'
                    | b'_'
                    | b'~'
            )
    })
}

/// `textproto.CanonicalMIMEHeaderKey` of a header name hyper has already checked to be a
/// token (and lower-cased): upper case first and after each `-`.
pub fn canonical_header_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// `http.DetectContentType` for a body that contains no whitespace, no `<` and no byte outside
/// ASCII: the challenge keys (`--serve` checks them). That leaves the signatures made of
/// letters, digits and wildcard bytes (HTML, XML, PDF, PostScript, BOMs and binary magic
/// numbers need other bytes; `mp4Sig` needs a box size below the body's length, and four
/// printable bytes make at least 0x20202020), then the text rule.
pub fn sniff_ascii(data: &[u8]) -> &'static str {
    // (pattern, content type); `?` is a masked-out byte (mask 0x00) in Go's table.
    const SIGS: &[(&[u8], &str)] = &[
        (b"BM", "image/bmp"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"RIFF????WEBPVP", "image/webp"),
        (b"FORM????AIFF", "audio/aiff"),
        (b"ID3", "audio/mpeg"),
        (b"RIFF????WAVE", "audio/wave"),
        (
            b"??????????????????????????????????LP",
            "application/vnd.ms-fontobject",
        ),
        (b"OTTO", "font/otf"),
        (b"ttcf", "font/collection"),
        (b"wOFF", "font/woff"),
        (b"wOF2", "font/woff2"),
    ];
    let data = &data[..data.len().min(512)];
    for (pat, ct) in SIGS {
        if data.len() >= pat.len() && pat.iter().zip(data).all(|(p, d)| *p == b'?' || p == d) {
            return ct;
        }
    }
    "text/plain; charset=utf-8"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_dir_base_as_go() {
        // Cases from Go's path/path_test.go semantics, worked by hand.
        for (p, want) in [
            ("", "."),
            ("/", "/"),
            ("//", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("a/../..", ".."),
            ("../../a", "../../a"),
            ("/a/b/../c/./d/", "/a/c/d"),
            (
                "//.well-known//acme-challenge/",
                "/.well-known/acme-challenge",
            ),
            ("abc/./../def", "def"),
            ("a/..", "."),
        ] {
            assert_eq!(clean(p), want, "Clean({p:?})");
        }
        for (p, d, b) in [
            (
                "/.well-known/acme-challenge/tok",
                "/.well-known/acme-challenge",
                "tok",
            ),
            (
                "//.well-known/acme-challenge/tok",
                "/.well-known/acme-challenge",
                "tok",
            ),
            (
                "/.well-known/acme-challenge/tok/",
                "/.well-known/acme-challenge/tok",
                "tok",
            ),
            (
                "/.well-known/x/../acme-challenge/tok",
                "/.well-known/acme-challenge",
                "tok",
            ),
            (
                "/.well-known/acme-challenge/./tok",
                "/.well-known/acme-challenge",
                "tok",
            ),
            (
                "/.well-known/acme-challenge/..",
                "/.well-known/acme-challenge",
                "..",
            ),
            ("/", "/", "/"),
            ("", ".", "."),
            ("*", ".", "*"),
            ("///", "/", "/"),
        ] {
            assert_eq!(dir(p), d, "Dir({p:?})");
            assert_eq!(base(p), b, "Base({p:?})");
        }
    }

    #[test]
    fn escaped_path_as_go() {
        for (raw, want) in [
            (
                "/.well-known/acme-challenge/tok",
                "/.well-known/acme-challenge/tok",
            ),
            // A valid encoding that differs from the default one is kept as sent.
            ("/%2e%2e/x", "/%2e%2e/x"),
            ("/a%2Fb", "/a%2Fb"),
            ("/%41", "/%41"),
            // Not a valid encoding: Path is re-escaped.
            ("/a\"b", "/a%22b"),
            ("/a{b}", "/a%7Bb%7D"),
            ("/caf\u{e9}", "/caf%C3%A9"),
            ("*", "*"),
        ] {
            assert_eq!(escaped_path(raw).unwrap(), want, "{raw:?}");
        }
        assert!(escaped_path("/%zz").unwrap_err().contains("%zz"));
        assert!(escaped_path("/ab%4").is_err());
    }

    #[test]
    fn hosts_as_go() {
        for (h, want) in [
            ("shop.example.com", "shop.example.com"),
            ("shop.example.com:80", "shop.example.com"),
            ("[::1]:8089", "::1"),
            ("[::1]", "::1"),
            ("[[a]]", "a"),
            ("::1", "::1"),
            ("a:b:c", "a:b:c"),
            ("[::1]x:80", "::1]x:80"),
            (":80", ""),
            ("", ""),
            ("SHOP.example.com", "SHOP.example.com"),
        ] {
            assert_eq!(parse_host(h), want, "{h:?}");
        }
        assert!(valid_host_header(b"[::1]:80"));
        assert!(valid_host_header(b""));
        assert!(!valid_host_header(b"a b"));
        assert!(!valid_host_header(b"a@b"));
        assert!(!valid_host_header("é".as_bytes()));
    }

    #[test]
    fn header_keys_and_sniffing() {
        assert_eq!(canonical_header_key("user-agent"), "User-Agent");
        assert_eq!(canonical_header_key("x-forwarded-for"), "X-Forwarded-For");
        assert_eq!(sniff_ascii(b"tok.thumb"), "text/plain; charset=utf-8");
        assert_eq!(sniff_ascii(b"BMtok.thumb"), "image/bmp");
        assert_eq!(sniff_ascii(b"RIFFabcdWAVE.x"), "audio/wave");
        assert_eq!(sniff_ascii(b"RIFFabcdWAV"), "text/plain; charset=utf-8");
        let eot = format!("{}LPrest", "a".repeat(34));
        assert_eq!(sniff_ascii(eot.as_bytes()), "application/vnd.ms-fontobject");
        assert_eq!(sniff_ascii(b""), "text/plain; charset=utf-8");
    }
}
