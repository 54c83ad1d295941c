//! Scale measurement for the fake API server (not a test: prints timings).
//!
//! `cargo run --release -p acmecheck-testkit --example fakeapi_scale [CHAINS]`
//! Generates CHAINS (default 1000) certificate chains, loads them, and times
//! LISTs over all objects through a real HTTP client path (raw HTTP/1.1).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use acmecheck_testkit::fakeapi::{FakeApi, generate_certificates};

fn get(api: &FakeApi, path: &str) -> usize {
    let mut s = TcpStream::connect(api.addr()).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    out.len()
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1000);
    let api = FakeApi::spawn()?;
    let t = Instant::now();
    let objs = generate_certificates(n, 10);
    let gen_ms = t.elapsed().as_secs_f64() * 1e3;
    let count = objs.len();
    let t = Instant::now();
    api.insert_many(objs)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    println!("generate {n} chains ({count} objects): {gen_ms:.1} ms; load: {load_ms:.1} ms");
    // Pad to ~10,000 objects with more chains so the LIST covers that many.
    let extra = 10_000usize.saturating_sub(api.object_count()) / 7;
    if extra > 0 {
        let mut more = generate_certificates(n + extra, 10);
        more.drain(..count);
        for o in &mut more {
            // Distinct names from the first batch: shift into other namespaces.
            if let Some(ns) = o.pointer_mut("/metadata/namespace") {
                *ns = format!("bulk-{}", ns.as_str().unwrap_or("")).into();
            }
        }
        api.insert_many(more)?;
    }
    println!("objects stored: {}", api.object_count());
    for path in [
        "/api/v1/pods",
        "/apis/acme.cert-manager.io/v1/challenges",
        "/apis/cert-manager.io/v1/certificates",
        "/api/v1/pods?labelSelector=acme.cert-manager.io%2Fhttp01-solver%3Dtrue",
        "/api/v1/namespaces/team-3/pods?fieldSelector=status.phase%3DRunning",
    ] {
        let mut best = f64::MAX;
        let mut bytes = 0;
        for _ in 0..5 {
            let t = Instant::now();
            bytes = get(&api, path);
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
        }
        println!("LIST {path}: {bytes} bytes, best of 5 {best:.1} ms");
    }
    Ok(())
}
