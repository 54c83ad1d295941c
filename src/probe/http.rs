//! One attempt: a fresh TCP connection to a chosen address, a GET as cert-manager sends it,
//! redirects followed under Go's rules, every read bounded in bytes and time. The observed chain
//! is then judged twice: by cert-manager's rules and by the CA's (see [`judge`]).

use super::fingerprint::{self, Response};
use super::plan::{CaProfile, ErrorClass, Hop, KeyMatch, ProxySettings};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// cert-manager reads at most this much body (`maxAcmeChallengeBodySize`).
pub const BODY_CAP: usize = 1 << 20;
/// Go's default redirect limit.
pub const MAX_REDIRECTS: usize = 10;
/// Let's Encrypt compares at most this many body bytes.
pub const ACME_BODY_CAP: usize = 128;
/// Headers kept in reports.
const KEPT_HEADERS: &[&str] = &[
    "server",
    "via",
    "content-type",
    "content-length",
    "content-encoding",
    "location",
    "www-authenticate",
    "cache-control",
    "cf-ray",
    "x-envoy-upstream-service-time",
];

/// Settings shared by every attempt of a plan.
#[derive(Clone)]
pub struct Settings {
    pub user_agent: String,
    pub timeout: Duration,
    pub expected_key: String,
    /// `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` as the cert-manager controller has them.
    pub proxy: Option<ProxySettings>,
    /// Send a PROXY protocol v1 preamble on connections to the address under test.
    pub proxy_protocol: bool,
    tls: Arc<rustls::ClientConfig>,
}

impl Settings {
    pub fn new(user_agent: &str, timeout: Duration, expected_key: &str) -> Self {
        Settings {
            user_agent: user_agent.to_owned(),
            timeout,
            expected_key: expected_key.to_owned(),
            proxy: None,
            proxy_protocol: false,
            tls: tls_config(),
        }
    }

    /// The proxy Go's `http.ProxyFromEnvironment` would use for `url`, if any.
    pub fn proxy_for(&self, url: &Url) -> Option<String> {
        proxy_for(self.proxy.as_ref()?, url)
    }
}

/// The proxy Go's `http.ProxyFromEnvironment` picks for `url` under these settings, if any
/// (`NO_PROXY` entries: `*`, host names and domain suffixes, IPs, CIDRs; loopback never).
pub fn proxy_for(p: &ProxySettings, url: &Url) -> Option<String> {
    let proxy = if url.scheme == "https" {
        p.https.as_ref()
    } else {
        p.http.as_ref()
    }?;
    if proxy.is_empty() || is_loopback_host(&url.host) {
        return None;
    }
    let host = url.host.to_ascii_lowercase();
    let excluded = p
        .no_proxy
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            let entry = entry.to_ascii_lowercase();
            let entry = entry.split(':').next().unwrap_or("").to_owned();
            entry == "*"
                || host == entry.trim_start_matches('.')
                || host.ends_with(&format!(".{}", entry.trim_start_matches('.')))
                || cidr_contains(&entry, &host)
        });
    (!excluded).then(|| proxy.clone())
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `10.0.0.0/8` contains `10.1.2.3` (IPv4 and IPv6).
fn cidr_contains(cidr: &str, host: &str) -> bool {
    let (Some((net, bits)), Ok(ip)) = (cidr.split_once('/'), host.parse::<IpAddr>()) else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// rustls without certificate verification (as cert-manager and the CAs: `InsecureSkipVerify`),
/// HTTP/1.1 only, SNI sent.
fn tls_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AcceptAnyCert(provider.clone()));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            // Only fails for an inconsistent provider; the ring provider is consistent.
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap_or_else(|_| unreachable_config())
        });
    let mut cfg = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

fn unreachable_config() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13])
}

#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

/// The parts of an http(s) URL the probe needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    /// Host without brackets.
    pub host: String,
    pub port: u16,
    /// Whether the port was written in the URL.
    pub explicit_port: bool,
    /// Path and query.
    pub path: String,
}

