//! The `fake-apiserver` demo binary: loads fixtures, writes a kubeconfig,
//! prints its URL, serves, and exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Kills the child on drop (by PID, via Child::kill) if a test fails early.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serves_fixtures_until_sigterm() {
    let dir = std::env::temp_dir().join(format!("fake-apiserver-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kc = dir.join("kubeconfig");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/basic");
    let child = Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .arg("--fixtures")
        .arg(&fixtures)
        .args(["--listen", "127.0.0.1:0", "--namespace", "shop"])
        .arg("--kubeconfig-out")
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut g = Guard(child);
    let mut line = String::new();
    BufReader::new(g.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let text = std::fs::read_to_string(&kc).unwrap();
    assert!(text.contains(&format!("server: {url}")), "{text}");
    assert!(text.contains("namespace: shop"), "{text}");

    // The kubeconfig works for a client (raw HTTP here; kubectl is covered in kubectl.rs).
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(s, "GET /apis/cert-manager.io/v1/namespaces/shop/certificates/web HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"secretName\":\"web-tls\""));

    // SIGTERM (to this child's PID only) stops it with exit 0.
    let pid = i32::try_from(g.0.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = g.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_non_loopback_and_bad_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback only"));
    let out = Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument --bogus"));
}
