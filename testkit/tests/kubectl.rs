//! Fidelity tests: the real `kubectl` (v1.32, /usr/bin/kubectl) against the fake API server.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use acmecheck_testkit::fakeapi::FakeApi;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/basic");

struct Kubectl {
    api: FakeApi,
    cache: tempfile::TempDir,
}

fn setup() -> Kubectl {
    let api = FakeApi::spawn().unwrap();
    api.load_dir(FIXTURES).unwrap();
    Kubectl {
        api,
        cache: tempfile::tempdir().unwrap(),
    }
}

impl Kubectl {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.env("KUBECONFIG", self.api.kubeconfig())
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("kubectl runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} unexpectedly succeeded"
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

/// Kills a child process (by its PID) when dropped, even if the test panics.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn get_certificates_table_and_short_names() {
    let k = setup();
    let out = k.ok(&["get", "certificates", "-n", "shop"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("NAME"), "{out}");
    assert!(lines[1].starts_with("web "), "{out}");
    // Short name and category come from discovery.
    assert_eq!(
        k.ok(&["get", "cert", "-n", "shop", "-o", "name"]),
        "certificate.cert-manager.io/web\n"
    );
    let names = k.ok(&["get", "cert-manager", "-n", "shop", "-o", "name"]);
    for want in [
        "certificate.cert-manager.io/web",
        "certificaterequest.cert-manager.io/web-1",
        "order.acme.cert-manager.io/web-1-3245019870",
        "challenge.acme.cert-manager.io/web-1-3245019870-1801374226",
    ] {
        assert!(
            names.lines().any(|l| l == want),
            "{want} missing in {names}"
        );
    }
    // Default namespace from the kubeconfig: nothing there.
    let empty = k.run(&["get", "certificates"]);
    assert!(empty.status.success());
    assert_eq!(
        String::from_utf8_lossy(&empty.stderr).trim(),
        "No resources found in default namespace."
    );
}

#[test]
fn get_challenges_all_namespaces_json() {
    let k = setup();
    let list: Value =
        serde_json::from_str(&k.ok(&["get", "challenges", "-A", "-o", "json"])).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["spec"]["dnsName"], "shop.example.com");
    assert_eq!(items[0]["metadata"]["namespace"], "shop");
    let reqs = k.api.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "GET" && r.path == "/apis/acme.cert-manager.io/v1/challenges"),
        "all-namespaces path used: {reqs:?}"
    );
}

#[test]
fn get_pods_by_label_and_field_selector() {
    let k = setup();
    k.api
        .insert(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-6d9f", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"nodeName": "node-2", "containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Pending"}}))
        .unwrap();
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["get", "pods", "-n", "shop", "-o", "name"];
        a.extend_from_slice(args);
        k.ok(&a).lines().map(str::to_string).collect()
    };
    assert_eq!(
        names(&["-l", "acme.cert-manager.io/http01-solver=true"]),
        ["pod/cm-acme-http-solver-7mq4z"]
    );
    assert_eq!(
        names(&["-l", "!acme.cert-manager.io/http01-solver"]),
        ["pod/web-6d9f"]
    );
    assert_eq!(names(&["-l", "app in (web,db)"]), ["pod/web-6d9f"]);
    assert_eq!(
        names(&["--field-selector", "status.phase=Running"]),
        ["pod/cm-acme-http-solver-7mq4z"]
    );
    assert_eq!(
        names(&["--field-selector", "spec.nodeName=node-2"]),
        ["pod/web-6d9f"]
    );
    let err = k.fails(&[
        "get",
        "pods",
        "-n",
        "shop",
        "--field-selector",
        "spec.image=nginx",
    ]);
    assert!(
        err.contains("Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"\", field selector \"spec.image=nginx\": field label not supported: spec.image")
            || err.contains("field label not supported: spec.image"),
        "{err}"
    );
}

