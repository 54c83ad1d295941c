//! Runs the fake Kubernetes API server until SIGTERM/SIGINT (for demos).
//!
//! ```text
//! fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:0] [--kubeconfig-out PATH] [--namespace NS] [--generate N[:NAMESPACES]]
//! ```
//! `--generate` adds N complete generated certificate chains (benchmarks).
//! `--kubelet-image REF=PATH` (repeatable), `--kubelet-netns NS` and
//! `--pod-ip IP` turn on the fake kubelet (`FakeApi::enable_kubelet`): pods
//! whose image is REF run PATH as their entrypoint.
//! Prints the server URL on stdout once it is listening.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig};
use anyhow::{Context, bail};

const USAGE: &str = "usage: fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:PORT] [--kubeconfig-out PATH] [--namespace NS] [--generate N[:NAMESPACES]] [--kubelet-image REF=PATH]... [--kubelet-netns NS] [--pod-ip IP]";

struct Args {
    fixtures: Vec<PathBuf>,
    listen: SocketAddr,
    kubeconfig_out: Option<PathBuf>,
    namespace: String,
    generate: Option<(usize, usize)>,
    /// Set when any kubelet flag is given.
    kubelet: Option<KubeletConfig>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        fixtures: Vec::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        kubeconfig_out: None,
        namespace: "default".into(),
        generate: None,
        kubelet: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || -> anyhow::Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .with_context(|| format!("{flag} needs a value\n{USAGE}")),
            }
        };
        match flag.as_str() {
            "--fixtures" => args.fixtures.push(PathBuf::from(value()?)),
            "--listen" => {
                let v = value()?;
                args.listen = v
                    .parse()
                    .with_context(|| format!("--listen {v}: not an ip:port"))?;
            }
            "--kubeconfig-out" => args.kubeconfig_out = Some(PathBuf::from(value()?)),
            "--namespace" | "-n" => args.namespace = value()?,
            "--generate" => {
                let v = value()?;
                let (n, ns) = v.split_once(':').unwrap_or((v.as_str(), "10"));
                let n = n
                    .parse()
                    .with_context(|| format!("--generate {v}: N is not a number"))?;
                let ns = ns
                    .parse()
                    .with_context(|| format!("--generate {v}: NAMESPACES is not a number"))?;
                args.generate = Some((n, ns));
            }
            "--kubelet-image" => {
                let v = value()?;
                let Some((reference, path)) = v.split_once('=') else {
                    bail!("--kubelet-image {v}: expected REF=PATH\n{USAGE}");
                };
                if reference.is_empty() || path.is_empty() {
                    bail!("--kubelet-image {v}: expected REF=PATH\n{USAGE}");
                }
                let k = args.kubelet.get_or_insert_with(KubeletConfig::default);
                k.images.insert(reference.to_string(), PathBuf::from(path));
            }
            "--kubelet-netns" => {
                let ns = value()?;
                args.kubelet
                    .get_or_insert_with(KubeletConfig::default)
                    .netns = Some(ns);
            }
            "--pod-ip" => {
                let ip = value()?;
                ip.parse::<std::net::IpAddr>()
                    .with_context(|| format!("--pod-ip {ip}: not an IP address"))?;
                args.kubelet
                    .get_or_insert_with(KubeletConfig::default)
                    .pod_ip = Some(ip);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(args)
}

fn run() -> anyhow::Result<()> {
    let args = parse_args()?;
    let api = FakeApi::spawn_on(args.listen)?;
    let mut total = 0;
    for dir in &args.fixtures {
        total += api
            .load_dir(dir)
            .with_context(|| format!("loading fixtures from {}", dir.display()))?;
    }
    if let Some((n, ns)) = args.generate {
        total += api.insert_many(acmecheck_testkit::fakeapi::generate_certificates(n, ns))?;
    }
    if let Some(k) = args.kubelet {
        eprintln!(
            "fake kubelet on ({} image(s){})",
            k.images.len(),
            k.netns
                .as_deref()
                .map(|n| format!(", netns {n}"))
                .unwrap_or_default()
        );
        api.enable_kubelet(k);
    }
    if let Some(path) = &args.kubeconfig_out {
        api.write_kubeconfig(path, &args.namespace)?;
        eprintln!("kubeconfig written to {}", path.display());
    }
    eprintln!("{total} objects loaded");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Install the handlers before announcing the URL, so a SIGTERM sent as
    // soon as the URL is read is handled.
    let (mut term, mut int) = {
        use tokio::signal::unix::{SignalKind, signal};
        let _ctx = rt.enter();
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        )
    };
    println!("{}", api.url());
    rt.block_on(async {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    });
    api.shutdown();
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-apiserver: {e:#}");
            ExitCode::from(2)
        }
    }
}
