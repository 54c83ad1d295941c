//! One observed exchange judged by each validator's own rules, with each one's own words.
//! Pure functions over an [`Exchange`].
//!
//! * **cert-manager** (`pkg/issuer/acme/http/http.go` `testReachability`, v1.21.1): Go's
//!   client — redirects 301/302/303/307/308 to any port, `stopped after 10 redirects` at the
//!   tenth redirect (`net/http` `defaultCheckRedirect`: ten requests), a 3xx without
//!   `Location` is the answer; status exactly 200; the body read up to 1 MiB and compared byte
//!   for byte.
//! * **Let's Encrypt** (Boulder `va/http.go` `processHTTPValidation`, `processRedirect`,
//!   `extractRequestTarget`, `validateHTTP01`; `va/va.go` `detailedError`): redirects only
//!   301/302/307/308, http(s), explicit ports 80/443 only, no `.well-known` host, IP hosts
//!   only when not reserved and without zone, names only under an IANA TLD, paths ≤ 2000
//!   bytes, 11 redirects at most and no URL twice; status 200; at most 127 body bytes, then
//!   trailing Unicode white space trimmed. Details carry the address of the last request.
//! * **Pebble** (`va/va.go` `fetchHTTP`, `validateHTTP01`): Go's client, status 200, the whole
//!   body with `\n\r\t` trimmed from its end; Go's raw error text for connection problems.
//! * **private** ACME servers: Go's client, status 200, trailing white space trimmed.

use super::http::Exchange;
use super::iana;
use super::plan::{CaProfile, ErrorClass, KeyMatch};
use super::url::Url;
use std::net::{IpAddr, SocketAddr};

/// cert-manager reads at most this much body (`maxAcmeChallengeBodySize`).
pub const BODY_CAP: usize = 1 << 20;
/// Boulder's `maxResponseSize`: a body of this many bytes or more fails.
pub const BOULDER_BODY_CAP: usize = 128;
/// Go's `defaultCheckRedirect` refuses the 10th redirect (`len(via) >= 10`).
pub const GO_REDIRECT_LIMIT: usize = 10;
/// Boulder follows 11 redirects (`numRedirects > maxRedirect` is checked before counting).
pub const BOULDER_MAX_REDIRECTS: usize = 11;
/// Boulder's `maxPathSize` for a redirect target.
const BOULDER_MAX_PATH: usize = 2000;

/// What the CA validation looks like for [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaRules {
    pub profile: CaProfile,
    /// Pebble's `httpPort`, which its URLs name (`http://host:80/…`).
    pub pebble_port: u16,
}

impl CaRules {
    pub fn new(profile: CaProfile) -> Self {
        CaRules {
            profile,
            pebble_port: 80,
        }
    }
}

/// The verdict of each validator on one exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub key_match: KeyMatch,
    pub cert_manager_pass: bool,
    /// cert-manager's `status.reason` text (without the `Waiting for …` prefix) when it fails.
    pub cert_manager_error: String,
    pub acme_pass: bool,
    /// The CA's problem detail when it fails.
    pub acme_error: String,
}

