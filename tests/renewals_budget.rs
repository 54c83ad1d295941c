//! The connection budget of a renewals plan, against a small counting server on 127.0.0.1 (no
//! namespaces needed): names on the same address share it, a few connections per name first,
//! more only where answers differ, the data planes' direct probes shared by every name, and the
//! hard cap per address holds over everything the plan asks (counted by the server's accepts).

use kubectl_acmecheck::probe::plan::*;
use kubectl_acmecheck::probe::run_plan;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers `404` with `Server: <name>`, alternating two names when `mixed`.
/// Returns its port and its accept counter.
async fn serve(mixed: bool) -> (u16, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicU32::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let i = a.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let server = if mixed && i % 2 == 1 {
                    "envoy"
                } else {
                    "nginx"
                };
                let body = "not found";
                let reply = format!(
                    "HTTP/1.1 404 Not Found\r\nServer: {server}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    (port, accepts)
}

fn targets(port: u16, n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| Target {
            id: format!("ns/name-{i}"),
            url: format!("http://127.0.0.1:{port}/.well-known/acme-challenge/tok{i}"),
            dns_name: "127.0.0.1".into(),
            token: format!("tok{i}"),
            expected_key: format!("tok{i}.thumb"),
            ..Default::default()
        })
        .collect()
}

fn budget(cap: u32) -> Budget {
    Budget {
        first: 4,
        more: 16,
        direct: 2,
        cap_per_address: cap,
    }
}

#[tokio::test]
async fn names_on_one_address_share_the_cap() {
    let (port, accepts) = serve(false).await;
    let (dport, daccepts) = serve(false).await;
    let plan = ProbePlan::new(
        targets(port, 30),
        ProbeOptions {
            budget: Some(budget(50)),
            concurrency: 8,
            direct_targets: vec![DirectTarget {
                id: EVERY_TARGET.into(),
                address: format!("127.0.0.1:{dport}"),
                label: "ingress-nginx Service ingress-nginx/controller".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    );
    let report = run_plan(&plan).await;
    assert_eq!(report.targets.len(), 30);
    // The cap holds over the whole plan, at the server.
    assert_eq!(accepts.load(Ordering::SeqCst), 50);
    let got: Vec<u32> = report
        .targets
        .iter()
        .map(|t| t.addresses[0].attempts)
        .collect();
    assert_eq!(got.iter().sum::<u32>(), 50);
    assert!(got.iter().all(|n| *n <= 4), "{got:?}");
    // Names beyond the cap say so rather than looking healthy.
    let capped = report
        .targets
        .iter()
        .filter(|t| t.addresses[0].capped)
        .count();
    assert!(capped >= 30 - 50 / 4, "{got:?}");
    assert!(
        report
            .targets
            .iter()
            .filter(|t| t.addresses[0].capped)
            .all(|t| t.addresses[0].attempts < 4)
    );
    // The shared direct probe is asked for every name (2 each), with the name's own path,
    // under the same cap (60 asked, 50 granted).
    assert_eq!(daccepts.load(Ordering::SeqCst), 50);
    assert_eq!(
        report.targets.iter().filter(|t| t.direct[0].capped).count(),
        5,
        "60 asked, 50 granted: the last 5 names' direct probes are capped"
    );
    for t in &report.targets {
        assert_eq!(t.direct.len(), 1);
        assert!(
            t.direct[0].path.ends_with(&t.id.replace("ns/name-", "tok")),
            "{:?}",
            t.direct[0]
        );
    }
}

#[tokio::test]
async fn more_connections_only_where_answers_differ() {
    let (same, same_accepts) = serve(false).await;
    let (mixed, mixed_accepts) = serve(true).await;
    for (port, accepts, want) in [(same, same_accepts, 4), (mixed, mixed_accepts, 20)] {
        let plan = ProbePlan::new(
            targets(port, 3),
            ProbeOptions {
                budget: Some(budget(1000)),
                ..Default::default()
            },
        );
        let report = run_plan(&plan).await;
        for t in &report.targets {
            assert_eq!(
                t.addresses[0].attempts, want,
                "{port}: {:#?}",
                t.addresses[0]
            );
            assert!(!t.addresses[0].capped);
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 3 * want);
    }
}
