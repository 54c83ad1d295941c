//! Bring a lab scenario up for a benchmark or the demo, and down again.
//!
//!     lab up <scenario> [--delay-ms N]   # prints `client=<netns>`, `cluster=<netns>` and
//!                                        # `ready`, then waits
//!     lab objects <scenario> [<fixtures-root> [<out-dir>]]   # the scenario's cert-manager objects
//!     lab list
//!
//! The lab is torn down (daemons by PID, namespaces) when standard input closes or on
//! SIGINT/SIGTERM.

use acmecheck_testkit::lab;
use std::io::{BufRead, Write};

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
            for (name, what) in lab::SCENARIOS {
                println!("{name:32} {what}");
            }
        }
        Some("up") => {
            let Some(name) = args.get(1) else {
                eprintln!("usage: lab up <scenario> [--delay-ms N]");
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
            // SIGINT/SIGTERM close the wait below by ending the process after teardown.
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            for sig in [libc::SIGINT, libc::SIGTERM] {
                let _ = register(sig, stop.clone());
            }
            println!("client={}", lab.client);
            println!("cluster={}", lab.cluster);
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
            }
            drop(lab);
        }
        _ => {
            eprintln!(
                "usage: lab up <scenario> [--delay-ms N] | lab list | lab objects <scenario> [<fixtures-root> [<out-dir>]]"
            );
            std::process::exit(2);
        }
    }
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
