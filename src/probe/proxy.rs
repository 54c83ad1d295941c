//! `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` as cert-manager's self check reads them: Go's
//! `http.ProxyFromEnvironment`, which is `golang.org/x/net/http/httpproxy` (`Config.ProxyFunc`,
//! `parseProxy`, `config.init`, `useProxy`, `canonicalAddr`). Pure.
//!
//! * `parseProxy`: a value that does not parse as a URL with scheme http, https or socks5 is
//!   tried again as `http://<value>` (`proxy.corp:3128` works); a value neither parses as is
//!   ignored (no proxy).
//! * `http://` requests use `HTTP_PROXY`, `https://` ones `HTTPS_PROXY` (no fallback between
//!   them); `localhost` and loopback addresses are never proxied.
//! * `NO_PROXY` (comma-separated, case-insensitive): `*` matches everything; a CIDR matches IP
//!   hosts inside it; an IP (optionally `ip:port`, IPv6 as `[ip]:port`) matches that IP (and
//!   port); `foo.com` matches foo.com and its subdomains, `.foo.com` and `*.foo.com` only the
//!   subdomains; `host:port` entries match that port only. A bare `[2001:db8::1]` (brackets,
//!   no port) matches nothing, as in Go.

use super::http::Url;
use super::iana::cidr_contains;
use super::plan::ProxySettings;
use std::net::IpAddr;

/// The values of a proxy URL the probe needs to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// `http`, `https` or `socks5`.
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// `user:password` from the URL: Go sends it as `Proxy-Authorization: Basic …`.
    pub userinfo: Option<String>,
}

impl ProxyUrl {
    /// `http://host:port` (the form reports and findings show; no credentials).
    pub fn display(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{}://{host}:{}", self.scheme, self.port)
    }
}

/// `scheme://[userinfo@]host[:port][/…]` with scheme http, https or socks5; None otherwise.
fn parse_absolute(v: &str) -> Option<ProxyUrl> {
    let (scheme, rest) = v.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        "socks5" => 1080,
        _ => return None,
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_owned()), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        let (h, after) = stripped.split_once(']')?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        }
    };
    // Go's URL parser refuses these in a host; an empty host is allowed (it dials ":port").
    if host
        .chars()
        .any(|c| " <>\"{}|\\^`".contains(c) || c.is_control())
    {
        return None;
    }
    let port = match port {
        Some("") | None => default,
        Some(p) => p.parse().ok()?,
    };
    Some(ProxyUrl {
        scheme,
        host,
        port,
        userinfo,
    })
}

/// Go's `parseProxy`: the proxy a `HTTP(S)_PROXY` value names, None when it names none.
pub fn parse_proxy(value: &str) -> Option<ProxyUrl> {
    if value.is_empty() {
        return None;
    }
    parse_absolute(value).or_else(|| parse_absolute(&format!("http://{value}")))
}

/// One `NO_PROXY` entry, as `config.init` files it.
#[derive(Debug, PartialEq)]
enum Matcher {
    All,
    Cidr(IpAddr, u32),
    Ip(IpAddr, String),
    /// `.suffix`, port, and whether the bare name matches too.
    Domain(String, String, bool),
}

fn matchers(no_proxy: &str) -> Vec<Matcher> {
    let mut out = Vec::new();
    for p in no_proxy.split(',') {
        let p = p.trim().to_ascii_lowercase();
        if p.is_empty() {
            continue;
        }
        if p == "*" {
            return vec![Matcher::All];
        }
        if let Some((net, bits)) = p.split_once('/')
            && let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>())
            && bits <= if net.is_ipv4() { 32 } else { 128 }
        {
            out.push(Matcher::Cidr(net, bits));
            continue;
        }
        // net.SplitHostPort: "host:port" or "[v6]:port"; anything else is a bare host.
        let (host, port) = match split_host_port(&p) {
            Some((h, port)) if h.is_empty() => {
                let _ = port;
                continue;
            }
            Some((h, port)) => (h, port),
            None => (p.clone(), String::new()),
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            out.push(Matcher::Ip(ip, port));
            continue;
        }
        let host = host
            .strip_prefix("*.")
            .map_or(host.clone(), |h| format!(".{h}"));
        let (suffix, bare) = if host.starts_with('.') {
            (host, false)
        } else {
            (format!(".{host}"), true)
        };
        out.push(Matcher::Domain(suffix, port, bare));
    }
    out
}

/// Go's `net.SplitHostPort`, enough for `NO_PROXY` entries: None when there is no port.
fn split_host_port(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host.to_owned(), port.to_owned()));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None; // "too many colons"
    }
    Some((host.to_owned(), port.to_owned()))
}

