//! Runs the fake Kubernetes API server until SIGTERM/SIGINT (for demos).
//!
//! ```text
//! fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:0] [--kubeconfig-out PATH] [--namespace NS] [--generate N[:NAMESPACES]]
//! ```
//! `--generate` adds N complete generated certificate chains (benchmarks).
//! Prints the server URL on stdout once it is listening.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use acmecheck_testkit::fakeapi::FakeApi;
use anyhow::{Context, bail};

const USAGE: &str = "usage: fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:PORT] [--kubeconfig-out PATH] [--namespace NS] [--generate N[:NAMESPACES]]";

struct Args {
    fixtures: Vec<PathBuf>,
    listen: SocketAddr,
    kubeconfig_out: Option<PathBuf>,
    namespace: String,
    generate: Option<(usize, usize)>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        fixtures: Vec::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        kubeconfig_out: None,
        namespace: "default".into(),
        generate: None,
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
