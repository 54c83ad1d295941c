//! `kubectl-acmecheck solver` (the multi-name stand-in) against the reference: the Go
//! acmesolver stand-in (`testkit/go/acmesolver`, Go's own `net/http` server with cert-manager's
//! handler logic), one per (domain, token, key). The same raw requests go to the plugin and to
//! every Go stand-in; the plugin must answer exactly as the Go stand-in that serves the
//! request's (domain, token), and as all of them do when none serves it.
//!
//! No root needed: every server listens on this machine's ports (picked free by the kernel,
//! never cert-manager's 8089, which tests/replay.rs uses), reached over loopback. Every process
//! is killed by PID on drop, also when an assertion fails.

use acmecheck_testkit::proc::Daemon;
use kubectl_acmecheck::gather::logs;
use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");

/// Three triples: two domains, one of them with two tokens. "BM…" is a key Go's content
/// sniffing calls image/bmp.
const TRIPLES: &[(&str, &str, &str)] = &[
    ("a.example", "tokA1", "tokA1.thumbA"),
    ("a.example", "tokA2", "tokA2.thumbA"),
    ("b.example", "BMtokB", "BMtokB.thumbB"),
];

/// The plugin in solver mode, stderr to a file, killed by PID on drop.
struct Plugin {
    child: Child,
    log: tempfile::NamedTempFile,
    port: u16,
}

impl Plugin {
    fn start(args: &[String]) -> Plugin {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(BIN)
            .arg("solver")
            .arg(format!("--listen-port={port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let mut p = Plugin { child, log, port };
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = p.child.try_wait().unwrap() {
                panic!("the solver exited ({status}): {}", p.log_text());
            }
            assert!(
                Instant::now() < until,
                "the solver does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        p
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }

    /// SIGTERM, then its exit status (SIGKILL after 30 s so a hang fails instead of blocking).
    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("the solver did not exit after SIGTERM: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_args() -> Vec<String> {
    TRIPLES
        .iter()
        .map(|(d, t, k)| format!("--serve={d}/{t}/{k}"))
        .collect()
}

/// A port the kernel says is free on every address (then released for the server to take).
fn free_port() -> u16 {
    let l = TcpListener::bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)))
        .or_else(|_| TcpListener::bind("0.0.0.0:0"))
        .unwrap();
    l.local_addr().unwrap().port()
}

/// One Go acmesolver per triple, each on its own port, with the triple it serves.
fn go_stand_ins() -> Vec<(Daemon, u16, usize)> {
    let bin = acmecheck_testkit::gobuild::build("acmesolver").unwrap();
    let bin = bin.to_str().unwrap();
    TRIPLES
        .iter()
        .enumerate()
        .map(|(i, (d, t, k))| {
            let port = free_port();
            let args = [
                format!("--listen-port={port}"),
                format!("--domain={d}"),
                format!("--token={t}"),
                format!("--key={k}"),
            ];
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut daemon = Daemon::start(&format!("acmesolver-{i}"), None, bin, &args).unwrap();
            let until = Instant::now() + Duration::from_secs(20);
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                daemon.check_running().unwrap();
                assert!(Instant::now() < until, "acmesolver {i} does not listen");
                std::thread::sleep(Duration::from_millis(20));
            }
            (daemon, port, i)
        })
        .collect()
}

/// What the comparison looks at in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    status: u16,
    body: String,
    content_type: Option<String>,
    cache_control: Option<String>,
    nosniff: Option<String>,
    content_length: Option<String>,
}

/// Send `raw` as it is and read the answer until the server closes.
fn exchange(addr: SocketAddr, raw: &str) -> Seen {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response to {raw:?}: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    Seen {
        status,
        body: body.to_owned(),
        content_type: header("content-type"),
        cache_control: header("cache-control"),
        nosniff: header("x-content-type-options"),
        // Go's 400s before a handler carry none; only compared when a handler answered.
        content_length: if status == 400 {
            None
        } else {
            header("content-length")
        },
    }
}

/// The outcome the acmesolver's log names for a request; `BadRequest` and `Options` are
/// answered by Go's server before the handler, and nothing is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Served,
    Health,
    InvalidPath,
    InvalidHost,
    InvalidToken,
    BadRequest,
    Options,
}
use Outcome::*;

