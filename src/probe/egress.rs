//! The egress witness: one HTTPS request from the probe's vantage to the Issuer's ACME
//! directory URL, made the way the cert-manager controller reaches its ACME server (the system
//! resolver of the pod, the controller's `HTTPS_PROXY`/`NO_PROXY`). The controller must reach
//! that server to issue at all, so the answer tells two things apart that look the same from the
//! challenge URL alone: an address that does not hairpin (the ACME server is reached, the
//! challenge address is not) and blocked egress (neither is).
//!
//! Only whether an HTTP answer comes back matters, not its content: any status, over a TLS
//! handshake that completed (certificates are not verified, as for the challenge probes), means
//! the server or the proxy was reached. One request per distinct URL, run beside the challenge
//! probes, within the plan's timeout.

use super::dns::{self, Source};
use super::http::{self, Settings, Url};
use super::plan::{EgressReport, ErrorClass, ProbeOptions, Target, TargetReport};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// The witness for every distinct `acmeDirectory` of the plan's targets, keyed by URL.
pub async fn run_all(targets: &[Target], opts: &ProbeOptions) -> HashMap<String, EgressReport> {
    let mut urls: Vec<&str> = targets
        .iter()
        .filter_map(|t| t.acme_directory.as_deref())
        .filter(|u| !u.is_empty())
        .collect();
    urls.sort_unstable();
    urls.dedup();
    let reports = futures::future::join_all(urls.iter().map(|u| witness(u, opts))).await;
    urls.into_iter().map(str::to_owned).zip(reports).collect()
}

/// Copy each target's witness into its report (reports and targets matched by id).
pub fn attach(
    reports: &mut [TargetReport],
    targets: &[Target],
    witnesses: &HashMap<String, EgressReport>,
) {
    for t in targets {
        let Some(w) = t.acme_directory.as_deref().and_then(|u| witnesses.get(u)) else {
            continue;
        };
        for r in reports.iter_mut().filter(|r| r.id == t.id) {
            r.egress = Some(w.clone());
        }
    }
}

/// One request to `url` as the controller would send it. Never fails: what went wrong is in
/// the report.
pub async fn witness(url: &str, opts: &ProbeOptions) -> EgressReport {
    let started = Instant::now();
    let mut report = EgressReport {
        url: url.to_owned(),
        responder: "-".to_owned(),
        ..Default::default()
    };
    let parsed = match Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            report.error_class = Some(ErrorClass::Io);
            report.error = Some(format!("invalid ACME server URL {url:?}: {e}"));
            return report;
        }
    };
    let mut settings = Settings::new(
        &opts.user_agent,
        Duration::from_millis(opts.timeout_ms.max(1)),
        "",
    );
    settings.proxy = opts.proxy.clone();
    report.proxy = settings.proxy_for(&parsed);
    let candidates = if report.proxy.is_some() {
        // Through a proxy the first hop dials the proxy and the proxy resolves the name
        // (`http::attempt` ignores the address under test then): nothing to resolve here.
        vec![SocketAddr::new(IpAddr::from([0, 0, 0, 0]), parsed.port)]
    } else {
        match addresses(&parsed).await {
            Ok(a) => a,
            Err((class, error)) => {
                report.error_class = Some(class);
                report.error = Some(error);
                report.total_ms = elapsed_ms(started);
                return report;
            }
        }
    };
    for addr in candidates {
        let ex = http::attempt(&parsed, addr, &settings).await;
        // The address the attempt records for its last hop; the one dialled when it recorded
        // none (a dial that failed), the proxy's when proxied.
        report.address = ex
            .hops
            .last()
            .map(|h| h.address.clone())
            .filter(|a| !a.is_empty())
            .or_else(|| {
                report
                    .proxy
                    .as_deref()
                    .and_then(|p| Url::parse(p).ok())
                    .map(|p| p.authority())
            })
            .unwrap_or_else(|| addr.to_string());
        report.status = ex.status;
        report.error_class = ex.error_class;
        report.error = ex.error;
        report.responder = if ex.responder.is_empty() {
            "-".to_owned()
        } else {
            ex.responder
        };
        // Go's dialer moves on to the next address only after a dial that failed at once.
        let next = matches!(
            report.error_class,
            Some(ErrorClass::ConnectRefused | ErrorClass::NetworkUnreachable)
        );
        if !next {
            break;
        }
    }
    report.total_ms = elapsed_ms(started);
    report
}

