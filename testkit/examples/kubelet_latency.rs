//! Latency of the fake kubelet (not a test: prints timings).
//!
//! `cargo run --release -p acmecheck-testkit --example kubelet_latency [RUNS]`
//! For each `start_delay` (0 and the default 100 ms), runs RUNS (default 20)
//! pods whose entrypoint is `/bin/true` through raw HTTP/1.1 — POST, wait
//! (test-side) for Succeeded, GET the log, DELETE — and prints the median
//! and worst time from POST to Succeeded and for the whole cycle.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig};

fn request(api: &FakeApi, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(api.addr())?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20);
    for delay in [Duration::ZERO, Duration::from_millis(100)] {
        let api = FakeApi::spawn()?;
        api.enable_kubelet(KubeletConfig {
            start_delay: delay,
            ..KubeletConfig::default().image("probe:1", "/bin/true")
        });
        api.insert(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "p"}}),
        )?;
        let (mut done, mut cycle) = (Vec::new(), Vec::new());
        for i in 0..runs {
            let name = format!("p{i}");
            let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "probe", "image": "probe:1"}]}});
            let t = Instant::now();
            request(&api, "POST", "/api/v1/namespaces/p/pods", &pod.to_string())?;
            loop {
                let phase = api
                    .get("v1", "Pod", "p", &name)
                    .and_then(|p| p["status"]["phase"].as_str().map(str::to_string));
                if phase.as_deref() == Some("Succeeded") {
                    break;
                }
                anyhow::ensure!(
                    t.elapsed() < Duration::from_secs(20),
                    "{name} stuck at {phase:?}"
                );
                std::thread::sleep(Duration::from_micros(200));
            }
            done.push(t.elapsed());
            request(
                &api,
                "GET",
                &format!("/api/v1/namespaces/p/pods/{name}/log?limitBytes=65536"),
                "",
            )?;
            request(
                &api,
                "DELETE",
                &format!("/api/v1/namespaces/p/pods/{name}"),
                "",
            )?;
            cycle.push(t.elapsed());
        }
        for (what, v) in [("POST→Succeeded", &mut done), ("POST→…→DELETE", &mut cycle)] {
            v.sort();
            println!(
                "start_delay {:>3} ms  {what:<16} median {:7.1} ms  max {:7.1} ms  ({runs} runs)",
                delay.as_millis(),
                ms(v[v.len() / 2]),
                ms(v[v.len() - 1])
            );
        }
    }
    Ok(())
}