/// The requests: method, Host header (`-`: none, `""`: empty), request-target, the outcome
/// worked out by hand from solver.go (checked against the reference's status, and the
/// plugin's log against the counts). `C/` is the challenge path.
const TABLE: &str = r#"
GET     a.example       C/tokA1                                     served
GET     a.example       C/tokA2                                     served
GET     b.example       C/BMtokB                                    served
HEAD    a.example       C/tokA1                                     served
POST    a.example       C/tokA1                                     served
DELETE  b.example       C/BMtokB                                    served
GET     a.example:80    C/tokA1                                     served
GET     a.example:8089  C/tokA2                                     served
GET     [a.example]     C/tokA1                                     served
GET     [b.example]:80  C/BMtokB                                    served
GET     a.example       /C/tokA1                                    served
GET     a.example       /.well-known/./acme-challenge/tokA1         served
GET     a.example       /x/../.well-known/acme-challenge/tokA1      served
GET     a.example       C/x/../tokA1                                served
GET     a.example       C/tokA1?x=1                                 served
GET     a.example       http://a.example/.well-known/acme-challenge/tokA1 served
GET     c.example       C/tokA1                                     invalid-host
GET     A.EXAMPLE       C/tokA1                                     invalid-host
GET     a.example.      C/tokA1                                     invalid-host
GET     [::1]           C/tokA1                                     invalid-host
GET     [::1]:8089      C/tokA1                                     invalid-host
GET     127.0.0.1       C/tokA1                                     invalid-host
GET     ""              C/tokA1                                     invalid-host
HEAD    c.example       C/tokA1                                     invalid-host
GET     a.example       C/BMtokB                                    invalid-token
GET     b.example       C/tokA1                                     invalid-token
GET     a.example       C/wrong                                     invalid-token
GET     a.example       C/tok%411                                   invalid-token
GET     a.example       C/%2e%2e                                    invalid-token
GET     a.example       C/a"b                                       invalid-token
POST    a.example       C/wrong                                     invalid-token
GET     a.example       C/tokA1/                                    invalid-path
GET     a.example       C/tokA1/..                                  invalid-path
GET     a.example       C/%2e%2e/tokA1                              invalid-path
GET     a.example       /%2e%2e/.well-known/acme-challenge/tokA1    invalid-path
GET     a.example       /.well-known/acme-challenge                 invalid-path
GET     a.example       /tokA1                                      invalid-path
GET     a.example       /healthz/                                   invalid-path
GET     a.example       *                                           invalid-path
OPTIONS a.example       *                                           options
GET     a.example       /                                           health
GET     c.example       /healthz                                    health
HEAD    b.example       /healthz                                    health
POST    x               /                                           health
GET     a.example       /?probe=1                                   health
GET     -               C/tokA1                                     bad-request
GET     a@example       C/tokA1                                     bad-request
GET     a.example       C/%zz                                       bad-request
"#;

struct Row {
    method: &'static str,
    host: Option<&'static str>,
    target: String,
    outcome: Outcome,
}

fn table() -> Vec<Row> {
    TABLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let [method, host, target, outcome] = l.split_whitespace().collect::<Vec<_>>()[..]
            else {
                panic!("bad row {l:?}")
            };
            let outcome = match outcome {
                "served" => Served,
                "health" => Health,
                "invalid-path" => InvalidPath,
                "invalid-host" => InvalidHost,
                "invalid-token" => InvalidToken,
                "bad-request" => BadRequest,
                "options" => Options,
                other => panic!("bad outcome {other}"),
            };
            let host = match host {
                "-" => None,
                "\"\"" => Some(""),
                h => Some(h),
            };
            let target = match target.strip_prefix("C/") {
                Some(rest) => format!("/.well-known/acme-challenge/{rest}"),
                None => target.replacen("/C/", "//.well-known/acme-challenge/", 1),
            };
            Row {
                method,
                host,
                target,
                outcome,
            }
        })
        .collect()
}