/// The first A and the first AAAA of the host (IPv4 first), or why there are none.
async fn addresses(url: &Url) -> Result<Vec<SocketAddr>, (ErrorClass, String)> {
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, url.port)]);
    }
    let answer = dns::resolve(&url.host, &Source::System, "egress").await;
    let first = [answer.a.first(), answer.aaaa.first()];
    let found: Vec<SocketAddr> = first
        .into_iter()
        .flatten()
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, url.port))
        .collect();
    if found.is_empty() {
        let class = answer.error.unwrap_or(ErrorClass::DnsNoRecords);
        let detail = if answer.detail.is_empty() {
            "no such host".to_owned()
        } else {
            answer.detail.join("; ")
        };
        return Err((class, format!("dial tcp: lookup {}: {detail}", url.host)));
    }
    Ok(found)
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::ProxySettings;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn target(id: &str, dir: Option<&str>) -> Target {
        Target {
            id: id.into(),
            acme_directory: dir.map(str::to_owned),
            ..Default::default()
        }
    }

    fn opts() -> ProbeOptions {
        ProbeOptions {
            timeout_ms: 2_000,
            ..Default::default()
        }
    }

    #[test]
    fn one_witness_per_url_copied_to_every_target_with_it() {
        let targets = [
            target("a", Some("https://acme.example/dir")),
            target("b", Some("https://acme.example/dir")),
            target("c", None),
        ];
        let w = HashMap::from([(
            "https://acme.example/dir".to_owned(),
            EgressReport {
                url: "https://acme.example/dir".into(),
                status: Some(200),
                ..Default::default()
            },
        )]);
        let mut reports: Vec<TargetReport> = ["a", "b", "c"]
            .iter()
            .map(|id| TargetReport {
                id: (*id).into(),
                ..Default::default()
            })
            .collect();
        attach(&mut reports, &targets, &w);
        assert!(
            reports[0]
                .egress
                .as_ref()
                .is_some_and(EgressReport::reached)
        );
        assert_eq!(reports[0].egress, reports[1].egress);
        assert_eq!(reports[2].egress, None);
    }

    #[tokio::test]
    async fn nothing_listening_is_not_reached() {
        // A port that was just free: connect is refused at once.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("https://127.0.0.1:{port}/directory");
        let all = run_all(&[target("a", Some(&url)), target("b", Some(&url))], &opts()).await;
        assert_eq!(all.len(), 1, "one request per distinct URL");
        let r = &all[&url];
        assert!(!r.reached());
        assert_eq!(r.error_class, Some(ErrorClass::ConnectRefused), "{r:?}");
        assert_eq!(r.address, format!("127.0.0.1:{port}"));
        assert_eq!(r.proxy, None);
    }

    #[tokio::test]
    async fn through_the_proxy_when_the_settings_say_so() {
        // An HTTP proxy that answers CONNECT with 403: the proxy was reached, the server was
        // not; the report names the proxy and the status it gave.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            head
        });
        let mut o = opts();
        o.proxy = Some(ProxySettings {
            https: Some(proxy.clone()),
            ..Default::default()
        });
        let r = witness("https://acme-v02.api.letsencrypt.org/directory", &o).await;
        let head = server.await.unwrap();
        assert!(
            head.starts_with("CONNECT acme-v02.api.letsencrypt.org:443 "),
            "{head}"
        );
        assert_eq!(r.proxy.as_deref(), Some(proxy.as_str()));
        assert!(
            !r.reached(),
            "a refused CONNECT is not an answer of the server: {r:?}"
        );
        assert_eq!(r.error_class, Some(ErrorClass::ProxyError), "{r:?}");
        // NO_PROXY for the host: no proxy, the name is resolved here.
        o.proxy = Some(ProxySettings {
            https: Some(proxy),
            no_proxy: Some("127.0.0.1".into()),
            ..Default::default()
        });
        let r = witness("https://127.0.0.1:1/directory", &o).await;
        assert_eq!(r.proxy, None);
    }

    #[tokio::test]
    async fn a_bad_url_is_said_plainly() {
        let r = witness("not a url", &opts()).await;
        assert!(!r.reached());
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("invalid ACME server URL")),
            "{r:?}"
        );
    }
}
