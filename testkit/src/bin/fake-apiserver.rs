//! `fake-apiserver`: the test API server as a standalone process (for demos).
//!
//! ```text
//! fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:0] [--kubeconfig-out PATH]
//! ```
//! Prints the server URL on stdout and runs until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use acmecheck_testkit::fakeapi::FakeApi;
use anyhow::{Context, Result, bail};

const USAGE: &str =
    "usage: fake-apiserver [--fixtures DIR]... [--listen 127.0.0.1:PORT] [--kubeconfig-out PATH]

Serves a fake Kubernetes API (cert-manager, Gateway API and core kinds) loaded from
YAML fixtures. Prints the URL, then runs until SIGTERM or SIGINT.";

struct Args {
    fixtures: Vec<PathBuf>,
    listen: SocketAddr,
    kubeconfig_out: Option<PathBuf>,
}

fn parse_args() -> Result<Option<Args>> {
    let mut args = Args {
        fixtures: Vec::new(),
        listen: "127.0.0.1:0".parse()?,
        kubeconfig_out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| -> Result<String> {
            match inline.clone().or_else(|| it.next()) {
                Some(v) => Ok(v),
                None => bail!("{name} needs a value\n{USAGE}"),
            }
        };
        match flag.as_str() {
            "--fixtures" => args.fixtures.push(PathBuf::from(value("--fixtures")?)),
            "--listen" => {
                let v = value("--listen")?;
                args.listen = v
                    .parse()
                    .with_context(|| format!("--listen {v}: not an ip:port"))?;
            }
            "--kubeconfig-out" => {
                args.kubeconfig_out = Some(PathBuf::from(value("--kubeconfig-out")?))
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(Some(args))
}

fn run() -> Result<()> {
    let Some(args) = parse_args()? else {
        return Ok(());
    };
    let api = FakeApi::spawn_on(args.listen)?;
    let mut total = 0;
    for dir in &args.fixtures {
        total += api.load_dir(dir)?;
    }
    if let Some(path) = &args.kubeconfig_out {
        api.write_kubeconfig(path)?;
        eprintln!("kubeconfig written to {}", path.display());
    }
    eprintln!("loaded {total} objects");
    println!("{}", api.url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            r = tokio::signal::ctrl_c() => r?,
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
