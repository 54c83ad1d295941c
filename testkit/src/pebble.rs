//! Pebble, Let's Encrypt's test CA (Debian package `pebble`), as a host of the lab: the real
//! ACME server the agreement tests compare the tool's "ACME server validation" forecast with.
//!
//! Pebble runs in its own namespace on an "internet" address ([`PEBBLE_V4`], [`PEBBLE_V6`]),
//! with a TLS certificate from a throw-away lab CA, resolves challenge names through the lab's
//! public DNS (`-dnsserver 192.0.2.53:53`: first AAAA, else first A, no fallback; or, with
//! [`Config::dns_server`] off, its resolv.conf naming the same server and Go's `LookupHost`),
//! validates on port 80 (or [`Config::http_port`]), without its random sleeps
//! (`PEBBLE_VA_NOSLEEP=1`), never reuses a valid
//! authorization (`PEBBLE_AUTHZREUSE=0`: every validation is a real one) and never rejects a
//! good nonce (`PEBBLE_WFE_NONCEREJECT=0`). It is a [`crate::proc::Daemon`] of the lab, so it
//! stops with the lab.

use crate::acme::Http01;
use crate::lab::{self, Lab};
use crate::proc::run;
use anyhow::{Context, Result};
use std::path::Path;

pub const PEBBLE_V4: &str = "192.0.2.40";
pub const PEBBLE_V6: &str = "2001:db8::40";
/// Pebble's ACME port.
pub const ACME_PORT: u16 = 14000;

/// A running Pebble.
pub struct Pebble {
    /// `https://192.0.2.40:14000/dir`
    pub directory: String,
    /// The lab CA that signed Pebble's TLS certificate (DER): the only root the client trusts.
    pub ca_der: Vec<u8>,
}

/// How Pebble is deployed (its config file and environment): what the tool's
/// `--pebble-http-port`, `--pebble-always-valid` and `--pebble-system-resolver` describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `pebble.httpPort`: where every HTTP-01 validation connects.
    pub http_port: u16,
    /// `PEBBLE_VA_ALWAYS_VALID=1`.
    pub always_valid: bool,
    /// `-dnsserver <lab DNS>` (AAAA then A, first address); without it Pebble's resolv.conf
    /// (the lab DNS as well) through Go's `LookupHost`.
    pub dns_server: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http_port: 80,
            always_valid: false,
            dns_server: true,
        }
    }
}

/// Start Pebble in `lab` and wait until its ACME port accepts connections.
pub fn start(lab: &mut Lab) -> Result<Pebble> {
    start_with(lab, Config::default())
}

/// [`start`] with a deployment of Pebble's own.
pub fn start_with(lab: &mut Lab, cfg: Config) -> Result<Pebble> {
    let ns = lab.host("pebble", &[PEBBLE_V4, PEBBLE_V6])?;
    if !cfg.dns_server {
        // What `ip netns exec` mounts over /etc/resolv.conf (removed with the namespace).
        let dir = format!("/etc/netns/{ns}");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            format!("{dir}/resolv.conf"),
            format!("nameserver {}\noptions timeout:1 attempts:2\n", lab::DNS_V4),
        )?;
    }
    let (cert, key, ca_der) = tls_certificate(lab)?;
    let config = lab.path("pebble.json");
    let listen = format!("{PEBBLE_V4}:{ACME_PORT}");
    std::fs::write(
        &config,
        serde_json::json!({
            "pebble": {
                "listenAddress": listen,
                "managementListenAddress": format!("{PEBBLE_V4}:15000"),
                "certificate": cert,
                "privateKey": key,
                "httpPort": cfg.http_port,
                "tlsPort": 443,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        })
        .to_string(),
    )?;
    let config = config.display().to_string();
    let dns = format!("{}:53", lab::DNS_V4);
    let mut args = vec![
        "PEBBLE_VA_NOSLEEP=1",
        "PEBBLE_AUTHZREUSE=0",
        "PEBBLE_WFE_NONCEREJECT=0",
    ];
    if cfg.always_valid {
        args.push("PEBBLE_VA_ALWAYS_VALID=1");
    }
    args.extend(["pebble", "-config", &config]);
    if cfg.dns_server {
        args.extend(["-dnsserver", &dns]);
    }
    lab.start("pebble", &ns, "env", &args, Some(&listen))?;
    lab.notes.push(format!(
        "pebble {PEBBLE_V4}:{ACME_PORT} (validates on port {}, {}{})",
        cfg.http_port,
        if cfg.dns_server {
            format!("-dnsserver {dns}")
        } else {
            format!("system resolver {}", lab::DNS_V4)
        },
        if cfg.always_valid {
            ", PEBBLE_VA_ALWAYS_VALID=1"
        } else {
            ""
        }
    ));
    Ok(Pebble {
        directory: format!("https://{PEBBLE_V4}:{ACME_PORT}/dir"),
        ca_der,
    })
}

/// A lab CA and a certificate for Pebble's address signed by it: (cert PEM, key PEM, CA DER).
fn tls_certificate(lab: &Lab) -> Result<(String, String, Vec<u8>)> {
    let p = |f: &str| lab.path(f).display().to_string();
    let (ca_key, ca_crt, ca_der) = (p("lab-ca.key"), p("lab-ca.crt"), p("lab-ca.der"));
    let (key, csr, crt, ext) = (
        p("pebble.key"),
        p("pebble.csr"),
        p("pebble.crt"),
        p("pebble.ext"),
    );
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-days",
        "2",
        "-subj",
        "/CN=acmecheck lab CA",
        "-keyout",
        &ca_key,
        "-out",
        &ca_crt,
    ]);
    run("openssl", &args)?;
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-subj", "/CN=pebble", "-keyout", &key, "-out", &csr]);
    run("openssl", &args)?;
    std::fs::write(
        &ext,
        format!(
            "subjectAltName=IP:{PEBBLE_V4},DNS:pebble.lab.example.test\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        ),
    )?;
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ],
    )?;
    run(
        "openssl",
        &["x509", "-in", &ca_crt, "-outform", "DER", "-out", &ca_der],
    )?;
    let der = std::fs::read(&ca_der).with_context(|| format!("reading {ca_der}"))?;
    Ok((crt, key, der))
}

/// The cert-manager objects of a lab scenario ([`lab::cluster_objects`]) carrying a real
/// Pebble challenge: its token and key authorization (identity labels recomputed) and the
/// issuer pointing at `directory`.
pub fn cluster_objects(
    fixtures_root: &Path,
    scenario: &str,
    ch: &Http01,
    directory: &str,
) -> Result<Vec<(String, String)>> {
    let adler = |s: &str| format!("'{}'", crate::fakeapi::adler32(s.as_bytes()));
    let swaps = [
        (lab::KEY.to_owned(), ch.key_authorization.clone()),
        (lab::TOKEN.to_owned(), ch.token.clone()),
        (adler(lab::TOKEN), adler(&ch.token)),
        (
            "https://pebble.lab.example.test:14000/dir".to_owned(),
            directory.to_owned(),
        ),
    ];
    Ok(lab::cluster_objects(fixtures_root, scenario)?
        .into_iter()
        .map(|(file, mut text)| {
            for (from, to) in &swaps {
                text = text.replace(from.as_str(), to);
            }
            (file, text)
        })
        .collect())
}