#[test]
fn get_certificate_yaml() {
    let k = setup();
    let out = k.ok(&["get", "cert", "web", "-n", "shop", "-o", "yaml"]);
    let obj: Value = serde_saphyr::from_str(&out).unwrap();
    assert_eq!(obj["kind"], "Certificate");
    assert_eq!(obj["apiVersion"], "cert-manager.io/v1");
    assert_eq!(
        obj["metadata"]["uid"],
        "0f6e1d2c-3b4a-4958-8776-a5b4c3d2e1f0"
    );
    assert_eq!(obj["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    assert!(
        obj["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
}

#[test]
fn not_found_and_forbidden_errors_as_kubectl_prints_them() {
    let k = setup();
    let err = k.fails(&["get", "certificate", "nope", "-n", "shop"]);
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): certificates.cert-manager.io \"nope\" not found"
    );
    let err = k.fails(&["get", "pod", "nope", "-n", "shop"]);
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): pods \"nope\" not found"
    );

    k.api
        .deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let err = k.fails(&["get", "challenges", "-n", "shop"]);
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): challenges.acme.cert-manager.io is forbidden: User \"system:anonymous\" \
         cannot list resource \"challenges\" in API group \"acme.cert-manager.io\" in the namespace \"shop\""
    );
    // Other namespaces are still allowed.
    assert!(
        k.run(&["get", "challenges", "-n", "default"])
            .status
            .success()
    );
    // The impersonated user is named.
    k.api.deny("get", "", "pods", None);
    let err = k.fails(&[
        "get",
        "pod",
        "cm-acme-http-solver-7mq4z",
        "-n",
        "shop",
        "--as",
        "jane",
    ]);
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): pods \"cm-acme-http-solver-7mq4z\" is forbidden: User \"jane\" cannot get \
         resource \"pods\" in API group \"\" in the namespace \"shop\""
    );
    assert!(
        k.api
            .requests()
            .iter()
            .any(|r| r.impersonate_user.as_deref() == Some("jane"))
    );
}

#[test]
fn removed_group_is_absent_like_a_missing_crd() {
    let k = setup();
    k.api.remove_group("gateway.networking.k8s.io");
    let err = k.fails(&["get", "httproutes", "-A"]);
    assert_eq!(
        err.trim(),
        "error: the server doesn't have a resource type \"httproutes\""
    );
    let groups = k.ok(&["api-versions"]);
    assert!(!groups.contains("gateway.networking.k8s.io"), "{groups}");
    assert!(
        groups.lines().any(|l| l == "acme.cert-manager.io/v1"),
        "{groups}"
    );
}

#[test]
fn apply_create_then_update_then_delete() {
    let k = setup();
    let dir = tempfile::tempdir().unwrap();
    let manifest = |secret: &str| {
        format!(
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: api\n  namespace: shop\n\
             spec:\n  dnsNames: [api.example.com]\n  secretName: {secret}\n  issuerRef:\n    name: letsencrypt-prod\n    kind: ClusterIssuer\n"
        )
    };
    let f = write(dir.path(), "cert.yaml", &manifest("api-tls"));
    assert_eq!(
        k.ok(&["apply", "-f", &f]),
        "certificate.cert-manager.io/api created\n"
    );
    let created = k
        .api
        .get("cert-manager.io/v1", "Certificate", Some("shop"), "api")
        .unwrap();
    assert_eq!(created["spec"]["secretName"], "api-tls");
    assert!(
        created["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );
    assert_eq!(
        k.ok(&["apply", "-f", &f]),
        "certificate.cert-manager.io/api unchanged\n"
    );

    let f = write(dir.path(), "cert.yaml", &manifest("api-tls-2"));
    assert_eq!(
        k.ok(&["apply", "-f", &f]),
        "certificate.cert-manager.io/api configured\n"
    );
    let updated = k
        .api
        .get("cert-manager.io/v1", "Certificate", Some("shop"), "api")
        .unwrap();
    assert_eq!(updated["spec"]["secretName"], "api-tls-2");
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(updated["metadata"]["generation"], 2);
    assert!(k.api.requests().iter().any(|r| r.method == "PATCH"
        && r.content_type.as_deref() == Some("application/merge-patch+json")));

    assert_eq!(
        k.ok(&["delete", "-f", &f]),
        "certificate.cert-manager.io \"api\" deleted\n"
    );
    assert!(
        k.api
            .get("cert-manager.io/v1", "Certificate", Some("shop"), "api")
            .is_none()
    );
    let err = k.fails(&["delete", "certificate", "api", "-n", "shop"]);
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): certificates.cert-manager.io \"api\" not found"
    );
}