impl Url {
    pub fn parse(s: &str) -> Result<Url, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("not an absolute URL: {s:?}"))?;
        let scheme = scheme.to_ascii_lowercase();
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

    /// Resolve a `Location` value against this URL (absolute, scheme-relative, absolute-path,
    /// relative-path).
    pub fn join(&self, location: &str) -> Result<Url, String> {
        let location = location.trim();
        if location.contains("://") {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme));
        }
        let path = if location.starts_with('/') {
            location.to_owned()
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Ok(Url {
            path,
            ..self.clone()
        })
    }

    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    fn authority(&self) -> String {
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
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority(), self.path)
    }
}

// ---------------------------------------------------------------------------------------------
// One attempt
// ---------------------------------------------------------------------------------------------

/// What one attempt observed.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub hops: Vec<Hop>,
    /// The final response (after redirects), if one arrived.
    pub status: Option<u16>,
    pub body: Vec<u8>,
    /// Total body length read (capped at [`BODY_CAP`] + 1).
    pub body_len: u64,
    pub responder: String,
    /// Where it ended, if it did not end with a response.
    pub error_class: Option<ErrorClass>,
    /// The error as Go would word it (`dial tcp 192.0.2.1:80: i/o timeout`).
    pub error: Option<String>,
    pub connect_ms: Option<u64>,
    pub total_ms: u64,
}

impl Exchange {
    /// The URL of the hop the attempt ended on.
    pub fn last_url(&self) -> &str {
        self.hops.last().map_or("", |h| h.url.as_str())
    }
}

struct Progress {
    ex: Exchange,
    connected: bool,
    started: Instant,
}

/// Run one attempt of `url` whose first hop connects to `first` (the address under test).
pub async fn attempt(url: &Url, first: SocketAddr, settings: &Settings) -> Exchange {
    let mut p = Progress {
        ex: Exchange::default(),
        connected: false,
        started: Instant::now(),
    };
    let result = tokio::time::timeout(settings.timeout, follow(url, first, settings, &mut p)).await;
    if result.is_err() {
        let (class, msg) = if p.connected {
            (
                ErrorClass::Timeout,
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                    .to_owned(),
            )
        } else {
            let addr =
                p.ex.hops
                    .last()
                    .map(|h| h.address.clone())
                    .unwrap_or_default();
            (
                ErrorClass::ConnectTimeout,
                format!("dial tcp {addr}: i/o timeout"),
            )
        };
        if let Some(h) = p.ex.hops.last_mut()
            && h.error_class.is_none()
            && h.status.is_none()
        {
            h.error_class = Some(class);
            h.error = Some(msg.clone());
        }
        p.ex.status = None;
        p.ex.error_class = Some(class);
        p.ex.error = Some(msg);
    }
    p.ex.total_ms = p.started.elapsed().as_millis() as u64;
    p.ex
}

