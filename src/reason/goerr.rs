//! Go's network error texts, as cert-manager's self check prints them inside
//! `failed to perform self check GET request '<url>': <url.Error>` (http.go `testReachability`).
//!
//! Shapes (Go standard library, read in the Go 1.19 source unless a version is named):
//! * `*url.Error`: `Get "<url>": <err>` since Go 1.14 (`net/url/url.go` `Error.Error` uses `%q`),
//!   `Get <url>: <err>` before (cert-manager builds up to early 2020). The URL is the request
//!   that failed: after a redirect it is the redirect target (`net/http/client.go` `Client.do`,
//!   `uerr`), and after 10 redirects the 11th `Location` (`ue.URL = loc`).
//! * `*net.OpError`: `<op> <net> [<src>-><dst>|<dst>]: <err>` (`net/net.go` `OpError.Error`),
//!   `<err>` a syscall error `connect: connection refused` or a deadline `i/o timeout`. A dial
//!   error means no address connected: Go tries each address in turn and reports the first
//!   address's error (`net/dial.go` `dialSerial` `firstErr`; `dialParallel` returns the primary
//!   family's error), so the address printed is the first one tried.
//! * `*net.DNSError`: `lookup <name>[ on <server>]: <err>` (`net/net.go` `DNSError.Error`), with
//!   `no such host` for NXDOMAIN and for a name without A/AAAA records, `server misbehaving` for
//!   SERVFAIL, REFUSED and every other error rcode alike (`net/dnsclient_unix.go` `checkHeader`,
//!   `skipToAnswer`), or the socket error of the exchange
//!   (`read udp <src>-><server>: i/o timeout`).
//!   `<server>` after `on` comes from resolv.conf; with `--acme-http01-solver-nameservers`
//!   cert-manager's own `Dial` (http.go) connects elsewhere, and only the inner `->` address shows
//!   the server really asked.
//! * `net/http`: `(Client.Timeout exceeded while awaiting headers)` appended when the client's
//!   10 s timeout fired before a response, whatever the stage (`client.go` `Client.do`; while the
//!   dial is still running `Transport.getConn` returns `context deadline exceeded`), `http: server
//!   gave HTTP response to HTTPS client` (`client.go` `send`, a TLS record header reading
//!   `HTTP/`), `stopped after 10 redirects` (`client.go` `defaultCheckRedirect`), and
//!   `proxyconnect tcp: <err>` when the HTTP proxy could not be used (`transport.go` `dialConn`).

use super::ConnectionClass;
use super::text::flat;
use serde::{Deserialize, Serialize};

