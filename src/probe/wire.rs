//! The wire under one attempt: TLS without verification, TCP dialing as Go does it, PROXY
//! protocol v1, CONNECT tunnels, bounded body reads, and Go's wording of what went wrong.

use super::addrsel;
use super::plan::ErrorClass;
use super::url::Url;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// rustls without certificate verification (as cert-manager and the CAs: `InsecureSkipVerify`),
/// HTTP/1.1 only, SNI sent.
pub(crate) fn tls_config() -> Arc<rustls::ClientConfig> {
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
pub(crate) async fn connect_tunnel(
    tcp: &mut TcpStream,
    url: &Url,
    auth: Option<&str>,
) -> Result<(), (ErrorClass, String)> {
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
    let auth = auth
        .map(|a| format!("Proxy-Authorization: Basic {}\r\n", base64(a.as_bytes())))
        .unwrap_or_default();
    let req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{auth}\r\n");
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

pub(crate) mod bytes_alias {
    pub use hyper::body::Bytes;
}

pub(crate) fn tls_error(e: &std::io::Error) -> (ErrorClass, String) {
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

pub(crate) fn hyper_error(e: &hyper::Error) -> (ErrorClass, String) {
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

/// Read at most `cap` bytes of a body; a read error is returned alongside what was read.
pub(crate) async fn read_capped(
    mut body: Incoming,
    cap: usize,
) -> (Vec<u8>, Option<(ErrorClass, String)>) {
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

pub(crate) fn gunzip_capped(raw: &[u8], cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(raw).take(cap as u64);
    match decoder.read_to_end(&mut out) {
        Ok(_) => out,
        Err(_) => raw.to_vec(),
    }
}

/// Standard base64 (for `Proxy-Authorization: Basic`).
pub(crate) fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's text for a failed connect (`syscall.Errno` strings, without Rust's "(os error N)").
pub(crate) fn dial_error(addr: SocketAddr, e: &std::io::Error) -> (ErrorClass, String) {
    use std::io::ErrorKind::*;
    let text = match e.raw_os_error() {
        Some(libc_errno::ECONNREFUSED) => "connection refused",
        Some(libc_errno::ENETUNREACH) => "network is unreachable",
        Some(libc_errno::EHOSTUNREACH) => "no route to host",
        Some(libc_errno::EADDRNOTAVAIL) => "cannot assign requested address",
        Some(libc_errno::EAFNOSUPPORT) => "address family not supported by protocol",
        Some(libc_errno::ECONNRESET) => "connection reset by peer",
        _ => "",
    };
    let class = match (e.raw_os_error(), e.kind()) {
        (_, ConnectionRefused) => ErrorClass::ConnectRefused,
        // "No route to host" is the destination's: neighbour discovery or a router found
        // nobody there. A dead address, like one that drops the SYN.
        (Some(libc_errno::EHOSTUNREACH), _) | (_, HostUnreachable) => ErrorClass::ConnectTimeout,
        (
            Some(libc_errno::ENETUNREACH | libc_errno::EADDRNOTAVAIL | libc_errno::EAFNOSUPPORT),
            _,
        )
        | (_, NetworkUnreachable | AddrNotAvailable) => ErrorClass::NetworkUnreachable,
        (_, TimedOut) => {
            return (
                ErrorClass::ConnectTimeout,
                format!("dial tcp {addr}: i/o timeout"),
            );
        }
        _ => ErrorClass::Io,
    };
    let text = if text.is_empty() {
        let t = e.to_string();
        t.split(" (os error")
            .next()
            .unwrap_or(&t)
            .to_ascii_lowercase()
    } else {
        text.to_owned()
    };
    (class, format!("dial tcp {addr}: connect: {text}"))
}

/// Linux errno values the dial errors name (std has no constants for them).
mod libc_errno {
    pub const EAFNOSUPPORT: i32 = 97;
    pub const EADDRNOTAVAIL: i32 = 99;
    pub const ENETUNREACH: i32 = 101;
    pub const ECONNRESET: i32 = 104;
    pub const ECONNREFUSED: i32 = 111;
    pub const EHOSTUNREACH: i32 = 113;
}

/// One TCP connect bounded by `limit`.
pub(crate) async fn connect(
    addr: SocketAddr,
    limit: Duration,
) -> Result<TcpStream, (ErrorClass, String)> {
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(dial_error(addr, &e)),
        Err(_) => Err((
            ErrorClass::ConnectTimeout,
            format!("dial tcp {addr}: i/o timeout"),
        )),
    }
}

/// Go's `partialDeadline`: an equal share of the time left for each remaining address, at
/// least 2 s (or all that is left).
fn partial_deadline(now: Instant, deadline: Instant, remaining: usize) -> Option<Duration> {
    let left = deadline
        .checked_duration_since(now)
        .filter(|d| !d.is_zero())?;
    let share = left / remaining.max(1) as u32;
    const SANE_MINIMUM: Duration = Duration::from_secs(2);
    Some(if share < SANE_MINIMUM {
        left.min(SANE_MINIMUM)
    } else {
        share
    })
}

/// Go's `dialSerial`: one address after the other, each with its `partialDeadline`; the first
/// address's error when all fail.
async fn dial_serial(
    addrs: &[SocketAddr],
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), (ErrorClass, String)> {
    let mut first_err = None;
    for (i, a) in addrs.iter().enumerate() {
        let Some(share) = partial_deadline(Instant::now(), deadline, addrs.len() - i) else {
            first_err.get_or_insert((
                ErrorClass::ConnectTimeout,
                format!("dial tcp {a}: i/o timeout"),
            ));
            break;
        };
        match connect(*a, share).await {
            Ok(s) => return Ok((s, *a)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or((
        ErrorClass::DnsNoRecords,
        "dial tcp: missing address".to_owned(),
    )))
}

/// Happy Eyeballs' fallback delay (`net.Dialer.FallbackDelay` default).
const FALLBACK_DELAY: Duration = Duration::from_millis(300);

/// Go's `Dialer.DialContext` over addresses already in Go's order (see [`addrsel`]): the
/// first one's family serially, the other family after 300 ms or once the first failed.
pub(crate) async fn go_dial(
    addrs: &[SocketAddr],
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), (ErrorClass, String)> {
    let Some(first) = addrs.first() else {
        return Err((ErrorClass::DnsNoRecords, "dial tcp: missing address".into()));
    };
    let (primaries, fallbacks): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.iter().partition(|a| a.is_ipv6() == first.is_ipv6());
    if fallbacks.is_empty() {
        return dial_serial(&primaries, deadline).await;
    }
    let primary = dial_serial(&primaries, deadline);
    tokio::pin!(primary);
    let delay = tokio::time::sleep(FALLBACK_DELAY);
    tokio::pin!(delay);
    let primary_err = tokio::select! {
        r = &mut primary => match r {
            Ok(c) => return Ok(c),
            Err(e) => Some(e),
        },
        () = &mut delay => None,
    };
    let fallback = dial_serial(&fallbacks, deadline);
    tokio::pin!(fallback);
    match primary_err {
        Some(e) => fallback.await.map_err(|_| e),
        None => {
            let mut primary_err = None;
            let mut fallback_done = false;
            loop {
                tokio::select! {
                    r = &mut primary, if primary_err.is_none() => match r {
                        Ok(c) => return Ok(c),
                        Err(e) => {
                            if fallback_done {
                                return Err(e);
                            }
                            primary_err = Some(e);
                        }
                    },
                    r = &mut fallback, if !fallback_done => match r {
                        Ok(c) => return Ok(c),
                        Err(e) => {
                            if let Some(p) = primary_err.take() {
                                let _ = e;
                                return Err(p);
                            }
                            fallback_done = true;
                        }
                    },
                }
            }
        }
    }
}

/// Sort resolved addresses as Go's resolver does for this host (RFC 6724 with the kernel's
/// source addresses), keeping `port`.
pub(crate) fn go_order(ips: &[std::net::IpAddr], port: u16) -> Vec<SocketAddr> {
    let mut v: Vec<(std::net::IpAddr, Option<std::net::IpAddr>, ())> = ips
        .iter()
        .map(|ip| (*ip, addrsel::source_for(*ip), ()))
        .collect();
    addrsel::sort_rfc6724(&mut v);
    v.into_iter()
        .map(|(ip, _, _)| SocketAddr::new(ip, port))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    /// Go `net/dial.go` `partialDeadline`: equal shares, but at least 2 s each.
    #[test]
    fn partial_deadlines_as_go() {
        let now = Instant::now();
        let d = |secs: u64, n: usize| partial_deadline(now, now + Duration::from_secs(secs), n);
        assert_eq!(d(10, 2), Some(Duration::from_secs(5)));
        assert_eq!(d(10, 10), Some(Duration::from_secs(2)));
        assert_eq!(d(1, 3), Some(Duration::from_secs(1)));
        assert_eq!(partial_deadline(now, now, 1), None);
    }

    #[test]
    fn dial_errors_in_go_words() {
        let a: SocketAddr = "[2001:db8::99]:80".parse().unwrap();
        let e = std::io::Error::from_raw_os_error(99);
        assert_eq!(
            dial_error(a, &e),
            (
                ErrorClass::NetworkUnreachable,
                "dial tcp [2001:db8::99]:80: connect: cannot assign requested address".into()
            )
        );
        let e = std::io::Error::from_raw_os_error(111);
        assert_eq!(dial_error(a, &e).0, ErrorClass::ConnectRefused);
        let e = std::io::Error::from_raw_os_error(113);
        assert_eq!(
            dial_error(a, &e),
            (
                ErrorClass::ConnectTimeout,
                "dial tcp [2001:db8::99]:80: connect: no route to host".into()
            )
        );
        let e = std::io::Error::from_raw_os_error(101);
        assert_eq!(
            dial_error(a, &e).1,
            "dial tcp [2001:db8::99]:80: connect: network is unreachable"
        );
    }
}