async fn follow(url: &Url, first: SocketAddr, s: &Settings, p: &mut Progress) {
    let mut current = url.clone();
    for hop_index in 0..=MAX_REDIRECTS {
        // Through a proxy the proxy resolves the name; otherwise the first hop dials the
        // address under test and later hops resolve their host.
        let proxy = s.proxy_for(&current);
        let addr = match (&proxy, hop_index) {
            (Some(proxy), _) => match Url::parse(proxy) {
                Ok(pu) => resolve_hop(&pu)
                    .await
                    .map_err(|(_, m)| (ErrorClass::ProxyError, format!("proxyconnect tcp: {m}"))),
                Err(e) => Err((ErrorClass::ProxyError, format!("invalid proxy URL: {e}"))),
            },
            (None, 0) => Ok(first),
            (None, _) => resolve_hop(&current).await,
        };
        p.ex.hops.push(Hop {
            url: current.to_string(),
            ..Default::default()
        });
        let addr = match addr {
            Ok(a) => a,
            Err((class, msg)) => return fail(p, class, msg),
        };
        if let Some(h) = p.ex.hops.last_mut() {
            h.address = addr.to_string();
        }
        p.connected = false;
        // A load balancer adds the preamble on its own connections only: those to the address
        // under test, never through an HTTP proxy.
        let preamble = s.proxy_protocol && proxy.is_none() && addr.ip() == first.ip();
        match one_hop(&current, addr, proxy.is_some(), preamble, s, p).await {
            Err((class, msg)) => return fail(p, class, msg),
            Ok(HopResult::Final) => return,
            Ok(HopResult::Redirect(location)) => match current.join(&location) {
                Ok(next) if next.scheme == "http" || next.scheme == "https" => current = next,
                Ok(next) => {
                    return fail(
                        p,
                        ErrorClass::RedirectInvalid,
                        format!("unsupported protocol scheme {:?}", next.scheme),
                    );
                }
                Err(e) => return fail(p, ErrorClass::RedirectInvalid, e),
            },
        }
    }
    fail(
        p,
        ErrorClass::RedirectLimit,
        "stopped after 10 redirects".to_owned(),
    );
}

fn fail(p: &mut Progress, class: ErrorClass, msg: String) {
    if let Some(h) = p.ex.hops.last_mut()
        && h.error_class.is_none()
    {
        h.error_class = Some(class);
        h.error = Some(msg.clone());
    }
    p.ex.status = None;
    p.ex.error_class = Some(class);
    p.ex.error = Some(msg);
}

async fn resolve_hop(url: &Url) -> Result<SocketAddr, (ErrorClass, String)> {
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, url.port));
    }
    match tokio::net::lookup_host((url.host.as_str(), url.port)).await {
        Ok(mut addrs) => addrs.next().ok_or((
            ErrorClass::DnsNoRecords,
            format!("dial tcp: lookup {}: no such host", url.host),
        )),
        Err(e) => Err((
            ErrorClass::DnsError,
            format!("dial tcp: lookup {}: {e}", url.host),
        )),
    }
}

enum HopResult {
    Final,
    Redirect(String),
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

fn dial_error(addr: SocketAddr, e: &std::io::Error) -> (ErrorClass, String) {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => (
            ErrorClass::ConnectRefused,
            format!("dial tcp {addr}: connect: connection refused"),
        ),
        NetworkUnreachable | HostUnreachable => (
            ErrorClass::NetworkUnreachable,
            format!(
                "dial tcp {addr}: connect: {}",
                e.to_string().to_ascii_lowercase()
            ),
        ),
        TimedOut => (
            ErrorClass::ConnectTimeout,
            format!("dial tcp {addr}: i/o timeout"),
        ),
        _ => (ErrorClass::Io, format!("dial tcp {addr}: {e}")),
    }
}

