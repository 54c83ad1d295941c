//! The plugin as users get it: the release archive installed the way krew lays it out, found and
//! run by the real kubectl (`/usr/bin/kubectl`), and completed through kubectl's plugin
//! completion (kubectl ≥ 1.26 runs `kubectl_complete-acmecheck`).
//!
//! The cluster for the completion test is a small HTTP server on 127.0.0.1 that answers the two
//! list requests completion makes (namespaces, certificates); everything else is a 404 Status.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const KUBECTL: &str = "/usr/bin/kubectl";

/// `<tmp>/krew/store/acmecheck/v<ver>/` holds the extracted archive, `<tmp>/krew/bin/` the
/// symlinks, as `kubectl krew install` leaves them.
struct KrewInstall {
    root: tempfile::TempDir,
}

impl KrewInstall {
    /// Install the release archive of the test binary like krew: extract it into the store,
    /// symlink the bin.
    fn new() -> KrewInstall {
        let root = tempfile::tempdir().unwrap();
        let archive = archive();
        let store = root.path().join(format!("krew/store/acmecheck/v{VERSION}"));
        let bin = root.path().join("krew/bin");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let tar = Command::new("tar")
            .arg("-xzf")
            .arg(archive)
            .arg("-C")
            .arg(&store)
            .status();
        assert!(tar.unwrap().success());
        assert!(store.join("LICENSE").is_file(), "LICENSE extracted");
        std::os::unix::fs::symlink(
            store.join("kubectl-acmecheck"),
            bin.join("kubectl-acmecheck"),
        )
        .unwrap();
        KrewInstall { root }
    }

    fn bin_dir(&self) -> PathBuf {
        self.root.path().join("krew/bin")
    }

