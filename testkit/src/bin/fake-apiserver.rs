//! Runs the fake Kubernetes API server until SIGTERM/SIGINT (for demos).
//!
//! ```text
//! fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:0] [--kubeconfig-out PATH] [--namespace NS]
//! ```
//! Prints the server URL on stdout once it is listening.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use acmecheck_testkit::fakeapi::FakeApi;
use anyhow::{Context, bail};

const USAGE: &str = "usage: fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:PORT] [--kubeconfig-out PATH] [--namespace NS]";

struct Args {
    fixtures: Vec<PathBuf>,
    listen: SocketAddr,
    kubeconfig_out: Option<PathBuf>,
    namespace: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        fixtures: Vec::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        kubeconfig_out: None,
        namespace: "default".into(),
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
    if let Some(path) = &args.kubeconfig_out {
        api.write_kubeconfig(path, &args.namespace)?;
        eprintln!("kubeconfig written to {}", path.display());
    }
    eprintln!("{total} objects loaded");
    println!("{}", api.url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        anyhow::Ok(())
    })?;
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