/// Go's `strconv.Quote` (what `%q` prints).
pub fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut rest = bytes;
    while !rest.is_empty() {
        let (c, len) = match std::str::from_utf8(&rest[..rest.len().min(4)]) {
            Ok(s) => s
                .chars()
                .next()
                .map_or((None, 1), |c| (Some(c), c.len_utf8())),
            Err(e) if e.valid_up_to() > 0 => {
                let s = std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or("");
                s.chars()
                    .next()
                    .map_or((None, 1), |c| (Some(c), c.len_utf8()))
            }
            Err(_) => (None, 1),
        };
        match c {
            None => out.push_str(&format!("\\x{:02x}", rest[0])),
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some('\x07') => out.push_str("\\a"),
            Some('\x08') => out.push_str("\\b"),
            Some('\x0c') => out.push_str("\\f"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some('\x0b') => out.push_str("\\v"),
            Some(c) if (c as u32) < 0x20 || c == '\x7f' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            Some(c) if c.is_control() || (c.is_whitespace() && c != ' ') || is_format(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            Some(c) => out.push(c),
        }
        rest = &rest[len..];
    }
    out.push('"');
    out
}

/// Unicode format characters Go's `IsPrint` rejects that Rust does not call control.
fn is_format(c: char) -> bool {
    matches!(c as u32, 0xad | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0xfeff)
}

/// `strings.TrimRightFunc(s, unicode.IsSpace)` on bytes (Boulder).
fn trim_unicode_space(b: &[u8]) -> &[u8] {
    let s = String::from_utf8_lossy(b);
    let kept = s.trim_end_matches(char::is_whitespace).len();
    // Lossy decoding can change lengths; fall back to ASCII trimming then.
    if s.len() == b.len() {
        &b[..kept]
    } else {
        let end = b
            .iter()
            .rposition(|c| !c.is_ascii_whitespace() && *c != 0x0b)
            .map_or(0, |i| i + 1);
        &b[..end]
    }
}

/// `strings.TrimRight(s, "\n\r\t")` (Pebble's `whitespaceCutset`).
fn trim_pebble(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b'\n' | b'\r' | b'\t'))
        .map_or(0, |i| i + 1);
    &b[..end]
}

fn ip_of(addr: &str) -> String {
    addr.parse::<SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| addr.to_owned())
}

/// The first redirect the exchange made that a Go client (cert-manager, Pebble) refuses: the
/// 10th (`stopped after 10 redirects`, on the raw `Location`).
fn go_redirect_error(ex: &Exchange) -> Option<String> {
    let redirects = ex.redirects();
    if redirects >= GO_REDIRECT_LIMIT {
        let loc = ex.hops[GO_REDIRECT_LIMIT - 1]
            .location
            .clone()
            .unwrap_or_default();
        return Some(format!("Get \"{loc}\": stopped after 10 redirects"));
    }
    None
}

/// Judge an exchange the way cert-manager's self check and the CA would.
pub fn judge(ex: &Exchange, first_url: &str, key: &str, ca: CaRules) -> Judgement {
    let key_match = match ex.status {
        Some(200) if ex.body == key.as_bytes() && ex.body_error.is_none() => KeyMatch::Exact,
        Some(200) if trim_unicode_space(&ex.body) == key.as_bytes() => KeyMatch::Trimmed,
        Some(200) => KeyMatch::No,
        _ => KeyMatch::NotApplicable,
    };
    let cert_manager_error = cert_manager(ex, first_url, key);
    let acme_error = match ca.profile {
        CaProfile::Letsencrypt => boulder(ex, key),
        CaProfile::Pebble => pebble(ex, key, ca.pebble_port),
        // Another public CA: its own rules are not known; Go's client rules stand in.
        CaProfile::Private | CaProfile::Public => private(ex, key),
    };
    Judgement {
        key_match,
        cert_manager_pass: cert_manager_error.is_empty(),
        cert_manager_error,
        acme_pass: acme_error.is_empty(),
        acme_error,
    }
}

