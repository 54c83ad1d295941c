//! `kubectl-acmecheck solver` (hidden): a stand-in for cert-manager's HTTP-01 solver that
//! serves many names and tokens from one process, so that `renewals --replay` needs one
//! stand-in pod per namespace and solver configuration instead of one per name. The pod runs
//! the plugin's own probe image with
//!
//! ```text
//! solver --listen-port=8089 --serve=<DOMAIN>/<TOKEN>/<KEY> [--serve=...]...
//! ```
//!
//! DOMAIN has no `/`; TOKEN and KEY are base64url (`A-Z a-z 0-9 - _`) plus `.`, and KEY is
//! `TOKEN.<thumbprint>`. A domain may have several tokens (two Certificates with the same
//! dnsName); one (DOMAIN, TOKEN) with two different keys is an error. Bad values exit 2.
//!
//! It answers as cert-manager's acmesolver (`challengeHandler` in
//! pkg/issuer/acme/http/solver/solver.go, the `quay.io/jetstack/cert-manager-acmesolver`
//! image) answers for the (domain, token) a request names, and as every one of them would
//! for a host none of them serves ([`handler`]): every method; `/` and `/healthz` → 200 before
//! any host check; `path.Dir(escaped path)` must be `/.well-known/acme-challenge`, the Host
//! (port or brackets stripped, compared byte for byte) one of the domains, `path.Base` one of
//! that domain's tokens, else Go's `http.NotFound`; else 200 and the key. Log lines on stderr
//! are klog text with the acmesolver's messages (read back by [`crate::gather::logs`]); an
//! "invalid host" line has no `expected_host` and an "invalid token" line no `expected_token`,
//! as there are many. The server ([`server`]) listens on every address of the pod like Go's
//! `:8089`, gives a client 32 s to send its headers (the solver's ReadHeaderTimeout) and stops
//! on SIGTERM or SIGINT within 5 s (exit 0). It cannot listen: exit 1, as the acmesolver.
//!
//! Known differences from Go's server, where hyper parses before this code sees the request:
//! a `#fragment` in the request-target is dropped (Go keeps it in the path: 404), a path with
//! bytes that are not UTF-8 is refused with 400 (Go re-escapes them: 404), and an absolute-form
//! target with an empty path reads as `/` (Go: the empty path, 404). cert-manager's real solver
//! also logs "comparing host" and "comparing token" before the outcome; like the project's Go
//! stand-in, this one logs "validating request" and the outcome.
//!
//! Nothing in the pipeline (gather, probe, diagnose, report) imports this module; `main.rs`
//! dispatches to [`solver_main`].

pub mod gosem;
pub mod handler;
pub mod klog;
pub mod server;

use crate::cli::SolverArgs;
use crate::error::exit;
use std::collections::BTreeMap;

/// One `--serve` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triple {
    pub domain: String,
    pub token: String,
    pub key: String,
}

/// What the stand-in serves: domain → token → key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Served {
    pub domains: BTreeMap<String, BTreeMap<String, String>>,
}

