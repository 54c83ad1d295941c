//! The Go acmesolver stand-in (`testkit/go/acmesolver`) answers as cert-manager's solver does
//! (`pkg/issuer/acme/http/solver/solver.go`), directly and as the container of a pod the fake
//! kubelet runs with the pod's args.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig};
use acmecheck_testkit::gobuild;
use serde_json::json;

const TOKEN: &str = "GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk";
const KEY: &str =
    "GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request with `Host: host`; (status, lower-cased headers, body).
fn request(port: u16, method: &str, host: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: acmecheck-test\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, head.to_ascii_lowercase(), body.to_owned())
}

fn wait_listening(port: u16) {
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Solver(Child);

impl Drop for Solver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(domain: &str, port: u16) -> Solver {
    let exe = gobuild::build("acmesolver").unwrap();
    let child = Command::new(exe)
        .args([
            format!("--listen-port={port}"),
            format!("--domain={domain}"),
            format!("--token={TOKEN}"),
            format!("--key={KEY}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port);
    Solver(child)
}

const NOT_FOUND: (u16, &str) = (404, "404 page not found\n");

#[test]
fn answers_like_cert_managers_solver() {
    let port = free_port();
    let _s = start("shop.example.com", port);
    let path = format!("/.well-known/acme-challenge/{TOKEN}");
    // The key, exactly, with no newline, and no-cache.
    let (code, head, body) = request(port, "GET", "shop.example.com", &path);
    assert_eq!((code, body.as_str()), (200, KEY));
    assert!(
        head.contains("cache-control: no-cache, no-store, must-revalidate"),
        "{head}"
    );
    // The port is stripped from Host; the query string is ignored; any method.
    assert_eq!(request(port, "GET", "shop.example.com:8089", &path).2, KEY);
    assert_eq!(
        request(port, "GET", "shop.example.com", &format!("{path}?x=1")).2,
        KEY
    );
    assert_eq!(request(port, "POST", "shop.example.com", &path).0, 200);
    // Health checks: 200, empty, before any host check.
    for p in ["/", "/healthz"] {
        let (code, head, body) = request(port, "GET", "anything.invalid", p);
        assert_eq!((code, body.as_str()), (200, ""), "{p}");
        assert!(head.contains("cache-control: no-cache"), "{head}");
    }
    // Wrong base path, host (exact, case-sensitive) or token: Go's http.NotFound.
    for (host, p) in [
        ("shop.example.com", format!("/{TOKEN}")),
        (
            "shop.example.com",
            format!("/prefix/.well-known/acme-challenge/{TOKEN}"),
        ),
        ("shop.example.com", format!("{path}/")),
        ("SHOP.example.com", path.clone()),
        ("www.example.com", path.clone()),
        ("10.0.0.1", path.clone()),
        (
            "shop.example.com",
            "/.well-known/acme-challenge/other".to_owned(),
        ),
    ] {
        let (code, _, body) = request(port, "GET", host, &p);
        assert_eq!((code, body.as_str()), NOT_FOUND, "{host} {p}");
    }
}

#[test]
fn ipv6_hosts_lose_their_brackets() {
    let port = free_port();
    let _s = start("2001:db8::7", port);
    let path = format!("/.well-known/acme-challenge/{TOKEN}");
    assert_eq!(request(port, "GET", "[2001:db8::7]", &path).2, KEY);
    assert_eq!(request(port, "GET", "[2001:db8::7]:80", &path).2, KEY);
    assert_eq!(request(port, "GET", "[2001:db8::8]", &path).0, 404);
}

#[test]
fn the_fake_kubelet_runs_it_for_the_solver_image() {
    const IMAGE: &str = "quay.io/jetstack/cert-manager-acmesolver:v1.19.1";
    let api = FakeApi::spawn().unwrap();
    api.enable_kubelet(KubeletConfig::default().acmesolver(IMAGE).unwrap());
    let port = free_port();
    api.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        .unwrap();
    api.insert(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solver", "namespace": "shop"},
        "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "acmesolver", "image": IMAGE,
            "args": [format!("--listen-port={port}"), "--domain=shop.example.com", format!("--token={TOKEN}"), format!("--key={KEY}")]}]}}))
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while api.get("v1", "Pod", "shop", "solver").unwrap()["status"]["phase"] != "Running" {
        assert!(Instant::now() < until, "the solver pod does not run");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_listening(port);
    let (code, _, body) = request(
        port,
        "GET",
        "shop.example.com",
        &format!("/.well-known/acme-challenge/{TOKEN}"),
    );
    assert_eq!((code, body.as_str()), (200, KEY));
    let (code, _, _) = request(
        port,
        "GET",
        "elsewhere.example.com",
        &format!("/.well-known/acme-challenge/{TOKEN}"),
    );
    assert_eq!(code, 404);
    // Its log is the pod log, in the real solver's klog form.
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let log = pod_log(&api);
        if log.contains("\"invalid host\"") {
            assert!(log.contains("\"starting listener\" logger=\"cert-manager.acmesolver\" expected_domain=\"shop.example.com\""), "{log}");
            assert!(
                log.contains("\"got successful challenge request, writing key\""),
                "{log}"
            );
            assert!(log.contains("host=\"elsewhere.example.com\""), "{log}");
            assert!(log.contains("\"User-Agent\":[\"acmecheck-test\"]"), "{log}");
            break;
        }
        assert!(Instant::now() < until, "{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
    api.delete_pod("shop", "solver", Some(0)).unwrap();
}

fn pod_log(api: &FakeApi) -> String {
    let mut s = TcpStream::connect(api.addr()).unwrap();
    write!(s, "GET /api/v1/namespaces/shop/pods/solver/log HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}
