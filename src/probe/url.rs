//! The parts of an http(s) URL the probe needs, and `Location` resolution as Go's HTTP client
//! does it (`net/url` `URL.ResolveReference`, RFC 3986 §5.2: dot segments removed, a
//! query-only reference keeps the path, a fragment is never sent).

use std::net::IpAddr;

/// An absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    /// Host without brackets.
    pub host: String,
    pub port: u16,
    /// Whether the port was written in the URL.
    pub explicit_port: bool,
    /// Path and query (no fragment).
    pub path: String,
}

impl Url {
    pub fn parse(s: &str) -> Result<Url, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("not an absolute URL: {s:?}"))?;
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.split('#').next().unwrap_or("");
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
            let end = stripped
                .find(']')
                .ok_or_else(|| format!("bad IPv6 host in {s:?}"))?;
            let port = stripped[end + 1..].strip_prefix(':');
            (stripped[..end].to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() {
            return Err(format!("no host in {s:?}"));
        }
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => 0,
        };
        let (port, explicit_port) = match port {
            Some(p) if !p.is_empty() => (
                p.parse::<u16>().map_err(|_| format!("bad port in {s:?}"))?,
                true,
            ),
            _ => (default, false),
        };
        Ok(Url {
            scheme,
            host,
            port,
            explicit_port,
            path,
        })
    }

    /// Resolve a `Location` value against this URL as Go's `ResolveReference` does: absolute,
    /// scheme-relative (`//host/p`), absolute-path, relative-path (dot segments removed),
    /// query-only (`?q`: same path) and fragment-only (same path and query).
    pub fn join(&self, location: &str) -> Result<Url, String> {
        let location = location.trim();
        let location = location.split('#').next().unwrap_or("");
        if let Some(i) = location.find("://")
            && !location[..i].contains(['/', '?'])
        {
            let mut u = Url::parse(location)?;
            u.path = normalize(&u.path);
            return Ok(u);
        }
        if let Some(rest) = location.strip_prefix("//") {
            let mut u = Url::parse(&format!("{}://{rest}", self.scheme))?;
            u.path = normalize(&u.path);
            return Ok(u);
        }
        let (base_path, base_query) = split_query(&self.path);
        let (ref_path, ref_query) = split_query(location);
        let path = if ref_path.is_empty() {
            base_path.to_owned()
        } else if ref_path.starts_with('/') {
            remove_dot_segments(ref_path)
        } else {
            let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
            remove_dot_segments(&format!("{dir}{ref_path}"))
        };
        let query = match (ref_path.is_empty(), ref_query) {
            (_, Some(q)) => Some(q),
            (true, None) => base_query,
            (false, None) => None,
        };
        let path = match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        Ok(Url {
            path: if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            },
            ..self.clone()
        })
    }

    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    /// `host[:port]` as sent in `Host` (IPv6 in brackets).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.explicit_port {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }

    /// The same URL with an explicit port (Pebble builds its URL with `JoinHostPort`).
    pub fn with_port(&self, port: u16) -> Url {
        Url {
            port,
            explicit_port: true,
            ..self.clone()
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority(), self.path)
    }
}

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (s, None),
    }
}

/// Dot segments removed from the path part, the query kept.
fn normalize(path_and_query: &str) -> String {
    let (p, q) = split_query(path_and_query);
    let p = remove_dot_segments(p);
    match q {
        Some(q) => format!("{p}?{q}"),
        None => p,
    }
}

/// RFC 3986 §5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_join() {
        let u = Url::parse("http://shop.example.test/.well-known/acme-challenge/tok").unwrap();
        assert_eq!(
            (u.port, u.explicit_port, u.path.as_str()),
            (80, false, "/.well-known/acme-challenge/tok")
        );
        let r = u.join("https://shop.example.test:8443/x").unwrap();
        assert_eq!(
            (r.scheme.as_str(), r.port, r.explicit_port),
            ("https", 8443, true)
        );
        assert_eq!(
            u.join("/a/b").unwrap().to_string(),
            "http://shop.example.test/a/b"
        );
        assert_eq!(
            u.join("other").unwrap().path,
            "/.well-known/acme-challenge/other"
        );
        assert_eq!(u.join("//x.test/y").unwrap().to_string(), "http://x.test/y");
        let v6 = Url::parse("http://[2001:db8::1]:8080/p").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("2001:db8::1", 8080));
        assert_eq!(v6.to_string(), "http://[2001:db8::1]:8080/p");
        assert!(Url::parse("nonsense").is_err());
        assert_eq!(
            u.with_port(5002).to_string(),
            "http://shop.example.test:5002/.well-known/acme-challenge/tok"
        );
    }

    /// Go `net/url` `URL.ResolveReference` (`resolvePath`): dot segments go, a query-only
    /// reference keeps the path, a fragment is dropped and never sent.
    #[test]
    fn location_resolution_as_go() {
        let u = Url::parse("http://a.test/.well-known/acme-challenge/tok?x=1").unwrap();
        let j = |l: &str| u.join(l).unwrap().to_string();
        assert_eq!(
            j("../acme-challenge/t2"),
            "http://a.test/.well-known/acme-challenge/t2"
        );
        assert_eq!(j("./t3"), "http://a.test/.well-known/acme-challenge/t3");
        assert_eq!(j("../../.."), "http://a.test/");
        assert_eq!(j("/a/./b/../c"), "http://a.test/a/c");
        assert_eq!(
            j("?q=2"),
            "http://a.test/.well-known/acme-challenge/tok?q=2"
        );
        assert_eq!(
            j("#frag"),
            "http://a.test/.well-known/acme-challenge/tok?x=1"
        );
        assert_eq!(j("https://b.test/x/../y#f"), "https://b.test/y");
        assert_eq!(j("/p?x"), "http://a.test/p?x");
        assert_eq!(j("sub/"), "http://a.test/.well-known/acme-challenge/sub/");
    }
}