/// cert-manager's error for the exchange, empty when it passes.
fn cert_manager(ex: &Exchange, first_url: &str, key: &str) -> String {
    let get =
        |what: &str| format!("failed to perform self check GET request '{first_url}': {what}");
    if let Some((_, msg, url)) = &ex.cert_manager_timeout {
        // Headers had arrived: Go checks the status before it reads the body.
        if msg.contains("while reading body") {
            return match ex.hops.last().and_then(|h| h.status) {
                Some(code) if code != 200 => format!("wrong status code '{code}', expected '200'"),
                _ => format!("failed to read response body: {msg}"),
            };
        }
        return get(&format!("Get \"{url}\": {msg}"));
    }
    if let Some(e) = go_redirect_error(ex) {
        return get(&e);
    }
    if let (Some(err), None) = (&ex.error, ex.status) {
        return get(&format!("Get \"{}\": {err}", ex.last_url()));
    }
    match ex.status {
        Some(200) => {}
        Some(code) => return format!("wrong status code '{code}', expected '200'"),
        None => return get("no response"),
    }
    if let Some((_, err)) = &ex.body_error {
        return format!("failed to read response body: {err}");
    }
    let body = &ex.body[..ex.body.len().min(BODY_CAP)];
    if body == key.as_bytes() {
        return String::new();
    }
    // `keyToPrint` (v1.21.1): the body as is up to 24 bytes, else its first 24 bytes trimmed.
    let shown = if body.len() > 24 {
        format!(
            "{}... (truncated)",
            String::from_utf8_lossy(&body[..24]).trim()
        )
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    format!(
        "did not get expected response when querying endpoint, expected {} but got: {shown}",
        go_quote(key.as_bytes())
    )
}

/// Boulder's reason to refuse the redirect from hop `k - 1` to hop `k`, without the prefix.
fn boulder_redirect(ex: &Exchange, k: usize) -> Option<String> {
    let from = &ex.hops[k - 1];
    if k > BOULDER_MAX_REDIRECTS {
        return Some("Too many redirects".into());
    }
    if !matches!(from.status, Some(301 | 302 | 307 | 308)) {
        return Some("received disallowed redirect status code".into());
    }
    let to = &ex.hops[k];
    let Ok(u) = Url::parse(&to.url) else {
        return Some("Invalid empty host in redirect target".into());
    };
    if u.scheme != "http" && u.scheme != "https" {
        return Some(format!(
            "Invalid protocol scheme in redirect target. Only \"http\" and \"https\" protocol schemes are supported, not {}",
            go_quote(u.scheme.as_bytes())
        ));
    }
    if u.explicit_port && u.port != 80 && u.port != 443 {
        return Some(format!(
            "Invalid port in redirect target. Only ports 80 and 443 are supported, not {}",
            u.port
        ));
    }
    let host = u.host.to_ascii_lowercase();
    if host.ends_with(".well-known") {
        return Some(format!(
            "Invalid host in redirect target {}. Check webserver config for missing '/' in redirect target.",
            go_quote(host.as_bytes())
        ));
    }
    if let Ok(ip) = host.split('%').next().unwrap_or("").parse::<IpAddr>() {
        if host.contains('%') {
            return Some("Invalid host in redirect target: contains scope zone".into());
        }
        if let Some(why) = iana::reserved(ip) {
            return Some(format!("Invalid host in redirect target: {why}"));
        }
    } else if !iana::has_iana_tld(&host) {
        return Some("Invalid host in redirect target, must end in IANA registered TLD".into());
    }
    let path = u.path.split('?').next().unwrap_or("");
    if path.len() > BOULDER_MAX_PATH {
        return Some("Redirect target too long".into());
    }
    if ex.hops[..k].iter().any(|h| h.url == to.url) {
        return Some("Redirect loop detected".into());
    }
    // Boulder resolves the redirect host itself and drops reserved addresses.
    if !u.host_is_ip() && !to.resolved.is_empty() {
        let usable = to
            .resolved
            .iter()
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .any(|ip| iana::reserved(ip).is_none());
        if !usable {
            return Some(format!(
                "no valid A records found for {host}; no valid AAAA records found for {host}"
            ));
        }
    }
    None
}

/// Boulder's wording of a connection problem (`detailedError`).
fn boulder_connection(class: ErrorClass, error: Option<&str>) -> String {
    // Errnos Boulder does not name (EHOSTUNREACH, EADDRNOTAVAIL) and EOF.
    if error.is_some_and(|e| {
        e.ends_with("no route to host") || e.ends_with("cannot assign requested address")
    }) {
        return "Error getting validation data".into();
    }
    match class {
        ErrorClass::ConnectTimeout => "Timeout during connect (likely firewall problem)".into(),
        ErrorClass::Timeout => {
            "Timeout after connect (your server may be slow or overloaded)".into()
        }
        ErrorClass::ConnectRefused => "Connection refused".into(),
        ErrorClass::ConnectionReset => "Connection reset by peer".into(),
        ErrorClass::NetworkUnreachable
            if error.is_some_and(|e| e.contains("network is unreachable")) =>
        {
            "Network unreachable".into()
        }
        ErrorClass::HttpOnHttpsPort => "Server only speaks HTTP, not TLS".into(),
        ErrorClass::TlsFailure => error.unwrap_or("tls: handshake failure").to_owned(),
        _ => "Error getting validation data".into(),
    }
}

/// Let's Encrypt's problem detail, empty when it passes.
fn boulder(ex: &Exchange, key: &str) -> String {
    for k in 1..ex.hops.len() {
        if let Some(why) = boulder_redirect(ex, k) {
            let loc = ex.hops[k - 1].location.clone().unwrap_or_default();
            return format!("{}: Fetching {loc}: {why}", ip_of(&ex.hops[k - 1].address));
        }
    }
    let last_ip = ex
        .hops
        .last()
        .map(|h| ip_of(&h.address))
        .unwrap_or_default();
    let url = ex.last_url();
    if let Some(class) = ex.error_class.filter(|_| ex.status.is_none()) {
        if class == ErrorClass::RedirectLimit {
            let loc = ex
                .hops
                .last()
                .and_then(|h| h.location.clone())
                .unwrap_or_default();
            return format!("{last_ip}: Fetching {loc}: Too many redirects");
        }
        return format!(
            "{last_ip}: Fetching {url}: {}",
            boulder_connection(class, ex.error.as_deref())
        );
    }
    match ex.status {
        Some(200) => {}
        Some(code) => return format!("{last_ip}: Invalid response from {url}: {code}"),
        None => return format!("{last_ip}: Fetching {url}: Error getting validation data"),
    }
    if let Some((_, err)) = &ex.body_error
        && ex.body.len() < BOULDER_BODY_CAP
    {
        return format!("{last_ip}: Error reading HTTP response body: {err}");
    }
    if ex.body.len() >= BOULDER_BODY_CAP {
        return format!(
            "{last_ip}: Invalid response from {url}: {}",
            go_quote(&ex.body[..BOULDER_BODY_CAP])
        );
    }
    let payload = trim_unicode_space(&ex.body);
    if payload == key.as_bytes() {
        return String::new();
    }
    format!(
        "The key authorization file from the server did not match this challenge. Expected {} (got {})",
        go_quote(key.as_bytes()),
        go_quote(payload)
    )
}

/// Pebble's problem detail, empty when it passes. `port` is its `httpPort`.
fn pebble(ex: &Exchange, key: &str, port: u16) -> String {
    let first = ex
        .hops
        .first()
        .and_then(|h| Url::parse(&h.url).ok())
        .map(|u| u.with_port(port).to_string())
        .unwrap_or_default();
    if let Some(e) = go_redirect_error(ex) {
        return e;
    }
    if let (Some(err), None) = (&ex.error, ex.status) {
        let url = if ex.hops.len() <= 1 {
            first.clone()
        } else {
            ex.last_url().to_owned()
        };
        return format!("Get \"{url}\": {err}");
    }
    match ex.status {
        Some(200) => {}
        Some(code) => return format!("Non-200 status code from HTTP: {first} returned {code}"),
        None => return format!("Get \"{first}\": no response"),
    }
    if let Some((_, err)) = &ex.body_error {
        return err.clone();
    }
    let payload = trim_pebble(&ex.body);
    if payload == key.as_bytes() {
        return String::new();
    }
    format!(
        "The key authorization file from the server did not match this challenge {} != {}",
        go_quote(key.as_bytes()),
        go_quote(payload)
    )
}

/// A private ACME server: Go's client, status 200, trailing white space trimmed.
fn private(ex: &Exchange, key: &str) -> String {
    if let Some(e) = go_redirect_error(ex) {
        return e;
    }
    if let (Some(err), None) = (&ex.error, ex.status) {
        return format!("Get \"{}\": {err}", ex.last_url());
    }
    match ex.status {
        Some(200) if trim_unicode_space(&ex.body) == key.as_bytes() => String::new(),
        Some(200) => format!(
            "the key authorization from the server did not match: expected {} (got {})",
            go_quote(key.as_bytes()),
            go_quote(trim_unicode_space(&ex.body))
        ),
        Some(code) => format!("{}: status {code}", ex.last_url()),
        None => format!("{}: no response", ex.last_url()),
    }
}

#[cfg(test)]
mod tests;