/// What failed, precisely, in Go's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Failure {
    /// `no such host`: NXDOMAIN, or no A/AAAA record (NODATA) for every name tried.
    NameNotFound,
    /// `server misbehaving`: SERVFAIL, REFUSED or another error rcode (Go prints one text).
    ResolverMisbehaving,
    /// The resolver did not answer in time (`lookup …: … i/o timeout`).
    ResolverTimeout,
    /// The resolver's address could not be reached (`connection refused`, `no route to host`,
    /// `network is unreachable` on the DNS server's address).
    ResolverUnreachable,
    /// The resolver answered something unusable (`no answer from DNS server`, `lame referral`,
    /// `cannot unmarshal DNS message`, `invalid DNS response`).
    ResolverBadAnswer,
    /// Another lookup failure.
    DnsOther,
    /// `connect: connection refused`: a RST came back (nothing listens, or a REJECT rule).
    ConnectRefused,
    /// `connect: connection timed out` (kernel SYN retries) or `dial tcp <addr>: i/o timeout`
    /// (dial deadline): no answer to the SYN.
    ConnectTimeout,
    /// `connect: no route to host` (EHOSTUNREACH: an ICMP unreachable, or no neighbour).
    NoRoute,
    /// `connect: network is unreachable` (ENETUNREACH: no route for that family here).
    NetworkUnreachable,
    /// `connect: cannot assign requested address` (EADDRNOTAVAIL: no source address of that
    /// family, e.g. an IPv6 destination from an IPv4-only pod).
    AddressNotAvailable,
    /// `connect: permission denied` / `operation not permitted`: a local policy refused it.
    ConnectDenied,
    /// `connection reset by peer` / `broken pipe` after the connection was up.
    Reset,
    /// `EOF` / `unexpected EOF`: the peer closed without an HTTP answer.
    Eof,
    /// `context deadline exceeded (Client.Timeout exceeded while awaiting headers)`: no response
    /// within the client timeout; where it stalled (lookup, connect or response) is not known.
    ResponseTimeout,
    /// Connected, then no answer in time (`read tcp …: i/o timeout`, `timeout awaiting response
    /// headers`, or the body timed out).
    ReadTimeout,
    /// TLS failed after a redirect to https (`tls:`, `x509:`, `remote error:`).
    Tls,
    /// `http: server gave HTTP response to HTTPS client`: an https redirect to a port that
    /// speaks plain HTTP.
    PlainHttpOnHttps,
    /// Something answered that is not HTTP (`malformed HTTP response`).
    NotHttp,
    /// `stopped after 10 redirects`.
    RedirectLoop,
    /// Anything else.
    Other,
}

impl Failure {
    /// True for the failures of name resolution.
    pub fn is_dns(self) -> bool {
        matches!(
            self,
            Failure::NameNotFound
                | Failure::ResolverMisbehaving
                | Failure::ResolverTimeout
                | Failure::ResolverUnreachable
                | Failure::ResolverBadAnswer
                | Failure::DnsOther
        )
    }

    /// True for the failures of the TCP connect itself (no connection was made).
    pub fn is_connect(self) -> bool {
        matches!(
            self,
            Failure::ConnectRefused
                | Failure::ConnectTimeout
                | Failure::NoRoute
                | Failure::NetworkUnreachable
                | Failure::AddressNotAvailable
                | Failure::ConnectDenied
        )
    }
}

/// A Go error text taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GoError {
    pub failure: Failure,
    /// `proxyconnect`: the connection was to the HTTP proxy, not to the challenge host.
    pub via_proxy: bool,
    /// The operation of the outermost TCP `OpError` (`dial`, `read`, `write`).
    pub op: Option<String>,
    /// Its remote address (`203.0.113.10:80`).
    pub address: Option<String>,
    /// Its local address, when printed (`10.40.0.16:39910`): the controller pod's own.
    pub source: Option<String>,
    /// The name in `lookup <name>`.
    pub lookup: Option<String>,
    /// The DNS server: the inner `->` address when printed, else the one after `on`.
    pub resolver: Option<String>,
}

impl GoError {
    pub fn class(&self) -> ConnectionClass {
        if self.via_proxy {
            return ConnectionClass::Proxy;
        }
        match self.failure {
            Failure::NameNotFound => ConnectionClass::NoSuchHost,
            f if f.is_dns() => ConnectionClass::Dns,
            Failure::ConnectRefused => ConnectionClass::Refused,
            Failure::ConnectTimeout | Failure::ResponseTimeout | Failure::ReadTimeout => {
                ConnectionClass::Timeout
            }
            Failure::NoRoute | Failure::NetworkUnreachable | Failure::ConnectDenied => {
                ConnectionClass::Unreachable
            }
            Failure::AddressNotAvailable => ConnectionClass::AddressNotAvailable,
            Failure::Reset => ConnectionClass::Reset,
            Failure::Eof => ConnectionClass::Eof,
            Failure::Tls => ConnectionClass::Tls,
            Failure::PlainHttpOnHttps => ConnectionClass::PlainHttpOnHttps,
            Failure::NotHttp => ConnectionClass::NotHttp,
            Failure::RedirectLoop => ConnectionClass::RedirectLoop,
            _ => ConnectionClass::Other,
        }
    }
}