    /// Run the real kubectl with only the krew bin dir (and the system dirs the shim's
    /// /bin/sh needs) on PATH, no kubeconfig of the machine's user.
    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(KUBECTL)
            .args(args)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.bin_dir().display()),
            )
            .env("HOME", self.root.path())
            .env("KUBECONFIG", self.root.path().join("no-kubeconfig"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// Add the completion helper the way docs/install.md says: from `completion kubectl`.
    fn add_completion_helper(&self) {
        let out = self.kubectl(&["acmecheck", "completion", "kubectl"]);
        assert!(out.status.success());
        let helper = self.bin_dir().join("kubectl_complete-acmecheck");
        std::fs::write(&helper, &out.stdout).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The test binary packed once per test run by `scripts/release.sh pack` (the real archive
/// layout; stripping and compressing the debug binary takes a while, so it is shared).
fn archive() -> &'static Path {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dist = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubectl_plugin-dist");
        let _ = std::fs::remove_dir_all(&dist);
        let (target, osarch) = if cfg!(target_arch = "aarch64") {
            ("aarch64-unknown-linux-musl", "linux_arm64")
        } else {
            ("x86_64-unknown-linux-musl", "linux_amd64")
        };
        let out = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release.sh"))
            .args(["pack", target, env!("CARGO_BIN_EXE_kubectl-acmecheck")])
            .env("DIST", &dist)
            .env_remove("GITHUB_REF_TYPE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pack: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dist.join(format!("kubectl-acmecheck_v{VERSION}_{osarch}.tar.gz"))
    })
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn kubectl_plugin_list_finds_the_krew_installed_plugin() {
    let krew = KrewInstall::new();
    let out = krew.kubectl(&["plugin", "list"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let link = krew.bin_dir().join("kubectl-acmecheck");
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.trim() == link.to_str().unwrap()),
        "plugin list: {}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn help_and_version_through_kubectl() {
    let krew = KrewInstall::new();
    let out = krew.kubectl(&["acmecheck", "--version"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("kubectl-acmecheck {VERSION}\n"));

    let out = krew.kubectl(&["acmecheck", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let help = stdout(&out);
    assert!(help.contains("Usage: kubectl acmecheck"), "{help}");
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(
        help.contains("completion"),
        "the completion subcommand is listed: {help}"
    );
    assert!(
        !help.contains("__complete"),
        "the protocol subcommand is hidden: {help}"
    );
}

#[test]
fn exit_codes_pass_through_kubectl() {
    let krew = KrewInstall::new();
    let out = krew.kubectl(&["acmecheck", "--no-such-flag"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "usage error exits 2: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--no-such-flag"));
}

#[test]
fn completion_scripts_through_kubectl() {
    let krew = KrewInstall::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kubectl-acmecheck"),
        ("fish", "complete -c kubectl-acmecheck"),
        ("kubectl", "exec kubectl-acmecheck __complete \"$@\""),
    ] {
        let out = krew.kubectl(&["acmecheck", "completion", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        assert!(stdout(&out).contains(marker), "{shell}: {}", stdout(&out));
    }
    let out = krew.kubectl(&["acmecheck", "completion", "powershell"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// kubectl's plugin completion, end to end.

/// A loopback API server for the completion lookups. Dropping it stops the thread.
struct TinyApi {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TinyApi {
    fn spawn() -> TinyApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let _ = serve(stream, &requests2);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        TinyApi {
            port,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    fn kubeconfig(&self, dir: &Path, namespace: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: tiny\n\
             clusters:\n- name: tiny\n  cluster:\n    server: http://127.0.0.1:{}\n\
             users:\n- name: tiny\n  user:\n    token: test\n\
             contexts:\n- name: tiny\n  context:\n    cluster: tiny\n    user: tiny\n    namespace: {namespace}\n\
             - name: other\n  context:\n    cluster: tiny\n    user: tiny\n",
            self.port
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TinyApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    stream: std::net::TcpStream,
    requests: &std::sync::Mutex<Vec<String>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let path = target.split('?').next().unwrap_or_default().to_string();
    requests.lock().unwrap().push(format!(
        "{} {target}",
        request_line.split_whitespace().next().unwrap_or_default()
    ));
    let cert = |name: &str, ns: &str, ready: &str| {
        format!(
            r#"{{"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{{"name":"{name}","namespace":"{ns}"}},"status":{{"conditions":[{{"type":"Ready","status":"{ready}"}}]}}}}"#
        )
    };
    let (status, body) = match path.as_str() {
        "/api/v1/namespaces" => (
            "200 OK",
            r#"{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadataList","metadata":{},"items":[
                {"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{"name":"default"}},
                {"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{"name":"shop"}},
                {"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{"name":"staging"}}]}"#
                .to_string(),
        ),
        "/apis/cert-manager.io/v1/namespaces/shop/certificates" => (
            "200 OK",
            format!(
                r#"{{"apiVersion":"cert-manager.io/v1","kind":"CertificateList","metadata":{{}},"items":[{},{}]}}"#,
                cert("web-tls", "shop", "True"),
                cert("api-tls", "shop", "False")
            ),
        ),
        _ => (
            "404 Not Found",
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#
                .to_string(),
        ),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// `kubectl __complete acmecheck <words>` is what the shell's kubectl completion runs.
fn complete(krew: &KrewInstall, words: &[&str]) -> (Vec<String>, String) {
    let mut args = vec!["__complete", "acmecheck"];
    args.extend_from_slice(words);
    let out = krew.kubectl(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    let (directive, candidates) = lines.split_last().expect("a directive line");
    let values = candidates
        .iter()
        .map(|c| c.split('\t').next().unwrap().to_string())
        .collect();
    (values, directive.clone())
}

#[test]
fn kubectl_completes_flags_namespaces_contexts_and_certificates() {
    let krew = KrewInstall::new();
    // Without the helper, kubectl has nothing to offer for the plugin.
    let (values, _) = complete(&krew, &["--out"]);
    assert!(values.is_empty(), "{values:?}");

    krew.add_completion_helper();
    let api = TinyApi::spawn();
    let kc = api.kubeconfig(krew.root.path(), "shop");
    let kc = kc.to_str().unwrap();

    let (values, directive) = complete(&krew, &["--out"]);
    assert_eq!(
        (values, directive.as_str()),
        (vec!["--output".to_string()], ":4")
    );

    let (values, _) = complete(&krew, &["--kubeconfig", kc, "-n", "s"]);
    assert_eq!(values, ["shop", "staging"]);

    let (values, _) = complete(&krew, &["--kubeconfig", kc, "--context", ""]);
    assert_eq!(values, ["tiny", "other"]);

    // certificates in the context's namespace, not Ready first, after the subcommands
    let (values, directive) = complete(&krew, &["--kubeconfig", kc, ""]);
    assert_eq!(values, ["probe", "completion", "api-tls", "web-tls"]);
    assert_eq!(directive, ":4");
    let (values, _) = complete(&krew, &["--kubeconfig", kc, "api-tls", ""]);
    assert_eq!(values, ["web-tls"]);

    let requests = api.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /api/v1/namespaces")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /apis/cert-manager.io/v1/namespaces/shop/certificates")),
        "{requests:?}"
    );
    // The lookups only ever read.
    assert!(
        requests.iter().all(|r| r.starts_with("GET ")),
        "{requests:?}"
    );
}

#[test]
fn kubectl_completion_stays_quiet_when_the_cluster_is_unreachable() {
    let krew = KrewInstall::new();
    krew.add_completion_helper();
    // A port nothing listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kc = krew.root.path().join("dead-kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:{port}\nusers:\n- name: dead\n  user: {{}}\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: dead\n"
        ),
    )
    .unwrap();
    let mut args = vec![
        "__complete",
        "acmecheck",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "-n",
        "",
    ];
    let out = krew.kubectl(&args);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), ":4\n", "no candidates, no error text");
    // and the helper itself writes nothing to stderr (kubectl passes it through to the shell)
    args.drain(..2);
    let helper = Command::new(krew.bin_dir().join("kubectl_complete-acmecheck"))
        .args(&args)
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", krew.bin_dir().display()),
        )
        .output()
        .unwrap();
    assert_eq!(stdout(&helper), ":4\n");
    assert_eq!(stderr(&helper), "");
}
