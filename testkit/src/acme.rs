//! A minimal ACME (RFC 8555) client for the Pebble agreement tests: one ES256 account, DNS
//! identifiers, HTTP-01 only. Blocking, HTTP/1.1 over rustls; every connection is opened inside
//! a lab network namespace (a socket stays in the namespace it was created in).
//!
//! What it does: newNonce, newAccount, newOrder, fetch the authorization, POST the http-01
//! challenge, poll the authorization until `valid` or `invalid` and return Pebble's error
//! detail. It never finalizes orders: the tests only need validations.

use crate::proc::in_netns;
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// An ES256 account key.
pub struct AccountKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl AccountKey {
    pub fn generate() -> Result<AccountKey> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("generating a P-256 key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow::anyhow!("loading the P-256 key"))?;
        Ok(AccountKey { pair, rng })
    }

    /// The public key as a JWK, members in the lexicographic order RFC 7638 hashes.
    fn jwk(&self) -> Value {
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = self.pair.public_key().as_ref();
        json!({"crv": "P-256", "kty": "EC", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
    }

    /// RFC 7638 thumbprint: the second half of every key authorization.
    pub fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap_or(""),
            jwk["y"].as_str().unwrap_or("")
        );
        b64(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(self
            .pair
            .sign(&self.rng, data)
            .map_err(|_| anyhow::anyhow!("signing"))?
            .as_ref()
            .to_vec())
    }
}

/// An HTTP-01 challenge of a fresh authorization.
#[derive(Debug, Clone)]
pub struct Http01 {
    pub token: String,
    /// `<token>.<thumbprint>`: the body the server must serve.
    pub key_authorization: String,
    pub challenge_url: String,
    pub authz_url: String,
}

/// How the CA's validation of one authorization ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    Valid,
    /// `invalid`, with the challenge's error (`type: detail`).
    Invalid(String),
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "ACME response {} is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// An ACME account on one server, talking from inside network namespace `netns`.
pub struct Client {
    netns: String,
    tls: Arc<rustls::ClientConfig>,
    key: AccountKey,
    kid: String,
    nonce: Option<String>,
    new_nonce: String,
    new_order: String,
}

impl Client {
    /// Read the directory at `directory_url` (https, an IP-literal host) trusting only the
    /// DER CA certificate `ca_der`, and register a new account with `key`.
    pub fn register(
        netns: &str,
        directory_url: &str,
        ca_der: &[u8],
        key: AccountKey,
    ) -> Result<Client> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()))
            .context("adding the lab CA")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut client = Client {
            netns: netns.to_owned(),
            tls: Arc::new(tls),
            key,
            kid: String::new(),
            nonce: None,
            new_nonce: String::new(),
            new_order: String::new(),
        };
        let dir = client.request("GET", directory_url, None)?.json()?;
        let field = |name: &str| {
            dir[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("directory has no {name}: {dir}"))
        };
        client.new_nonce = field("newNonce")?;
        client.new_order = field("newOrder")?;
        let new_account = field("newAccount")?;
        let r = client.post(
            &new_account,
            Some(json!({"termsOfServiceAgreed": true})),
            true,
        )?;
        if r.status != 201 && r.status != 200 {
            bail!(
                "newAccount: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
        client.kid = r
            .header("location")
            .context("newAccount response without Location")?
            .to_owned();
        Ok(client)
    }

    pub fn thumbprint(&self) -> String {
        self.key.thumbprint()
    }

    /// A new order for `dns_name` and the http-01 challenge of its (fresh) authorization.
    /// Fails when the server reused an already valid authorization: that would validate nothing.
    pub fn new_http01(&mut self, dns_name: &str) -> Result<Http01> {
        let order = self.post(
            &self.new_order.clone(),
            Some(json!({"identifiers": [{"type": "dns", "value": dns_name}]})),
            false,
        )?;
        if order.status != 201 {
            bail!(
                "newOrder: {} {}",
                order.status,
                String::from_utf8_lossy(&order.body)
            );
        }
        let order = order.json()?;
        let authz_url = order["authorizations"][0]
            .as_str()
            .with_context(|| format!("order without authorization: {order}"))?
            .to_owned();
        let authz = self.post(&authz_url, None, false)?.json()?;
        if authz["status"] != "pending" {
            bail!(
                "authorization {authz_url} is {} (reused?); start Pebble with PEBBLE_AUTHZREUSE=0",
                authz["status"]
            );
        }
        let ch = authz["challenges"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "http-01"))
            .with_context(|| format!("no http-01 challenge in {authz}"))?;
        let token = ch["token"].as_str().context("challenge token")?.to_owned();
        Ok(Http01 {
            key_authorization: format!("{token}.{}", self.thumbprint()),
            token,
            challenge_url: ch["url"].as_str().context("challenge url")?.to_owned(),
            authz_url,
        })
    }

    /// Ask the server to validate `ch` and wait (up to `timeout`) until the authorization is
    /// `valid` or `invalid`.
    pub fn validate(&mut self, ch: &Http01, timeout: Duration) -> Result<Validation> {
        let r = self.post(&ch.challenge_url, Some(json!({})), false)?;
        if r.status != 200 {
            bail!(
                "responding to {}: {} {}",
                ch.challenge_url,
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
        let deadline = Instant::now() + timeout;
        loop {
            let authz = self.post(&ch.authz_url, None, false)?.json()?;
            match authz["status"].as_str() {
                Some("valid") => return Ok(Validation::Valid),
                Some("invalid") => {
                    let err = authz["challenges"]
                        .as_array()
                        .and_then(|c| c.iter().find(|c| c["type"] == "http-01"))
                        .map(|c| c["error"].clone())
                        .unwrap_or(Value::Null);
                    return Ok(Validation::Invalid(format!(
                        "{}: {}",
                        err["type"].as_str().unwrap_or("?"),
                        err["detail"].as_str().unwrap_or("?")
                    )));
                }
                _ if Instant::now() > deadline => {
                    bail!(
                        "authorization {} still {} after {timeout:?}",
                        ch.authz_url,
                        authz["status"]
                    )
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// A JWS-signed POST (`payload` None = POST-as-GET), retried once on `badNonce`.
    fn post(&mut self, url: &str, payload: Option<Value>, with_jwk: bool) -> Result<Response> {
        for _ in 0..3 {
            let nonce = match self.nonce.take() {
                Some(n) => n,
                None => self
                    .request("HEAD", &self.new_nonce.clone(), None)?
                    .header("replay-nonce")
                    .context("newNonce without Replay-Nonce")?
                    .to_owned(),
            };
            let mut protected = json!({"alg": "ES256", "nonce": nonce, "url": url});
            if with_jwk {
                protected["jwk"] = self.key.jwk();
            } else {
                protected["kid"] = Value::String(self.kid.clone());
            }
            let protected = b64(protected.to_string().as_bytes());
            let payload = payload
                .as_ref()
                .map_or(String::new(), |p| b64(p.to_string().as_bytes()));
            let signature = b64(&self.key.sign(format!("{protected}.{payload}").as_bytes())?);
            let body = json!({"protected": protected, "payload": payload, "signature": signature})
                .to_string();
            let r = self.request("POST", url, Some(&body))?;
            if r.status == 400
                && r.json()
                    .is_ok_and(|v| v["type"] == "urn:ietf:params:acme:error:badNonce")
            {
                continue;
            }
            return Ok(r);
        }
        bail!("{url}: badNonce three times")
    }

    /// One HTTP/1.1 exchange over TLS on a fresh connection; keeps the Replay-Nonce.
    fn request(&mut self, method: &str, url: &str, body: Option<&str>) -> Result<Response> {
        let rest = url
            .strip_prefix("https://")
            .with_context(|| format!("not an https URL: {url}"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let addr: SocketAddr = authority
            .parse()
            .with_context(|| format!("{url}: the lab's ACME URLs use an IP literal host"))?;
        let server_name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let tcp = in_netns(&self.netns, move || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        })?
        .with_context(|| format!("connecting to {addr}"))?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        let conn = rustls::ClientConnection::new(self.tls.clone(), server_name)?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let body = body.unwrap_or("");
        let content_type = if method == "POST" {
            "Content-Type: application/jose+json\r\n"
        } else {
            ""
        };
        write!(
            tls,
            "{method} {} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: acmecheck-testkit\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            if path.is_empty() { "/" } else { path },
            body.len()
        )?;
        tls.flush()?;
        let mut raw = Vec::new();
        match tls.read_to_end(&mut raw) {
            Ok(_) => {}
            // A peer that closes without close_notify: what arrived is complete (Connection: close).
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => return Err(e).with_context(|| format!("{method} {url}")),
        }
        let r =
            parse_response(&raw, method == "HEAD").with_context(|| format!("{method} {url}"))?;
        if let Some(n) = r.header("replay-nonce") {
            self.nonce = Some(n.to_owned());
        }
        Ok(r)
    }
}

fn parse_response(raw: &[u8], head: bool) -> Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("incomplete HTTP response")?;
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_is_base64url_sha256_of_the_canonical_jwk() {
        let k = AccountKey::generate().unwrap();
        let t = k.thumbprint();
        assert_eq!(t.len(), 43);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        // Stable for one key, different for another.
        assert_eq!(t, k.thumbprint());
        assert_ne!(t, AccountKey::generate().unwrap().thumbprint());
        let jwk = k.jwk();
        assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
    }

    #[test]
    fn responses_plain_and_chunked() {
        let r = parse_response(
            b"HTTP/1.1 201 Created\r\nReplay-Nonce: abc\r\nLocation: https://x/acct/1\r\n\r\n{\"a\":1}",
            false,
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.header("replay-nonce"), Some("abc"));
        assert_eq!(r.json().unwrap()["a"], 1);
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"b\r\n4\r\n\":2}\r\n0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.json().unwrap()["b"], 2);
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n", false).is_err());
    }

    #[test]
    fn signatures_verify_with_the_published_key() {
        let k = AccountKey::generate().unwrap();
        let sig = k.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 64);
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            k.pair.public_key().as_ref().to_vec(),
        );
        assert!(public.verify(b"hello", &sig).is_ok());
        assert!(public.verify(b"hellO", &sig).is_err());
    }
}
