//! One attempt: a fresh TCP connection to a chosen address, a GET as cert-manager sends it,
//! redirects followed as Go's client follows them (and one more, for Boulder's 11), every read
//! bounded in bytes and time. The observed chain is then judged by each validator's rules
//! ([`super::judge`]).
//!
//! * The first hop dials the address under test; a redirect hop resolves its host with the
//!   resolver the self check uses (the plan's nameservers, else the system's) and dials like Go
//!   (RFC 6724 order, `dialSerial`, Happy Eyeballs: [`super::addrsel`]), recording what it
//!   resolved so a CA that dials differently can be judged ([`Hop::resolved`]).
//! * With nameservers, every hop's lookup and connect share 3 s, as cert-manager's
//!   `net.Dialer{Timeout: 3s}` (`pkg/issuer/acme/http/http.go` `testReachability`).
//! * The attempt runs until the CA's deadline ([`Settings::ca_timeout`]); what cert-manager's
//!   own 10 s `Client.Timeout` would have cut is recorded in
//!   [`Exchange::cert_manager_timeout`]. An attempt not connected by then ends there (Boulder's
//!   dial timeout is the same 10 s).

use super::dns::{self, Source};
use super::fingerprint::{self, Response};
use super::judge::{BODY_CAP, BOULDER_MAX_REDIRECTS};
use super::plan::{ErrorClass, Hop, ProxySettings};
use super::proxy::{ProxyUrl, proxy_url_for};
use super::wire;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub use super::judge::{Judgement, judge};
pub use super::proxy::proxy_for;
pub use super::url::Url;
pub use super::wire::proxy_v1_preamble;

/// cert-manager's solver-nameservers dialer: lookup and connect of one hop within 3 s.
pub const NAMESERVER_DIAL_BUDGET: Duration = Duration::from_secs(3);

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
    /// cert-manager's `Client.Timeout` (10 s).
    pub timeout: Duration,
    /// How long the CA waits (never shorter than `timeout`): attempts that connected keep going
    /// until then.
    pub ca_timeout: Duration,
    pub expected_key: String,
    /// `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` as the cert-manager controller has them.
    pub proxy: Option<ProxySettings>,
    /// Send a PROXY protocol v1 preamble on connections to the address under test.
    pub proxy_protocol: bool,
    /// cert-manager's `--acme-http01-solver-nameservers` (empty: the system resolver).
    pub nameservers: Vec<SocketAddr>,
    tls: Arc<rustls::ClientConfig>,
}

impl Settings {
    pub fn new(user_agent: &str, timeout: Duration, expected_key: &str) -> Self {
        Settings {
            user_agent: user_agent.to_owned(),
            timeout,
            ca_timeout: timeout,
            expected_key: expected_key.to_owned(),
            proxy: None,
            proxy_protocol: false,
            nameservers: Vec::new(),
            tls: wire::tls_config(),
        }
    }

    /// The proxy Go's `http.ProxyFromEnvironment` would use for `url`, if any.
    pub fn proxy_for(&self, url: &Url) -> Option<String> {
        proxy_for(self.proxy.as_ref()?, url)
    }

    fn proxy_url(&self, url: &Url) -> Option<ProxyUrl> {
        proxy_url_for(self.proxy.as_ref()?, url)
    }