/// One `<op> <net> <addr>: ` of a `net.OpError`, found in the flattened text.
struct OpAt {
    at: usize,
    op: String,
    udp: bool,
    source: Option<String>,
    remote: Option<String>,
}

const OPS: [&str; 3] = ["dial", "read", "write"];
const NETS: [&str; 6] = ["tcp4", "tcp6", "tcp", "udp4", "udp6", "udp"];

/// Every `net.OpError` head in `f` (flattened, lowercase), in order.
fn op_errors(f: &str) -> Vec<OpAt> {
    let mut out = Vec::new();
    for (at, _) in f.char_indices() {
        let boundary = at == 0 || matches!(f.as_bytes()[at - 1], b' ' | b'"' | b'(' | b'[');
        if !boundary {
            continue;
        }
        let rest = &f[at..];
        let Some(op) = OPS.iter().find(|op| rest.starts_with(&format!("{op} "))) else {
            continue;
        };
        let after_op = &rest[op.len() + 1..];
        let Some(net) = NETS.iter().find(|n| after_op.starts_with(**n)) else {
            continue;
        };
        let tail = &after_op[net.len()..];
        let (source, remote) = if tail.starts_with(": ") {
            (None, None)
        } else if let Some(addrs) = tail.strip_prefix(' ') {
            let Some(end) = addrs.find(": ") else {
                continue;
            };
            let token = &addrs[..end];
            if token.contains(' ') {
                continue;
            }
            match token.split_once("->") {
                Some((s, d)) => (Some(s.to_owned()), Some(d.to_owned())),
                None => (None, Some(token.to_owned())),
            }
        } else {
            continue;
        };
        out.push(OpAt {
            at,
            op: (*op).to_owned(),
            udp: net.starts_with("udp"),
            source,
            remote,
        });
    }
    out
}

/// `lookup <name>[ on <server>]: ` at the first `lookup `: (position, name, server).
fn lookup_at(f: &str) -> Option<(usize, String, Option<String>)> {
    let at = f
        .match_indices("lookup ")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || f.as_bytes()[i - 1] == b' ')?;
    let rest = &f[at + "lookup ".len()..];
    let end = rest.find(": ")?;
    let head = &rest[..end];
    let (name, server) = match head.split_once(" on ") {
        Some((n, s)) => (n, Some(s.to_owned())),
        None => (head, None),
    };
    if name.is_empty() || name.contains(' ') {
        return None;
    }
    Some((at, name.to_owned(), server))
}

/// True when some `: `-separated part of `f` is Go's `EOF` (`io.EOF`, `io.ErrUnexpectedEOF`).
fn has_eof(f: &str) -> bool {
    f.split(": ").any(|part| {
        let p = part.trim();
        p == "eof"
            || p.starts_with("eof (")
            || p == "unexpected eof"
            || p.starts_with("unexpected eof (")
    })
}

/// The failure of a resolver, from the text after `lookup …: `.
fn dns_failure(f: &str) -> Failure {
    if f.contains("no such host") {
        Failure::NameNotFound
    } else if f.contains("server misbehaving") {
        Failure::ResolverMisbehaving
    } else if f.contains("i/o timeout") || f.contains("timeout") || f.contains("deadline exceeded")
    {
        Failure::ResolverTimeout
    } else if f.contains("connection refused")
        || f.contains("no route to host")
        || f.contains("network is unreachable")
        || f.contains("cannot assign requested address")
        || f.contains("permission denied")
        || f.contains("operation not permitted")
    {
        Failure::ResolverUnreachable
    } else if f.contains("no answer from dns server")
        || f.contains("lame referral")
        || f.contains("cannot unmarshal dns message")
        || f.contains("cannot marshal dns message")
        || f.contains("invalid dns response")
    {
        Failure::ResolverBadAnswer
    } else {
        Failure::DnsOther
    }
}