fn base64url_dot(s: &str) -> bool {
    s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Parse `DOMAIN/TOKEN/KEY` (clap's value parser for `--serve`).
pub fn parse_serve(value: &str) -> Result<Triple, String> {
    let parts: Vec<&str> = value.split('/').collect();
    let [domain, token, key] = parts[..] else {
        return Err(format!(
            "expected DOMAIN/TOKEN/KEY (three parts separated by '/'), got {} part(s)",
            parts.len()
        ));
    };
    if domain.is_empty() {
        return Err("the DOMAIN is empty".into());
    }
    if domain.bytes().any(|c| c.is_ascii_control() || c == b' ') {
        return Err(format!(
            "the DOMAIN {domain:?} contains a space or a control character"
        ));
    }
    for (what, v) in [("TOKEN", token), ("KEY", key)] {
        if v.is_empty() {
            return Err(format!("the {what} is empty"));
        }
        if !base64url_dot(v) {
            return Err(format!(
                "the {what} {v:?} has characters outside base64url (A-Z a-z 0-9 - _) and '.'"
            ));
        }
    }
    match key.strip_prefix(token).and_then(|r| r.strip_prefix('.')) {
        Some(thumbprint) if !thumbprint.is_empty() => {}
        _ => {
            return Err(format!(
                "the KEY {key:?} is not the key authorization of TOKEN {token:?} \
                 (expected {token}.<thumbprint>)"
            ));
        }
    }
    Ok(Triple {
        domain: domain.to_owned(),
        token: token.to_owned(),
        key: key.to_owned(),
    })
}

impl Served {
    /// The table from the parsed `--serve` values; the same (domain, token) with two keys is
    /// an error, the same triple twice is one.
    pub fn new(triples: &[Triple]) -> Result<Served, String> {
        let mut served = Served::default();
        for t in triples {
            let tokens = served.domains.entry(t.domain.clone()).or_default();
            match tokens.get(&t.token) {
                Some(k) if *k != t.key => {
                    return Err(format!(
                        "--serve gives two keys for domain {:?} and token {:?}: {:?} and {:?}",
                        t.domain, t.token, k, t.key
                    ));
                }
                _ => {
                    tokens.insert(t.token.clone(), t.key.clone());
                }
            }
        }
        Ok(served)
    }

    /// Parse and build from raw `--serve` values (tests, and callers without clap).
    pub fn parse(values: &[String]) -> Result<Served, String> {
        let triples = values
            .iter()
            .map(|v| parse_serve(v).map_err(|e| format!("invalid --serve value {v:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Served::new(&triples)
    }

    pub fn token_count(&self) -> usize {
        self.domains.values().map(BTreeMap::len).sum()
    }
}

/// `kubectl-acmecheck solver`: serve until SIGTERM or SIGINT.
pub fn solver_main(args: &SolverArgs) -> i32 {
    let served = match Served::new(&args.serve) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}: give each (domain, token) one key");
            return exit::CANNOT_DIAGNOSE;
        }
    };
    match crate::run::block_on(server::run(served, args.listen_port)) {
        Ok(Ok(())) => exit::OK,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            1
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_values() {
        let t = parse_serve("shop.example.com/tok-1_A/tok-1_A.th-umb").unwrap();
        assert_eq!(
            (t.domain.as_str(), t.token.as_str(), t.key.as_str()),
            ("shop.example.com", "tok-1_A", "tok-1_A.th-umb")
        );
        for (bad, says) in [
            ("shop.example.com/tok", "got 2 part(s)"),
            ("a/b/c/d", "got 4 part(s)"),
            ("/tok/tok.th", "DOMAIN is empty"),
            ("a b/tok/tok.th", "space or a control"),
            ("shop/tok//tok.th", "got 4"),
            ("shop//tok.th", "TOKEN is empty"),
            ("shop/tok/", "KEY is empty"),
            ("shop/to+k/to+k.th", "TOKEN \"to+k\" has characters"),
            ("shop/tok/tok.th=", "KEY \"tok.th=\" has characters"),
            ("shop/tok/other.th", "not the key authorization"),
            ("shop/tok/tok.", "not the key authorization"),
            ("shop/tok/tokth", "not the key authorization"),
        ] {
            let e = parse_serve(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn one_key_per_domain_and_token() {
        let s = Served::parse(&[
            "a/t1/t1.x".into(),
            "a/t2/t2.x".into(),
            "b/t1/t1.y".into(),
            "a/t1/t1.x".into(),
        ])
        .unwrap();
        assert_eq!((s.domains.len(), s.token_count()), (2, 3));
        let e = Served::parse(&["a/t1/t1.x".into(), "a/t1/t1.z".into()]).unwrap_err();
        assert!(
            e.contains("two keys for domain \"a\" and token \"t1\""),
            "{e}"
        );
        let e = Served::parse(&["a/t1".into()]).unwrap_err();
        assert!(e.starts_with("invalid --serve value \"a/t1\""), "{e}");
    }
}