    fn source(&self) -> Source {
        if self.nameservers.is_empty() {
            Source::System
        } else {
            Source::Servers(self.nameservers.clone())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One attempt
// ---------------------------------------------------------------------------------------------

/// What one attempt observed.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// Every request sent, in order; a hop with a 3xx status and a `location` redirected.
    pub hops: Vec<Hop>,
    /// The final response (after redirects), if one arrived.
    pub status: Option<u16>,
    /// The final body (decoded), at most [`BODY_CAP`] bytes.
    pub body: Vec<u8>,
    /// Total body length read (capped at [`BODY_CAP`] + 1).
    pub body_len: u64,
    /// Reading the final body failed after the headers arrived (class, Go's text).
    pub body_error: Option<(ErrorClass, String)>,
    pub responder: String,
    /// Where it ended, if it did not end with a complete response.
    pub error_class: Option<ErrorClass>,
    /// The error as Go would word it (`dial tcp 192.0.2.1:80: i/o timeout`).
    pub error: Option<String>,
    /// cert-manager's `Client.Timeout` expired before the attempt ended: (class, Go's text,
    /// URL of the request in flight).
    pub cert_manager_timeout: Option<(ErrorClass, String, String)>,
    pub connect_ms: Option<u64>,
    pub total_ms: u64,
}

impl Exchange {
    /// The URL of the hop the attempt ended on.
    pub fn last_url(&self) -> &str {
        self.hops.last().map_or("", |h| h.url.as_str())
    }

    /// Redirect responses received (hops that answered 3xx with a `Location` and were followed
    /// or refused for being one too many).
    pub fn redirects(&self) -> usize {
        self.hops
            .iter()
            .filter(|h| {
                matches!(h.status, Some(301 | 302 | 303 | 307 | 308))
                    && h.location.as_deref().is_some_and(|l| !l.is_empty())
            })
            .count()
    }
}

/// What the attempt is doing right now, readable while it runs (for the deadline).
#[derive(Default)]
struct Watch {
    hop: AtomicUsize,
    connected: AtomicBool,
    headers: AtomicBool,
    dialing: Mutex<String>,
    url: Mutex<String>,
}

impl Watch {
    fn set(&self, m: &Mutex<String>, v: String) {
        if let Ok(mut g) = m.lock() {
            *g = v;
        }
    }
    fn get(&self, m: &Mutex<String>) -> String {
        m.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

struct Progress {
    ex: Exchange,
    started: Instant,
    watch: Arc<Watch>,
}

/// Run one attempt of `url` whose first hop connects to `first` (the address under test).
pub async fn attempt(url: &Url, first: SocketAddr, settings: &Settings) -> Exchange {
    let watch = Arc::new(Watch::default());
    let mut p = Progress {
        ex: Exchange::default(),
        started: Instant::now(),
        watch: watch.clone(),
    };
    let cm = settings.timeout;
    let ca = settings.ca_timeout.max(cm);
    let (outcome, cm_expired) = {
        let fut = follow(url, first, settings, &mut p);
        tokio::pin!(fut);
        match tokio::time::timeout(cm, &mut fut).await {
            Ok(()) => (Ok(()), false),
            Err(_) if !watch.connected.load(Ordering::SeqCst) || ca <= cm => (Err(()), true),
            Err(_) => (
                tokio::time::timeout(ca - cm, &mut fut)
                    .await
                    .map_err(|_| ()),
                true,
            ),
        }
    };
    if cm_expired {
        let hop_url = watch.get(&watch.url);
        let note = if !watch.connected.load(Ordering::SeqCst) {
            (
                ErrorClass::ConnectTimeout,
                format!(
                    "dial tcp {}: i/o timeout (Client.Timeout exceeded while awaiting headers)",
                    watch.get(&watch.dialing)
                ),
            )
        } else if watch.headers.load(Ordering::SeqCst) {
            (
                ErrorClass::Timeout,
                "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
                    .to_owned(),
            )
        } else {
            (
                ErrorClass::Timeout,
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                    .to_owned(),
            )
        };
        p.ex.cert_manager_timeout = Some((note.0, note.1, hop_url));
    }
    if outcome.is_err() {
        // The CA's deadline (or cert-manager's, before any connection) cut the attempt.
        let (class, msg) = match &p.ex.cert_manager_timeout {
            Some((ErrorClass::ConnectTimeout, m, _)) => (ErrorClass::ConnectTimeout, m.clone()),
            _ => (
                ErrorClass::Timeout,
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                    .to_owned(),
            ),
        };
        if let Some(h) = p.ex.hops.last_mut()
            && h.error_class.is_none()
        {
            h.error_class = Some(class);
            h.error = Some(msg.clone());
        }
        if p.ex.status.is_none() || class == ErrorClass::ConnectTimeout {
            p.ex.status = None;
        }
        p.ex.error_class = Some(class);
        p.ex.error = Some(msg);
    }
    p.ex.total_ms = p.started.elapsed().as_millis() as u64;
    p.ex
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

/// Resolve `host` as the self check's dialer does and order the answers as Go would: the
/// addresses, or Go's `lookup` error.
async fn resolve_go(
    host: &str,
    port: u16,
    s: &Settings,
) -> Result<Vec<SocketAddr>, (ErrorClass, String)> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let ips = dns::lookup_ips(host, &s.source()).await?;
    Ok(wire::go_order(&ips, port))
}

/// Connect for hop `index` of `url`: the address under test first, later hops (and proxies)
/// by name, as Go's dialer. Returns the stream and the address it reached.
async fn dial_hop(
    target: &Url,
    index: usize,
    first: SocketAddr,
    proxy: Option<&ProxyUrl>,
    s: &Settings,
    p: &mut Progress,
) -> Result<(TcpStream, SocketAddr), (ErrorClass, String)> {
    // Without nameservers nothing but the client's deadline bounds a dial: the attempt's own
    // timers (which word it as Go does) must fire first, so the dial gets a second more.
    let budget = if s.nameservers.is_empty() {
        s.ca_timeout.max(s.timeout) + Duration::from_secs(1)
    } else {
        NAMESERVER_DIAL_BUDGET.min(s.timeout)
    };
    let deadline = Instant::now() + budget;
    if let Some(proxy) = proxy {
        if proxy.scheme != "http" {
            return Err((
                ErrorClass::ProxyError,
                format!(
                    "proxyconnect tcp: the probe cannot use a {} proxy ({})",
                    proxy.scheme,
                    proxy.display()
                ),
            ));
        }
        let wrap = |(_, m): (ErrorClass, String)| {
            (ErrorClass::ProxyError, format!("proxyconnect tcp: {m}"))
        };
        let addrs = resolve_go(&proxy.host, proxy.port, s).await.map_err(wrap)?;
        p.watch.set(
            &p.watch.dialing,
            addrs.first().map(|a| a.to_string()).unwrap_or_default(),
        );
        return wire::go_dial(&addrs, deadline).await.map_err(wrap);
    }
    if index == 0 {
        p.watch.set(&p.watch.dialing, first.to_string());
        return wire::connect(first, budget).await.map(|c| (c, first));
    }
    let addrs = resolve_go(&target.host, target.port, s).await?;
    if let Some(h) = p.ex.hops.last_mut()
        && !target.host_is_ip()
    {
        h.resolved = addrs.iter().map(|a| a.ip().to_string()).collect();
    }
    p.watch.set(
        &p.watch.dialing,
        addrs.first().map(|a| a.to_string()).unwrap_or_default(),
    );
    wire::go_dial(&addrs, deadline).await
}

async fn follow(url: &Url, first: SocketAddr, s: &Settings, p: &mut Progress) {
    let mut current = url.clone();
    for hop_index in 0..=BOULDER_MAX_REDIRECTS {
        let proxy = s.proxy_url(&current);
        p.ex.hops.push(Hop {
            url: current.to_string(),
            ..Default::default()
        });
        p.watch.hop.store(hop_index, Ordering::SeqCst);
        p.watch.connected.store(false, Ordering::SeqCst);
        p.watch.headers.store(false, Ordering::SeqCst);
        p.watch.set(&p.watch.url, current.to_string());
        let connect_start = Instant::now();
        let (tcp, addr) = match dial_hop(&current, hop_index, first, proxy.as_ref(), s, p).await {
            Ok(c) => c,
            Err((class, msg)) => return fail(p, class, msg),
        };
        if let Some(h) = p.ex.hops.last_mut() {
            h.address = addr.to_string();
        }
        if p.ex.connect_ms.is_none() {
            p.ex.connect_ms = Some(connect_start.elapsed().as_millis() as u64);
        }
        // A load balancer adds the preamble on its own connections only: those to the address
        // under test, never through an HTTP proxy.
        let preamble = s.proxy_protocol && proxy.is_none() && addr.ip() == first.ip();
        match one_hop(&current, tcp, proxy.as_ref(), preamble, s, p).await {
            Err((class, msg)) => return fail(p, class, msg),
            Ok(HopResult::Final) => return,
            Ok(HopResult::Redirect(location)) => {
                if hop_index == BOULDER_MAX_REDIRECTS {
                    break;
                }
                match current.join(&location) {
                    Ok(next) if next.scheme == "http" || next.scheme == "https" => current = next,
                    Ok(next) => {
                        p.ex.hops.push(Hop {
                            url: next.to_string(),
                            ..Default::default()
                        });
                        return fail(
                            p,
                            ErrorClass::RedirectInvalid,
                            format!("unsupported protocol scheme {:?}", next.scheme),
                        );
                    }
                    Err(e) => {
                        return fail(
                            p,
                            ErrorClass::RedirectInvalid,
                            format!("failed to parse Location header {location:?}: {e}"),
                        );
                    }
                }
            }
        }
    }
    // One redirect more than Boulder follows: it stops here, Go much earlier.
    p.ex.error_class = Some(ErrorClass::RedirectLimit);
    p.ex.error = Some("stopped after 10 redirects".to_owned());
}

enum HopResult {
    Final,
    Redirect(String),
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

async fn one_hop(
    url: &Url,
    mut tcp: TcpStream,
    proxy: Option<&ProxyUrl>,
    preamble: bool,
    s: &Settings,
    p: &mut Progress,
) -> Result<HopResult, (ErrorClass, String)> {
    let auth = proxy.and_then(|p| p.userinfo.clone());
    if proxy.is_some() && url.scheme == "https" {
        wire::connect_tunnel(&mut tcp, url, auth.as_deref()).await?;
    }
    if preamble {
        use tokio::io::AsyncWriteExt;
        let line = wire::proxy_v1_preamble(&tcp).map_err(|e| (ErrorClass::Io, e.to_string()))?;
        tcp.write_all(line.as_bytes()).await.map_err(|e| {
            (
                ErrorClass::ConnectionReset,
                format!("write PROXY preamble: {e}"),
            )
        })?;
    }
    let _ = tcp.set_nodelay(true);
    p.watch.connected.store(true, Ordering::SeqCst);
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
            Err(e) => return Err(wire::tls_error(&e)),
        }
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .handshake::<_, http_body_util::Empty<wire::bytes_alias::Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| wire::hyper_error(&e))?;
    let conn_task = tokio::spawn(async move {
        let _ = conn.await;
    });
    // Through a proxy, plain http goes in absolute form (`GET http://host/path`).
    let proxied_http = proxy.is_some() && url.scheme == "http";
    let target = if proxied_http {
        url.to_string()
    } else {
        url.path.clone()
    };
    let mut req = hyper::Request::get(target.as_str())
        .header(hyper::header::HOST, url.authority())
        .header(hyper::header::USER_AGENT, s.user_agent.as_str())
        .header(hyper::header::ACCEPT_ENCODING, "gzip")
        .header(hyper::header::CONNECTION, "close");
    if proxied_http && let Some(a) = &auth {
        req = req.header(
            "proxy-authorization",
            format!("Basic {}", wire::base64(a.as_bytes())),
        );
    }
    let req = req
        .body(http_body_util::Empty::new())
        .map_err(|e| (ErrorClass::Io, e.to_string()))?;
    let result = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| wire::hyper_error(&e))?;
        handle_response(resp, s, p).await
    }
    .await;
    conn_task.abort();
    result
}

async fn handle_response(
    resp: hyper::Response<Incoming>,
    s: &Settings,
    p: &mut Progress,
) -> Result<HopResult, (ErrorClass, String)> {
    p.watch.headers.store(true, Ordering::SeqCst);
    let status = resp.status().as_u16();
    let mut headers = BTreeMap::new();
    for (name, value) in resp.headers() {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.entry(name.as_str().to_owned()).or_insert(v);
    }
    let location = headers.get("location").cloned();
    if let Some(h) = p.ex.hops.last_mut() {
        h.status = Some(status);
        h.location = location.clone();
    }
    // Go follows these with a non-empty Location; a 3xx without one is the answer.
    let is_redirect = matches!(status, 301 | 302 | 303 | 307 | 308)
        && location.as_deref().is_some_and(|l| !l.is_empty());
    // Redirect bodies are not needed; final bodies are read up to the cap.
    let cap = if is_redirect { 0 } else { BODY_CAP + 1 };
    let gzip = headers
        .get("content-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let (raw, read_error) = wire::read_capped(resp.into_body(), cap).await;
    let body = if gzip {
        wire::gunzip_capped(&raw, BODY_CAP + 1)
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
    if let Some((class, msg)) = read_error {
        // cert-manager: "failed to read response body: ..." (only a 200's body is read).
        if status == 200 {
            p.ex.error_class = Some(class);
            p.ex.error = Some(msg.clone());
        }
        p.ex.body_error = Some((class, msg));
    }
    Ok(HopResult::Final)
}