fn request(method: &str, host: Option<&str>, target: &str) -> String {
    let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
    let body = if method == "POST" {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    format!(
        "{method} {target} HTTP/1.1\r\n{host}User-Agent: acmecheck-solver-test\r\n{body}Connection: close\r\n\r\n"
    )
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn answers_as_the_go_acmesolver_for_every_triple() {
    let go = go_stand_ins();
    let plugin = Plugin::start(&serve_args());
    let table = table();
    for Row {
        method,
        host,
        target,
        outcome,
    } in &table
    {
        let raw = request(method, *host, target);
        let mine = exchange(loopback(plugin.port), &raw);
        let theirs: Vec<(usize, Seen)> = go
            .iter()
            .map(|(_, port, i)| (*i, exchange(loopback(*port), &raw)))
            .collect();
        // The stand-in that serves this (domain, token) writes a key; at most one does.
        let serving: Vec<&(usize, Seen)> = theirs
            .iter()
            .filter(|(i, s)| {
                s.status == 200
                    && s.content_length.as_deref() == Some(&*TRIPLES[*i].2.len().to_string())
            })
            .collect();
        let reference = match serving.as_slice() {
            [(_, one)] => one.clone(),
            [] => {
                // None serves it: they all answer alike, and so must the plugin.
                let first = &theirs[0].1;
                for (i, s) in &theirs {
                    assert_eq!(s, first, "Go stand-ins {i} and 0 disagree on {raw:?}");
                }
                first.clone()
            }
            more => panic!("several Go stand-ins serve {raw:?}: {more:?}"),
        };
        assert_eq!(mine, reference, "{raw:?}");
        // The hand-written outcome agrees with what the reference did.
        let expect_status = match outcome {
            Served | Health | Options => 200,
            InvalidPath | InvalidHost | InvalidToken => 404,
            BadRequest => 400,
        };
        assert_eq!(reference.status, expect_status, "{raw:?}");
        assert_eq!(*outcome == Served, serving.len() == 1, "{raw:?}");
    }

    // The log, read back as `gather` reads a solver pod's log.
    let text = plugin.log_text();
    let count = |o: Outcome| table.iter().filter(|r| r.outcome == o).count() as u32;
    let ev = logs::parse("shop", "stand-in", &text, false);
    assert_eq!(ev.served, count(Served), "{text}");
    assert_eq!(ev.health_checks, count(Health), "{text}");
    let sum = |l: &[(String, u32)]| l.iter().map(|(_, n)| n).sum::<u32>();
    assert_eq!(sum(&ev.invalid_hosts), count(InvalidHost), "{text}");
    assert_eq!(sum(&ev.invalid_tokens), count(InvalidToken), "{text}");
    assert_eq!(sum(&ev.invalid_paths), count(InvalidPath), "{text}");
    assert_eq!(
        ev.requests as usize,
        table.len() - count(BadRequest) as usize - count(Options) as usize,
        "one outcome line per request the handler saw"
    );
    assert!(
        ev.invalid_hosts.iter().any(|(h, _)| h == "c.example"),
        "{:?}",
        ev.invalid_hosts
    );
    assert!(
        ev.invalid_hosts.iter().any(|(h, _)| h == "::1"),
        "{:?}",
        ev.invalid_hosts
    );
    assert!(
        ev.invalid_tokens.iter().any(|(t, _)| t == "wrong"),
        "{:?}",
        ev.invalid_tokens
    );
    assert_eq!(ev.user_agents[0].0, "acmecheck-solver-test");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("\"starting listener\""), "{text}");
    assert!(lines[0].contains(" names=2 tokens=3 "), "{}", lines[0]);
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("expected_host=") && !l.contains("expected_token="))
    );
    // Every line is klog text: I<MMDD hh:mm:ss.uuuuuu> <pid> <file:line>] "<msg>" ...
    for l in &lines {
        assert!(
            l.starts_with('I')
                && l.contains("] \"")
                && l.contains(" logger=\"cert-manager.acmesolver\""),
            "{l}"
        );
    }
}

#[test]
fn listens_on_ipv6_and_ipv4_and_stops_cleanly_on_sigterm() {
    let mut plugin = Plugin::start(&serve_args());
    let get = request(
        "GET",
        Some("a.example"),
        "/.well-known/acme-challenge/tokA1",
    );
    assert_eq!(exchange(loopback(plugin.port), &get).body, "tokA1.thumbA");
    // Dual stack like Go's ":8089", where this machine has IPv6 loopback.
    if TcpListener::bind("[::1]:0").is_ok() {
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, plugin.port));
        assert_eq!(exchange(v6, &get).body, "tokA1.thumbA");
    }
    // An idle keep-alive connection and one stuck in its headers do not keep it running.
    let mut idle = TcpStream::connect(loopback(plugin.port)).unwrap();
    let keep = get.replace("Connection: close\r\n", "");
    idle.write_all(keep.as_bytes()).unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let mut slow = TcpStream::connect(loopback(plugin.port)).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: a.exa").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let status = plugin.terminate();
    assert_eq!(status.code(), Some(0), "{}", plugin.log_text());
    assert!(TcpStream::connect(loopback(plugin.port)).is_err());
}

fn run_bad(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN).arg("solver").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_arguments_exit_2_naming_the_value() {
    for (args, says) in [
        (&["--serve=a.example/tok"][..], "a.example/tok"),
        (
            &["--serve=a.example/tok/other.th"],
            "a.example/tok/other.th",
        ),
        (
            &["--serve=a.example/to%k/to%k.th"],
            "a.example/to%k/to%k.th",
        ),
        (&["--serve=/tok/tok.th"], "/tok/tok.th"),
        (&["--serve=a/b/c/d"], "a/b/c/d"),
        (&["--listen-port=70000", "--serve=a/t/t.k"], "70000"),
        (&[], "--serve"),
        (
            &[
                "--serve=a.example/tok/tok.k1",
                "--serve=a.example/tok/tok.k2",
            ],
            "two keys for domain \"a.example\" and token \"tok\": \"tok.k1\" and \"tok.k2\"",
        ),
    ] {
        let (code, err) = run_bad(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // The same triple twice is one, not an error: it starts (and is stopped here).
    let mut p = Plugin::start(&["--serve=a/t/t.k".into(), "--serve=a/t/t.k".into()]);
    assert!(
        p.log_text().contains(" names=1 tokens=1 "),
        "{}",
        p.log_text()
    );
    assert_eq!(p.terminate().code(), Some(0));
}

#[test]
fn the_subcommand_is_hidden_from_help() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        !help.contains("solver  ") && !help.contains("\n  solver"),
        "{help}"
    );
}

#[test]
fn a_port_in_use_is_an_error_that_says_so() {
    let taken = TcpListener::bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)))
        .or_else(|_| TcpListener::bind("0.0.0.0:0"))
        .unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, err) = run_bad(&[&format!("--listen-port={port}"), "--serve=a/t/t.k"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot listen on port {port}")) && err.contains("--listen-port"),
        "{err}"
    );
}
