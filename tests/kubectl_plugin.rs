//! The plugin as users get it: the release archive installed the way krew lays it out, found and
//! run by the real kubectl (`/usr/bin/kubectl`), and completed through kubectl's plugin
//! completion (kubectl ≥ 1.26 runs `kubectl_complete-acmecheck`).
//!
//! The cluster for the completion test is the testkit's fake API server on 127.0.0.1.

use acmecheck_testkit::fakeapi::FakeApi;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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
    let api = FakeApi::spawn().unwrap();
    api.load_yaml(CLUSTER).unwrap();
    let kc = api.kubeconfig_with_namespace("shop").unwrap();
    let kc = kc.to_str().unwrap();

    let (values, directive) = complete(&krew, &["--out"]);
    assert_eq!(
        (values, directive.as_str()),
        (vec!["--output".to_string()], ":4")
    );

    let (values, _) = complete(&krew, &["--kubeconfig", kc, "-n", "s"]);
    assert_eq!(values, ["shop", "staging"]);

    let (values, _) = complete(&krew, &["--kubeconfig", kc, "--context", ""]);
    assert_eq!(values, ["fake"]);

    // certificates in the context's namespace, not Ready first, after the subcommands
    let (values, directive) = complete(&krew, &["--kubeconfig", kc, ""]);
    assert_eq!(
        values,
        [
            "preflight",
            "probe",
            "cleanup",
            "completion",
            "api-tls",
            "web-tls"
        ]
    );
    assert_eq!(directive, ":4");
    let (values, _) = complete(&krew, &["--kubeconfig", kc, "api-tls", ""]);
    assert_eq!(values, ["web-tls"]);
    let (values, _) = complete(&krew, &["--kubeconfig", kc, "-n", "staging", ""]);
    assert_eq!(
        values,
        ["preflight", "probe", "cleanup", "completion", "www-tls"]
    );

    let requests = api.requests();
    let paths: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        paths.iter().any(|r| r == "GET /api/v1/namespaces"),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|r| r == "GET /apis/cert-manager.io/v1/namespaces/shop/certificates"),
        "{paths:?}"
    );
    // The lookups only ever read.
    assert!(requests.iter().all(|r| r.method == "GET"), "{paths:?}");
}

/// Three namespaces, Certificates in two of them.
const CLUSTER: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web-tls, namespace: shop}
spec: {secretName: web-tls, dnsNames: [shop.example.org], issuerRef: {name: le, kind: ClusterIssuer}}
status: {conditions: [{type: Ready, status: 'True'}]}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: api-tls, namespace: shop}
spec: {secretName: api-tls, dnsNames: [api.example.org], issuerRef: {name: le, kind: ClusterIssuer}}
status: {conditions: [{type: Ready, status: 'False'}]}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: www-tls, namespace: staging}
spec: {secretName: www-tls, dnsNames: [www.example.org], issuerRef: {name: le, kind: ClusterIssuer}}
";

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