async fn one_hop(
    url: &Url,
    addr: SocketAddr,
    proxied: bool,
    preamble: bool,
    s: &Settings,
    p: &mut Progress,
) -> Result<HopResult, (ErrorClass, String)> {
    let connect_start = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.map_err(|e| {
        let (class, msg) = dial_error(addr, &e);
        if proxied {
            (ErrorClass::ProxyError, format!("proxyconnect tcp: {msg}"))
        } else {
            (class, msg)
        }
    })?;
    if proxied && url.scheme == "https" {
        connect_tunnel(&mut tcp, url).await?;
    }
    if preamble {
        use tokio::io::AsyncWriteExt;
        let line = proxy_v1_preamble(&tcp).map_err(|e| (ErrorClass::Io, e.to_string()))?;
        tcp.write_all(line.as_bytes()).await.map_err(|e| {
            (
                ErrorClass::ConnectionReset,
                format!("write PROXY preamble: {e}"),
            )
        })?;
    }
    let _ = tcp.set_nodelay(true);
    p.connected = true;
    if p.ex.connect_ms.is_none() {
        p.ex.connect_ms = Some(connect_start.elapsed().as_millis() as u64);
    }
    let stream: Box<dyn Stream> = if url.scheme == "https" {
        let name = rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(|_| {
            (
                ErrorClass::TlsFailure,
                format!("invalid TLS server name {:?}", url.host),
            )
        })?;
        let connector = tokio_rustls::TlsConnector::from(s.tls.clone());
        match connector.connect(name, tcp).await {
            Ok(tls) => Box::new(tls),
            Err(e) => return Err(tls_error(&e)),
        }
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .handshake::<_, http_body_util::Empty<bytes_alias::Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| hyper_error(&e))?;
    let conn_task = tokio::spawn(async move {
        let _ = conn.await;
    });
    // Through a proxy, plain http goes in absolute form (`GET http://host/path`).
    let target = if proxied && url.scheme == "http" {
        url.to_string()
    } else {
        url.path.clone()
    };
    let req = hyper::Request::get(target.as_str())
        .header(hyper::header::HOST, url.authority())
        .header(hyper::header::USER_AGENT, s.user_agent.as_str())
        .header(hyper::header::ACCEPT_ENCODING, "gzip")
        .header(hyper::header::CONNECTION, "close")
        .body(http_body_util::Empty::new())
        .map_err(|e| (ErrorClass::Io, e.to_string()))?;
    let result = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| hyper_error(&e))?;
        handle_response(resp, s, p).await
    }
    .await;
    conn_task.abort();
    result
}

/// `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` for this connection (TCP6 for IPv6).
pub fn proxy_v1_preamble(tcp: &TcpStream) -> std::io::Result<String> {
    Ok(proxy_v1_line(tcp.local_addr()?, tcp.peer_addr()?))
}

fn proxy_v1_line(src: SocketAddr, dst: SocketAddr) -> String {
    let family = if src.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {family} {} {} {} {}\r\n",
        src.ip(),
        dst.ip(),
        src.port(),
        dst.port()
    )
}

/// `CONNECT host:port` through an HTTP proxy; the tunnel then carries TLS.
async fn connect_tunnel(tcp: &mut TcpStream, url: &Url) -> Result<(), (ErrorClass, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = format!(
        "{}:{}",
        if url.host.contains(':') {
            format!("[{}]", url.host)
        } else {
            url.host.clone()
        },
        url.port
    );
    let req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    let io_err = |e: std::io::Error| (ErrorClass::ProxyError, format!("proxyconnect tcp: {e}"));
    tcp.write_all(req.as_bytes()).await.map_err(io_err)?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Read the proxy's answer byte by byte up to the blank line (bounded: 8 KiB).
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || tcp.read(&mut byte).await.map_err(io_err)? == 0 {
            return Err((ErrorClass::ProxyError, "proxyconnect tcp: EOF".to_owned()));
        }
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err((
            ErrorClass::ProxyError,
            format!("proxy refused CONNECT: {status}"),
        ));
    }
    Ok(())
}

mod bytes_alias {
    pub use hyper::body::Bytes;
}

fn tls_error(e: &std::io::Error) -> (ErrorClass, String) {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
        || lower.contains("invalid content type")
    {
        (
            ErrorClass::HttpOnHttpsPort,
            "http: server gave HTTP response to HTTPS client".to_owned(),
        )
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        (
            ErrorClass::TlsFailure,
            "remote error: tls: handshake failure (EOF)".to_owned(),
        )
    } else {
        (ErrorClass::TlsFailure, format!("tls: {text}"))
    }
}

fn hyper_error(e: &hyper::Error) -> (ErrorClass, String) {
    use std::error::Error;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionReset => (
                    ErrorClass::ConnectionReset,
                    "read: connection reset by peer".to_owned(),
                ),
                std::io::ErrorKind::UnexpectedEof => (ErrorClass::Eof, "EOF".to_owned()),
                _ => (ErrorClass::Io, io.to_string()),
            };
        }
        source = s.source();
    }
    if e.is_incomplete_message() || e.is_canceled() {
        (ErrorClass::Eof, "EOF".to_owned())
    } else if e.is_parse() || e.is_parse_status() {
        (
            ErrorClass::HttpProtocol,
            format!("malformed HTTP response: {e}"),
        )
    } else {
        (ErrorClass::HttpProtocol, e.to_string())
    }
}

