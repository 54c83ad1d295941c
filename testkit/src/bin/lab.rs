//! Bring a lab scenario up for a benchmark or the demo, and down again.
//!
//!     lab up <scenario> [--delay-ms N]   # prints `client=<netns>`, `cluster=<netns>` and
//!                                        # `ready`, then waits
//!     lab up <scenario> --api --kubelet-image REF=PATH [--fixtures DIR]
//!         # also the fake API server (client namespace, prints `kubeconfig=<path>`) with the
//!         # scenario's objects and a kubelet running image REF as PATH in the cluster
//!         # namespace; the line `requests` on stdin prints `requests=N` and the non-discovery
//!         # API requests since the last `requests` (then forgets them)
//!     lab objects <scenario> [<fixtures-root> [<out-dir>]]   # the scenario's cert-manager objects
//!     lab list
//!
//! The lab is torn down (daemons by PID, namespaces) when standard input closes or on
//! SIGINT/SIGTERM.

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig};
use acmecheck_testkit::lab;
use std::io::{BufRead, Write};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("objects") => {
            // lab objects <scenario> [<fixtures-root> [<out-dir>]]: the cert-manager objects for
            // a scenario, into <out-dir> or (without it) to stdout as one YAML stream.
            let Some(scenario) = args.get(1) else {
                eprintln!("usage: lab objects <scenario> [<fixtures-root> [<out-dir>]]");
                std::process::exit(2);
            };
            let root =
                std::path::Path::new(args.get(2).map_or("tests/fixtures/chain", String::as_str));
            let result = match args.get(3) {
                Some(out) => {
                    lab::cluster_objects_for(scenario, root, std::path::Path::new(out)).map(|_| ())
                }
                None => lab::cluster_objects(root, scenario).map(|files| {
                    let docs: Vec<String> = files.into_iter().map(|(_, t)| t).collect();
                    print!("{}", docs.join("---\n"));
                }),
            };
            if let Err(e) = result {
                eprintln!("error: {e:#}");
                std::process::exit(1);
            }
        }
        Some("list") => {
            for (name, what) in lab::SCENARIOS.iter().chain(lab::REPLAY_SCENARIOS) {
                println!("{name:32} {what}");
            }
        }
        Some("up") => {
            let Some(name) = args.get(1) else {
                eprintln!(
                    "usage: lab up <scenario> [--delay-ms N] [--api --kubelet-image REF=PATH [--fixtures DIR]]"
                );
                std::process::exit(2);
            };
            let delay_ms = args
                .iter()
                .position(|a| a == "--delay-ms")
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let lab = match lab::scenario(
                name,
                lab::Options {
                    delay_ms,
                    ..Default::default()
                },
            ) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::exit(1);
                }
            };
            // With --api: the fake API server (in the client namespace) with the scenario's
            // objects and a kubelet that runs probe pods in the cluster namespace.
            let api = match api_for(&lab, name, &args) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::exit(1);
                }
            };
            // SIGINT/SIGTERM close the wait below by ending the process after teardown.
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            for sig in [libc::SIGINT, libc::SIGTERM] {
                let _ = register(sig, stop.clone());
            }
            println!("client={}", lab.client);
            println!("cluster={}", lab.cluster);
            if let Some(api) = &api {
                println!(
                    "kubeconfig={}",
                    api.kubeconfig_with_namespace("shop")
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
            }
            for note in &lab.notes {
                println!("# {note}");
            }
            println!("ready");
            let _ = std::io::stdout().flush();
            let stdin = std::io::stdin();
            let mut line = String::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                line.clear();
                match stdin.lock().read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if let (Some(api), "requests") = (&api, line.trim()) {
                    report_requests(api);
                }
            }
            drop(api);
            drop(lab);
        }
        _ => {
            eprintln!(
                "usage: lab up <scenario> [--delay-ms N] [--api --kubelet-image REF=PATH [--fixtures DIR]] | lab list | lab objects <scenario> [<fixtures-root> [<out-dir>]]"
            );
            std::process::exit(2);
        }
    }
}

/// The fake API server for `lab up … --api`, or None without `--api`.
fn api_for(lab: &lab::Lab, scenario: &str, args: &[String]) -> anyhow::Result<Option<FakeApi>> {
    if !args.iter().any(|a| a == "--api") {
        return Ok(None);
    }
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let Some((image, exe)) = flag("--kubelet-image").and_then(|v| {
        v.split_once('=')
            .map(|(r, p)| (r.to_owned(), PathBuf::from(p)))
    }) else {
        anyhow::bail!(
            "--api needs --kubelet-image REF=PATH (the probe image and the binary playing it)"
        );
    };
    let fixtures =
        PathBuf::from(flag("--fixtures").unwrap_or_else(|| "tests/fixtures/chain".into()));
    let api = lab::fake_api(
        lab,
        scenario,
        &fixtures,
        Some(KubeletConfig::default().image(image, exe)),
    )?;
    Ok(Some(api))
}

/// Print and forget the API requests so far (discovery excluded).
fn report_requests(api: &FakeApi) {
    let requests: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| !r.is_discovery())
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    api.clear_requests();
    println!("requests={}", requests.len());
    for r in requests {
        println!("# {r}");
    }
    let _ = std::io::stdout().flush();
}

static STOP: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::OnceLock::new();

extern "C" fn on_signal(_: i32) {
    if let Some(s) = STOP.get() {
        s.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Set a flag on the signal; the blocked read_line returns EINTR (no SA_RESTART) and the loop ends.
fn register(sig: i32, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::io::Result<()> {
    let _ = STOP.set(flag);
    // SAFETY: installing a handler that only stores to an atomic (async-signal-safe).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(i32) as usize;
        action.sa_flags = 0;
        if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