#[test]
fn apply_builtin_uses_strategic_merge_patch() {
    let k = setup();
    let dir = tempfile::tempdir().unwrap();
    let svc = |port: u16| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  labels: {{app: web}}\n\
             spec:\n  selector: {{app: web}}\n  ports:\n  - name: http\n    port: {port}\n    targetPort: 8080\n"
        )
    };
    let f = write(dir.path(), "svc.yaml", &svc(80));
    assert_eq!(k.ok(&["apply", "-f", &f]), "service/web created\n");
    let f = write(dir.path(), "svc.yaml", &svc(8080));
    assert_eq!(k.ok(&["apply", "-f", &f]), "service/web configured\n");
    let s = k.api.get("v1", "Service", Some("shop"), "web").unwrap();
    assert_eq!(
        s["spec"]["ports"],
        serde_json::json!([{"name": "http", "port": 8080, "targetPort": 8080}])
    );
    assert!(k.api.requests().iter().any(|r| r.method == "PATCH"
        && r.content_type.as_deref() == Some("application/strategic-merge-patch+json")));
    // Built-ins answer DELETE with a Status; kubectl prints the same line.
    assert_eq!(
        k.ok(&["delete", "service", "web", "-n", "shop"]),
        "service \"web\" deleted\n"
    );
}

#[test]
fn create_conflict_and_invalid() {
    let k = setup();
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "dup.yaml",
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n  namespace: shop\nspec: {}\n",
    );
    let err = k.fails(&["create", "-f", &f]);
    assert!(
        err.contains("Error from server (AlreadyExists): error when creating \"")
            && err.contains("certificates.cert-manager.io \"web\" already exists"),
        "{err}"
    );
    let f = write(
        dir.path(),
        "gen.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: probe-\n  namespace: shop\nspec:\n  containers: [{name: c, image: busybox}]\n",
    );
    let out = k.ok(&["create", "-f", &f]);
    assert!(
        out.starts_with("pod/probe-") && out.ends_with(" created\n"),
        "{out}"
    );
}

#[test]
fn get_pods_watch_sees_added_then_modified() {
    let k = setup();
    let mut child = ChildGuard(
        k.cmd(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-w",
            "--output-watch-events",
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut consumed = 0;
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let mut it =
                serde_json::Deserializer::from_slice(&buf[consumed..]).into_iter::<Value>();
            while let Some(Ok(v)) = it.next() {
                if tx.send(v).is_err() {
                    return;
                }
            }
            consumed += it.byte_offset();
        }
    });
    let next = |what: &str| -> Value {
        rx.recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no {what} event from kubectl -w"))
    };
    let first = next("ADDED");
    assert_eq!(first["type"], "ADDED", "{first}");
    assert_eq!(
        first["object"]["metadata"]["name"],
        "cm-acme-http-solver-7mq4z"
    );

    // Wait until kubectl's watch request is open, then change the pod from the test side.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !k.api.requests().iter().any(|r| r.is_watch()) {
        assert!(Instant::now() < deadline, "kubectl never opened a watch");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut pod = k
        .api
        .get("v1", "Pod", Some("shop"), "cm-acme-http-solver-7mq4z")
        .unwrap();
    pod["status"]["phase"] = "Failed".into();
    k.api.update(pod).unwrap();
    let ev = next("MODIFIED");
    assert_eq!(ev["type"], "MODIFIED", "{ev}");
    assert_eq!(ev["object"]["status"]["phase"], "Failed");
    k.api
        .delete("v1", "Pod", Some("shop"), "cm-acme-http-solver-7mq4z")
        .unwrap();
    assert_eq!(next("DELETED")["type"], "DELETED");
}

#[test]
fn logs_and_follow() {
    let k = setup();
    k.api.set_pod_logs(
        "shop",
        "cm-acme-http-solver-7mq4z",
        "I1128 starting\nI1128 got request\n",
    );
    assert_eq!(
        k.ok(&["logs", "-n", "shop", "cm-acme-http-solver-7mq4z"]),
        "I1128 starting\nI1128 got request\n"
    );
    assert_eq!(
        k.ok(&[
            "logs",
            "-n",
            "shop",
            "cm-acme-http-solver-7mq4z",
            "--tail",
            "1"
        ]),
        "I1128 got request\n"
    );
    let mut child = ChildGuard(
        k.cmd(&["logs", "-f", "-n", "shop", "cm-acme-http-solver-7mq4z"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&chunk[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut appended = false;
    while !seen.contains("I1128 later\n") {
        assert!(Instant::now() < deadline, "follow output so far: {seen:?}");
        if let Ok(s) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push_str(&s);
        }
        if !appended && seen.contains("got request\n") {
            k.api
                .append_pod_logs("shop", "cm-acme-http-solver-7mq4z", "I1128 later\n");
            appended = true;
        }
    }
    assert_eq!(seen, "I1128 starting\nI1128 got request\nI1128 later\n");
}