async fn handle_response(
    resp: hyper::Response<Incoming>,
    s: &Settings,
    p: &mut Progress,
) -> Result<HopResult, (ErrorClass, String)> {
    let status = resp.status().as_u16();
    let mut headers = BTreeMap::new();
    for (name, value) in resp.headers() {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.entry(name.as_str().to_owned()).or_insert(v);
    }
    let location = headers.get("location").cloned();
    let is_redirect = matches!(status, 301 | 302 | 303 | 307 | 308) && location.is_some();
    // Redirect bodies are not needed; final bodies are read up to the cap.
    let cap = if is_redirect { 0 } else { BODY_CAP + 1 };
    let gzip = headers
        .get("content-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let (raw, read_error) = read_capped(resp.into_body(), cap).await;
    let body = if gzip {
        gunzip_capped(&raw, BODY_CAP + 1)
    } else {
        raw
    };
    let is_key = body == s.expected_key.as_bytes();
    let responder = fingerprint::identify(&Response {
        status,
        headers: &headers,
        body: &body,
        is_key,
    });
    let kept: BTreeMap<String, String> = headers
        .into_iter()
        .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
        .collect();
    if let Some(h) = p.ex.hops.last_mut() {
        h.status = Some(status);
        h.location = location.clone();
        h.responder = responder.clone();
        h.headers = kept;
    }
    if is_redirect {
        return Ok(HopResult::Redirect(location.unwrap_or_default()));
    }
    p.ex.status = Some(status);
    p.ex.body_len = body.len() as u64;
    p.ex.responder = responder;
    if body.len() > BODY_CAP {
        p.ex.error_class = Some(ErrorClass::BodyTooLarge);
        p.ex.body = body[..BODY_CAP].to_vec();
    } else {
        p.ex.body = body;
    }
    if let Some((class, msg)) = read_error
        && status == 200
    {
        // cert-manager: "failed to read response body: ..."
        p.ex.error_class = Some(class);
        p.ex.error = Some(msg);
    }
    Ok(HopResult::Final)
}

/// Read at most `cap` bytes of a body; a read error is returned alongside what was read.
async fn read_capped(mut body: Incoming, cap: usize) -> (Vec<u8>, Option<(ErrorClass, String)>) {
    let mut out = Vec::new();
    if cap == 0 {
        return (out, None);
    }
    while out.len() < cap {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = cap - out.len();
                    out.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Some(Err(e)) => return (out, Some(hyper_error(&e))),
        }
    }
    (out, None)
}