/// Go's `useProxy(canonicalAddr(url))`: false when `NO_PROXY` (or loopback) exempts the URL.
fn use_proxy(no_proxy: &str, url: &Url) -> bool {
    let host = url.host.to_ascii_lowercase();
    let port = url.port.to_string();
    let ip = host.parse::<IpAddr>().ok();
    if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    !matchers(no_proxy).iter().any(|m| match m {
        Matcher::All => true,
        Matcher::Cidr(net, bits) => ip.is_some_and(|ip| cidr_contains(*net, *bits, ip)),
        Matcher::Ip(want, p) => ip == Some(*want) && (p.is_empty() || *p == port),
        Matcher::Domain(suffix, p, bare) => {
            (host.ends_with(suffix.as_str()) || (*bare && host == suffix[1..]))
                && (p.is_empty() || *p == port)
        }
    })
}

/// The proxy Go's `http.ProxyFromEnvironment` sends `url` through under these settings.
pub fn proxy_url_for(p: &ProxySettings, url: &Url) -> Option<ProxyUrl> {
    let value = match url.scheme.as_str() {
        "https" => p.https.as_deref(),
        "http" => p.http.as_deref(),
        _ => None,
    }?;
    let proxy = parse_proxy(value)?;
    use_proxy(p.no_proxy.as_deref().unwrap_or(""), url).then_some(proxy)
}

/// [`proxy_url_for`] as `scheme://host:port`.
pub fn proxy_for(p: &ProxySettings, url: &Url) -> Option<String> {
    proxy_url_for(p, url).map(|u| u.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(http: &str, no_proxy: &str) -> ProxySettings {
        ProxySettings {
            http: Some(http.into()),
            https: None,
            no_proxy: Some(no_proxy.into()),
        }
    }

    fn via(s: &ProxySettings, url: &str) -> Option<String> {
        proxy_for(s, &Url::parse(url).unwrap())
    }

    /// `httpproxy.parseProxy`: scheme-less values are retried as `http://…` (Go's
    /// `ProxyFromEnvironment` with HTTP_PROXY=proxy.corp:3128 uses http://proxy.corp:3128).
    #[test]
    fn proxy_values_as_go_parses_them() {
        let p = |v: &str| parse_proxy(v).map(|u| u.display());
        assert_eq!(
            p("proxy.corp:3128").as_deref(),
            Some("http://proxy.corp:3128")
        );
        assert_eq!(
            p("192.0.2.8:3128").as_deref(),
            Some("http://192.0.2.8:3128")
        );
        assert_eq!(
            p("http://192.0.2.8").as_deref(),
            Some("http://192.0.2.8:80")
        );
        assert_eq!(p("HTTP://p:1/").as_deref(), Some("http://p:1"));
        assert_eq!(p("socks5://x:1").as_deref(), Some("socks5://x:1"));
        assert_eq!(
            p("http://[2001:db8::1]:3128").as_deref(),
            Some("http://[2001:db8::1]:3128")
        );
        let auth = parse_proxy("http://u:pw@p:3128").unwrap();
        assert_eq!(auth.userinfo.as_deref(), Some("u:pw"));
        assert_eq!(p(""), None);
        // What the tool writes for an env var it could not read is never a proxy.
        assert_eq!(p("<set from a Secret/ConfigMap>"), None);
    }

    /// `httpproxy.config.init`/`useProxy`, checked against Go 1.19's ProxyFromEnvironment with
    /// NO_PROXY=".example.com,*.foo.com,bar.com:8080,[2001:db8::5],10.0.0.0/8,2001:db8:1::/48,198.51.100.7:80".
    #[test]
    fn no_proxy_as_go_matches_it() {
        let s = settings(
            "http://p:1",
            ".example.com,*.foo.com,bar.com:8080,[2001:db8::5],10.0.0.0/8,2001:db8:1::/48,198.51.100.7:80",
        );
        let proxied = Some("http://p:1".to_owned());
        for (url, want) in [
            ("http://example.com/", &proxied), // ".example.com" is subdomains only
            ("http://a.example.com/", &None),
            ("http://x.foo.com/", &None),
            ("http://foo.com/", &proxied), // "*.foo.com" is ".foo.com"
            ("http://bar.com/", &proxied), // port 80 ≠ 8080
            ("http://bar.com:8080/", &None),
            ("http://a.bar.com:8080/", &None),
            ("http://[2001:db8::5]/", &proxied), // "[ip]" without a port matches nothing
            ("http://10.1.2.3/", &None),
            ("http://[2001:db8:1::9]/", &None),
            ("http://198.51.100.7/", &None),
            ("http://198.51.100.7:81/", &proxied),
            ("http://localhost/", &None),
            ("http://127.0.0.2/", &None),
            ("http://EXAMPLE.com/", &proxied),
        ] {
            assert_eq!(&via(&s, url), want, "{url}");
        }
        // A bare name matches itself and its subdomains; "*" everything.
        let s = settings("proxy:3128", "internal.test, svc");
        assert_eq!(via(&s, "http://internal.test/"), None);
        assert_eq!(via(&s, "http://a.internal.test/"), None);
        assert_eq!(via(&s, "http://x.ns.svc/"), None);
        assert_eq!(
            via(&s, "http://shop.example/").as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(via(&settings("p:1", "*"), "http://a.b/"), None);
        // No HTTPS_PROXY: https URLs go direct (no fallback to HTTP_PROXY).
        assert_eq!(via(&s, "https://shop.example/"), None);
    }
}