/// The failure of a connect (`dial`), from its syscall text; None if it is not one.
fn connect_failure(f: &str) -> Option<Failure> {
    Some(if f.contains("connection refused") {
        Failure::ConnectRefused
    } else if f.contains("connection timed out") || f.contains("i/o timeout") {
        Failure::ConnectTimeout
    } else if f.contains("no route to host") {
        Failure::NoRoute
    } else if f.contains("network is unreachable") {
        Failure::NetworkUnreachable
    } else if f.contains("cannot assign requested address") {
        Failure::AddressNotAvailable
    } else if f.contains("permission denied") || f.contains("operation not permitted") {
        Failure::ConnectDenied
    } else if f.contains("connection reset by peer") {
        Failure::Reset
    } else {
        return None;
    })
}

/// Take a Go error text apart (the part after `Get "<url>": `, or any Go error text).
pub(super) fn analyse(text: &str) -> GoError {
    let f = flat(text);
    let via_proxy = f.starts_with("proxyconnect ") || f.contains(" proxyconnect ");
    let ops = op_errors(&f);
    let lookup = lookup_at(&f);
    let lookup_pos = lookup.as_ref().map(|(at, ..)| *at);
    // The connection's own OpError stands before any lookup; the lookup's socket error after.
    let main = ops
        .iter()
        .find(|o| !o.udp && lookup_pos.is_none_or(|l| o.at < l));
    let dns_socket = lookup_pos.and_then(|l| ops.iter().find(|o| o.at > l));
    let mut e = GoError {
        failure: Failure::Other,
        via_proxy,
        op: main.map(|o| o.op.clone()),
        address: main.and_then(|o| o.remote.clone()),
        source: main.and_then(|o| o.source.clone()),
        lookup: None,
        resolver: None,
    };
    if let Some((at, name, server)) = lookup {
        e.lookup = Some(name);
        e.resolver = dns_socket.and_then(|o| o.remote.clone()).or(server);
        e.failure = dns_failure(&f[at..]);
        return e;
    }
    e.failure = if f.contains("stopped after 10 redirects") {
        Failure::RedirectLoop
    } else if f.contains("server gave http response to https client") {
        Failure::PlainHttpOnHttps
    } else if f.contains("tls:")
        || f.contains("x509:")
        || f.contains("remote error:")
        || f.contains("tls handshake")
    {
        Failure::Tls
    } else if let Some(c) = main
        .filter(|o| o.op == "dial" && o.remote.is_some())
        .and_then(|o| connect_failure(&f[o.at..]))
    {
        c
    } else if f.contains("connection reset by peer") || f.contains("broken pipe") {
        Failure::Reset
    } else if f.contains("malformed http") || f.contains("transport connection broken: malformed") {
        Failure::NotHttp
    } else if f.contains("timeout awaiting response headers")
        || f.contains("while reading body")
        || main.is_some_and(|o| o.op == "read") && f.contains("i/o timeout")
    {
        Failure::ReadTimeout
    } else if f.contains("request canceled while waiting for connection") {
        // net/http transport.go errRequestCanceledConn: the request was cancelled (the client
        // timeout, in Go versions that cancel through it) before a connection was ready.
        Failure::ResponseTimeout
    } else if has_eof(&f) {
        Failure::Eof
    } else if f.contains("client.timeout exceeded")
        || f.contains("context deadline exceeded")
        || f.contains("i/o timeout")
        || f.contains("request canceled")
    {
        Failure::ResponseTimeout
    } else if let Some(c) = connect_failure(&f).filter(|_| main.is_none()) {
        // A syscall text without a parseable `dial tcp <addr>` head.
        c
    } else {
        Failure::Other
    };
    e
}

/// Classify a Go network error text (kept for callers that only need the coarse class).
pub fn connection_class(text: &str) -> ConnectionClass {
    analyse(text).class()
}