fn gunzip_capped(raw: &[u8], cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(raw).take(cap as u64);
    match decoder.read_to_end(&mut out) {
        Ok(_) => out,
        Err(_) => raw.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Judging one exchange under both rule sets
// ---------------------------------------------------------------------------------------------

/// The verdict of one validator on one exchange.
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

/// Judge an exchange the way cert-manager's self check and the CA of `ca` would.
pub fn judge(ex: &Exchange, first_url: &str, key: &str, ca: CaProfile) -> Judgement {
    let key_match = match ex.status {
        Some(200) if ex.error_class.is_none() && ex.body == key.as_bytes() => KeyMatch::Exact,
        Some(200)
            if trim_end_ws(&ex.body[..ex.body.len().min(ACME_BODY_CAP)]) == key.as_bytes() =>
        {
            KeyMatch::Trimmed
        }
        Some(200) => KeyMatch::No,
        _ => KeyMatch::NotApplicable,
    };
    // cert-manager (Go net/http defaults).
    let cert_manager_error = match (&ex.error, ex.status) {
        (Some(err), None) => format!(
            "failed to perform self check GET request '{first_url}': Get \"{}\": {err}",
            ex.last_url()
        ),
        (Some(err), Some(200)) if ex.error_class != Some(ErrorClass::BodyTooLarge) => {
            format!("failed to read response body: {err}")
        }
        (_, Some(code)) if code != 200 => format!("wrong status code '{code}', expected '200'"),
        _ if key_match == KeyMatch::Exact => String::new(),
        _ => {
            let got = String::from_utf8_lossy(&ex.body[..ex.body.len().min(24)])
                .trim()
                .to_owned();
            let more = if ex.body.len() > 24 {
                "... (truncated)"
            } else {
                ""
            };
            format!(
                "did not get expected response when querying endpoint, expected {key:?} but got: {got}{more}"
            )
        }
    };
    let acme_error = acme_problem(ex, key, key_match, ca);
    Judgement {
        key_match,
        cert_manager_pass: cert_manager_error.is_empty(),
        cert_manager_error,
        acme_pass: acme_error.is_empty(),
        acme_error,
    }
}

fn trim_end_ws(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &b[..end]
}

/// The CA's view of the same chain. Let's Encrypt: redirects only to ports 80/443, http(s),
/// no IP hosts; body compared after trimming, first 128 bytes. Pebble and private servers
/// follow Go's redirect rules.
fn acme_problem(ex: &Exchange, key: &str, key_match: KeyMatch, ca: CaProfile) -> String {
    let addr = ex
        .hops
        .first()
        .map(|h| h.address.split(':').next().unwrap_or("").to_owned())
        .unwrap_or_default();
    let ip = ex
        .hops
        .first()
        .map(|h| host_of(&h.address))
        .unwrap_or_default();
    let _ = addr;
    if ca == CaProfile::Letsencrypt {
        for hop in ex.hops.iter().skip(1) {
            let Ok(u) = Url::parse(&hop.url) else {
                continue;
            };
            if u.scheme != "http" && u.scheme != "https" {
                return format!(
                    "{ip}: Invalid protocol scheme in redirect target. Only \"http\" and \"https\" protocol schemes are supported, not {:?}",
                    u.scheme
                );
            }
            if u.explicit_port && u.port != 80 && u.port != 443 {
                return format!(
                    "{ip}: Invalid port in redirect target. Only ports 80 and 443 are supported, not {}",
                    u.port
                );
            }
            if u.host_is_ip() {
                return format!(
                    "{ip}: Invalid host in redirect target {:?}. Only domain names are supported, not IP addresses",
                    u.host
                );
            }
        }
    }
    let url = ex.last_url();
    if let Some(class) = ex.error_class.filter(|_| ex.status.is_none()) {
        return match class {
            ErrorClass::ConnectTimeout => {
                format!("{ip}: Fetching {url}: Timeout during connect (likely firewall problem)")
            }
            ErrorClass::Timeout => format!(
                "{ip}: Fetching {url}: Timeout after connect (your server may be slow or overloaded)"
            ),
            ErrorClass::ConnectRefused => format!("{ip}: Fetching {url}: Connection refused"),
            ErrorClass::ConnectionReset => {
                format!("{ip}: Fetching {url}: Connection reset by peer")
            }
            ErrorClass::HttpOnHttpsPort => {
                format!("{ip}: Fetching {url}: Server only speaks HTTP, not TLS")
            }
            ErrorClass::RedirectLimit => format!("{ip}: Fetching {url}: Too many redirects"),
            _ => format!(
                "{ip}: Fetching {url}: {}",
                ex.error.as_deref().unwrap_or(class.as_str())
            ),
        };
    }
    match ex.status {
        Some(200) if matches!(key_match, KeyMatch::Exact | KeyMatch::Trimmed) => String::new(),
        Some(200) => {
            let got =
                String::from_utf8_lossy(trim_end_ws(&ex.body[..ex.body.len().min(ACME_BODY_CAP)]))
                    .into_owned();
            format!(
                "{ip}: The key authorization file from the server did not match this challenge. Expected {key:?} (got {got:?})"
            )
        }
        Some(code) => format!("{ip}: Invalid response from {url}: {code}"),
        None => format!("{ip}: Fetching {url}: no response"),
    }
}

fn host_of(addr: &str) -> String {
    addr.parse::<SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| addr.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_selection_like_go() {
        let mut s = Settings::new("ua", Duration::from_secs(1), "k");
        let u = |t: &str| Url::parse(t).unwrap();
        assert_eq!(s.proxy_for(&u("http://a.test/x")), None);
        s.proxy = Some(ProxySettings {
            http: Some("http://192.0.2.8:3128".into()),
            https: None,
            no_proxy: Some("internal.test, .svc,10.0.0.0/8".into()),
        });
        assert_eq!(
            s.proxy_for(&u("http://a.test/x")).as_deref(),
            Some("http://192.0.2.8:3128")
        );
        assert_eq!(s.proxy_for(&u("https://a.test/x")), None, "no HTTPS_PROXY");
        assert_eq!(s.proxy_for(&u("http://app.internal.test/x")), None);
        assert_eq!(s.proxy_for(&u("http://x.ns.svc/x")), None);
        assert_eq!(s.proxy_for(&u("http://10.1.2.3/x")), None);
        assert_eq!(
            s.proxy_for(&u("http://127.0.0.1/x")),
            None,
            "loopback is never proxied"
        );
    }

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
    }

    fn ex(hops: &[&str], status: Option<u16>, body: &str) -> Exchange {
        Exchange {
            hops: hops
                .iter()
                .map(|u| Hop {
                    url: u.to_string(),
                    address: "192.0.2.10:80".into(),
                    ..Default::default()
                })
                .collect(),
            status,
            body: body.as_bytes().to_vec(),
            body_len: body.len() as u64,
            ..Default::default()
        }
    }

    const URL: &str = "http://a.test/.well-known/acme-challenge/t";

    #[test]
    fn judging_bodies() {
        let j = judge(
            &ex(&[URL], Some(200), "t.k"),
            URL,
            "t.k",
            CaProfile::Letsencrypt,
        );
        assert!(j.cert_manager_pass && j.acme_pass && j.key_match == KeyMatch::Exact);
        let j = judge(
            &ex(&[URL], Some(200), "t.k\n"),
            URL,
            "t.k",
            CaProfile::Letsencrypt,
        );
        assert_eq!(j.key_match, KeyMatch::Trimmed);
        assert!(!j.cert_manager_pass && j.acme_pass);
        assert!(
            j.cert_manager_error
                .starts_with("did not get expected response"),
            "{}",
            j.cert_manager_error
        );
        let j = judge(
            &ex(&[URL], Some(404), ""),
            URL,
            "t.k",
            CaProfile::Letsencrypt,
        );
        assert_eq!(
            j.cert_manager_error,
            "wrong status code '404', expected '200'"
        );
        assert_eq!(
            j.acme_error,
            format!("192.0.2.10: Invalid response from {URL}: 404")
        );
    }

    #[test]
    fn judging_redirects() {
        let chain = [URL, "https://a.test:8443/.well-known/acme-challenge/t"];
        let j = judge(
            &ex(&chain, Some(200), "t.k"),
            URL,
            "t.k",
            CaProfile::Letsencrypt,
        );
        assert!(j.cert_manager_pass);
        assert!(
            !j.acme_pass && j.acme_error.contains("Invalid port in redirect target"),
            "{}",
            j.acme_error
        );
        // Pebble follows Go's rules.
        assert!(judge(&ex(&chain, Some(200), "t.k"), URL, "t.k", CaProfile::Pebble).acme_pass);
        let ip = [URL, "http://192.0.2.7/.well-known/acme-challenge/t"];
        assert!(
            !judge(
                &ex(&ip, Some(200), "t.k"),
                URL,
                "t.k",
                CaProfile::Letsencrypt
            )
            .acme_pass
        );
    }
}
