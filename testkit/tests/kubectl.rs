//! Fidelity tests: drive the fake API server with the real `kubectl`.
//! kubectl is found on PATH (or `$KUBECTL`); without it every test here fails and says so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use acmecheck_testkit::fakeapi::FakeApi;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/basic")
}

/// A fake server with the basic fixtures and the kubectl to drive it (found on PATH, or
/// `$KUBECTL`; the test fails with an install hint when there is none).
fn setup() -> (FakeApi, PathBuf) {
    let bin = acmecheck_testkit::tools::kubectl();
    let api = FakeApi::spawn().unwrap();
    api.load_dir(fixtures()).unwrap();
    (api, bin)
}

/// A discovery cache of this server's own (kubectl caches discovery per
/// host:port, and ports are reused between tests).
fn cache_dir(api: &FakeApi) -> PathBuf {
    api.kubeconfig().parent().unwrap().join("kubectl-cache")
}

fn kubectl(api: &FakeApi, bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .arg("--kubeconfig")
        .arg(api.kubeconfig())
        .arg("--cache-dir")
        .arg(cache_dir(api))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap()
}

/// `kubectl` with whitespace-separated arguments.
fn run(api: &FakeApi, bin: &Path, line: &str) -> Output {
    kubectl(api, bin, &line.split_whitespace().collect::<Vec<_>>())
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn err(out: &Output) -> String {
    assert!(!out.status.success(), "kubectl unexpectedly succeeded");
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn get_certificates_prints_printer_columns() {
    let (api, bin) = setup();
    let out = ok(&run(&api, &bin, "get certificates -n shop"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "SECRET", "AGE"]);
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&row[..3], ["web", "False", "web-tls"]);
    // Short name and the default namespace from the kubeconfig.
    let shop = api.kubeconfig_with_namespace("shop").unwrap();
    let out = Command::new(&bin)
        .arg("--kubeconfig")
        .arg(&shop)
        .arg("--cache-dir")
        .arg(cache_dir(&api))
        .args(["get", "cert", "-o", "name"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "certificate.cert-manager.io/web\n");
}

#[test]
fn get_challenges_all_namespaces_json() {
    let (api, bin) = setup();
    let out = ok(&run(&api, &bin, "get challenges -A -o json"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "Challenge");
    assert_eq!(items[0]["metadata"]["namespace"], "shop");
    assert_eq!(items[0]["spec"]["dnsName"], "shop.example.com");
    assert_eq!(items[0]["status"]["state"], "pending");
    let reqs = api.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "GET" && r.path == "/apis/acme.cert-manager.io/v1/challenges"),
        "{reqs:?}"
    );
    assert!(reqs.iter().all(|r| r.user_agent.starts_with("kubectl")));
}

#[test]
fn get_pods_by_label_selector() {
    let (api, bin) = setup();
    let mut other = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}, "status": {"phase": "Pending"}});
    api.insert(other.clone()).unwrap();
    other["metadata"]["name"] = "other".into();
    other["metadata"]["namespace"] = "default".into();
    api.insert(other).unwrap();
    let names = |args: &[&str]| {
        ok(&kubectl(
            &api,
            &bin,
            &[&["get", "pods", "-o", "name"], args].concat(),
        ))
    };
    let solver = "pod/cm-acme-http-solver-7x2kq\n";
    assert_eq!(
        names(&["-A", "-l", "acme.cert-manager.io/http01-solver=true"]),
        solver
    );
    assert_eq!(
        names(&["-n", "shop", "-l", "app in (web),!x"]),
        "pod/web-0\n"
    );
    assert_eq!(
        names(&[
            "-A",
            "--field-selector",
            "status.phase=Running,spec.nodeName=node-a"
        ]),
        solver
    );
}

#[test]
fn get_cert_yaml_round_trips_the_fixture() {
    let (api, bin) = setup();
    let out = ok(&run(&api, &bin, "get cert web -n shop -o yaml"));
    let v: serde_json::Value = serde_saphyr::from_str(&out).unwrap();
    assert_eq!(v["apiVersion"], "cert-manager.io/v1");
    assert_eq!(v["kind"], "Certificate");
    assert_eq!(v["metadata"]["uid"], "7a3e9a10-3f2b-4c55-9d1e-000000000001");
    assert_eq!(v["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    assert_eq!(v["status"]["conditions"][0]["type"], "Ready");
    let rv: u64 = v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv > 0 && rv <= api.resource_version());
}

/// `kubectl apply -f f` of Certificate shop/api: checks kubectl's verdict
/// (created/configured/unchanged) and returns the stored object.
fn apply_api_cert(api: &FakeApi, bin: &Path, f: &str, verdict: &str) -> serde_json::Value {
    assert_eq!(
        ok(&kubectl(api, bin, &["apply", "-f", f])),
        format!("certificate.cert-manager.io/api {verdict}\n")
    );
    api.get("cert-manager.io/v1", "Certificate", "shop", "api")
        .unwrap()
}

#[test]
fn apply_creates_then_updates_then_delete() {
    let (api, bin) = setup();
    // Inside the server's own temp dir, which Drop removes even if the test fails.
    let dir = api.kubeconfig().parent().unwrap().join("apply");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cert.yaml");
    let manifest = |secret: &str| {
        format!(
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  dnsNames: [api.example.com]\n  secretName: {secret}\n  issuerRef: {{name: letsencrypt-prod, kind: ClusterIssuer}}\n"
        )
    };
    std::fs::write(&file, manifest("api-tls")).unwrap();
    let f = file.to_str().unwrap();
    let created = apply_api_cert(&api, &bin, f, "created");
    assert_eq!(created["spec"]["secretName"], "api-tls");
    assert_eq!(created["metadata"]["generation"], 1);
    std::fs::write(&file, manifest("api-tls-2")).unwrap();
    let updated = apply_api_cert(&api, &bin, f, "configured");
    assert_eq!(updated["spec"]["secretName"], "api-tls-2");
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    apply_api_cert(&api, &bin, f, "unchanged");
    let patches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");

    assert_eq!(
        ok(&kubectl(&api, &bin, &["delete", "-f", f])),
        "certificate.cert-manager.io \"api\" deleted\n"
    );
    assert!(
        api.get("cert-manager.io/v1", "Certificate", "shop", "api")
            .is_none()
    );
    let e = err(&run(&api, &bin, "delete cert api -n shop"));
    assert_eq!(
        e,
        "Error from server (NotFound): certificates.cert-manager.io \"api\" not found\n"
    );
}

#[test]
fn apply_builtin_service_merges_ports_by_key() {
    let (api, bin) = setup();
    let dir = api.kubeconfig().parent().unwrap().join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("svc.yaml");
    let manifest = |port: u16| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {{app: web}}\n  ports:\n  - {{name: http, port: 80, targetPort: {port}}}\n"
        )
    };
    std::fs::write(&file, manifest(8080)).unwrap();
    let f = file.to_str().unwrap();
    ok(&kubectl(&api, &bin, &["apply", "-f", f]));
    std::fs::write(&file, manifest(9090)).unwrap();
    assert_eq!(
        ok(&kubectl(&api, &bin, &["apply", "-f", f])),
        "service/web configured\n"
    );
    let svc = api.get("v1", "Service", "shop", "web").unwrap();
    // `protocol: TCP` is the API server's default from the create; the patch keeps it.
    assert_eq!(
        svc["spec"]["ports"],
        serde_json::json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 9090}])
    );
}

/// Kills the child on drop, so a failing assertion leaves no kubectl behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts kubectl and streams its stdout lines over a channel.
fn spawn_lines(api: &FakeApi, bin: &Path, args: &[&str]) -> (KillOnDrop, mpsc::Receiver<String>) {
    let mut child = Command::new(bin)
        .arg("--kubeconfig")
        .arg(api.kubeconfig())
        .arg("--cache-dir")
        .arg(cache_dir(api))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (KillOnDrop(child), rx)
}

#[test]
fn get_pods_watch_sees_added_then_modified() {
    let (api, bin) = setup();
    let (_kubectl, rx) = spawn_lines(
        &api,
        &bin,
        &[
            "get",
            "pods",
            "-n",
            "shop",
            "-w",
            "--output-watch-events",
            "--no-headers",
        ],
    );
    let first = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(
        first.starts_with("ADDED") && first.contains("cm-acme-http-solver-7x2kq"),
        "{first}"
    );
    let mut pod = api
        .get("v1", "Pod", "shop", "cm-acme-http-solver-7x2kq")
        .unwrap();
    pod["status"]["phase"] = "Failed".into();
    api.update(pod).unwrap();
    let next = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let cols: Vec<&str> = next.split_whitespace().collect();
    // The pod printer's columns: NAME READY STATUS RESTARTS AGE.
    assert_eq!(
        &cols[..4],
        ["MODIFIED", "cm-acme-http-solver-7x2kq", "1/1", "Failed"],
        "{next}"
    );
    api.delete("v1", "Pod", "shop", "cm-acme-http-solver-7x2kq")
        .unwrap();
    let gone = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(gone.starts_with("DELETED"), "{gone}");
    let watches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.is_watch())
        .collect();
    assert_eq!(watches.len(), 1, "{watches:?}");
    assert!(
        watches[0].query.contains("resourceVersion="),
        "{:?}",
        watches[0]
    );
}

#[test]
fn not_found_error_text() {
    let (api, bin) = setup();
    let e = err(&run(&api, &bin, "get certificate nope -n shop"));
    assert_eq!(
        e,
        "Error from server (NotFound): certificates.cert-manager.io \"nope\" not found\n"
    );
    let e = err(&run(&api, &bin, "get pod nope -n shop"));
    assert_eq!(e, "Error from server (NotFound): pods \"nope\" not found\n");
}

#[test]
fn forbidden_error_text() {
    let (api, bin) = setup();
    api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let e = err(&run(&api, &bin, "get challenges -n shop"));
    assert_eq!(
        e,
        "Error from server (Forbidden): challenges.acme.cert-manager.io is forbidden: User \"system:anonymous\" cannot list resource \"challenges\" in API group \"acme.cert-manager.io\" in the namespace \"shop\"\n"
    );
    let e = err(&run(&api, &bin, "get challenges -A --as alice"));
    assert_eq!(
        e,
        "Error from server (Forbidden): challenges.acme.cert-manager.io is forbidden: User \"alice\" cannot list resource \"challenges\" in API group \"acme.cert-manager.io\" at the cluster scope\n"
    );
    let last = api.requests().pop().unwrap();
    assert_eq!(last.impersonate_user.as_deref(), Some("alice"));
    // Other namespaces and other verbs are untouched.
    ok(&run(&api, &bin, "get challenges -n default"));
    api.deny("get", "", "pods", None);
    let e = err(&run(
        &api,
        &bin,
        "get pod cm-acme-http-solver-7x2kq -n shop",
    ));
    assert_eq!(
        e,
        "Error from server (Forbidden): pods \"cm-acme-http-solver-7x2kq\" is forbidden: User \"system:anonymous\" cannot get resource \"pods\" in API group \"\" in the namespace \"shop\"\n"
    );
}

#[test]
fn removed_group_is_unknown_to_kubectl() {
    let (api, bin) = setup();
    ok(&run(&api, &bin, "get httproutes -A"));
    api.remove_group("gateway.networking.k8s.io");
    // With discovery still cached, kubectl lists and gets the 404 Status.
    let e = err(&run(&api, &bin, "get httproutes -A"));
    assert_eq!(
        e,
        "Error from server (NotFound): Unable to list \"gateway.networking.k8s.io/v1, Resource=httproutes\": the server could not find the requested resource\n"
    );
    // With fresh discovery the group is gone.
    std::fs::remove_dir_all(cache_dir(&api)).unwrap();
    let e = err(&run(&api, &bin, "get httproutes -A"));
    assert!(
        e.contains("the server doesn't have a resource type \"httproutes\""),
        "{e}"
    );
    let out = ok(&run(
        &api,
        &bin,
        "api-resources --api-group=cert-manager.io -o name",
    ));
    assert!(out.contains("certificates.cert-manager.io"), "{out}");
}

#[test]
fn pod_logs_and_follow() {
    let (api, bin) = setup();
    api.set_pod_logs(
        "shop",
        "cm-acme-http-solver-7x2kq",
        "line 1\nline 2\nline 3\n",
    );
    let out = ok(&run(
        &api,
        &bin,
        "logs -n shop cm-acme-http-solver-7x2kq --tail 2",
    ));
    assert_eq!(out, "line 2\nline 3\n");
    let (mut child, rx) = spawn_lines(
        &api,
        &bin,
        &["logs", "-f", "-n", "shop", "cm-acme-http-solver-7x2kq"],
    );
    for want in ["line 1", "line 2", "line 3"] {
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)).unwrap(), want);
    }
    api.append_pod_logs(
        "shop",
        "cm-acme-http-solver-7x2kq",
        "GET /.well-known/acme-challenge/x\n",
    );
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20)).unwrap(),
        "GET /.well-known/acme-challenge/x"
    );
    // Deleting the pod ends the stream and kubectl exits.
    api.delete("v1", "Pod", "shop", "cm-acme-http-solver-7x2kq")
        .unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success());
}

#[test]
fn auth_can_i_follows_deny_rules() {
    let (api, bin) = setup();
    let out = run(
        &api,
        &bin,
        "auth can-i list challenges.acme.cert-manager.io -n shop",
    );
    assert_eq!(ok(&out), "yes\n");
    api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let out = run(
        &api,
        &bin,
        "auth can-i list challenges.acme.cert-manager.io -n shop",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no\n");
    assert!(!out.status.success());
    let out = run(
        &api,
        &bin,
        "auth can-i list challenges.acme.cert-manager.io -n default",
    );
    assert_eq!(ok(&out), "yes\n");
    let out = run(&api, &bin, "auth can-i get pods --subresource=log -n shop");
    assert_eq!(ok(&out), "yes\n");
}

#[test]
fn server_side_apply_and_finalizer_removal_by_json_patch() {
    let (api, bin) = setup();
    let dir = api.kubeconfig().parent().unwrap().join("ssa");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cert.yaml");
    let manifest = |secret: &str| {
        format!(
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: ssa\n  namespace: shop\nspec:\n  dnsNames: [ssa.example.com]\n  secretName: {secret}\n  issuerRef: {{name: letsencrypt-prod, kind: ClusterIssuer}}\n"
        )
    };
    let f = file.to_str().unwrap();
    for secret in ["ssa-tls", "ssa-tls-2"] {
        std::fs::write(&file, manifest(secret)).unwrap();
        let out = kubectl(&api, &bin, &["apply", "--server-side", "-f", f]);
        assert_eq!(
            ok(&out),
            "certificate.cert-manager.io/ssa serverside-applied\n"
        );
        let cert = api
            .get("cert-manager.io/v1", "Certificate", "shop", "ssa")
            .unwrap();
        assert_eq!(cert["spec"]["secretName"], secret);
    }

    let ch = "web-1-3416283461-1903213741";
    let out = run(
        &api,
        &bin,
        &format!("delete challenge -n shop {ch} --wait=false"),
    );
    assert_eq!(
        ok(&out),
        format!("challenge.acme.cert-manager.io \"{ch}\" deleted\n")
    );
    let terminating = api
        .get("acme.cert-manager.io/v1", "Challenge", "shop", ch)
        .unwrap();
    assert!(terminating["metadata"]["deletionTimestamp"].is_string());
    let out = kubectl(
        &api,
        &bin,
        &[
            "patch",
            "challenge",
            "-n",
            "shop",
            ch,
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ],
    );
    ok(&out);
    assert!(
        api.get("acme.cert-manager.io/v1", "Challenge", "shop", ch)
            .is_none()
    );
}

#[test]
fn events_table_and_describe() {
    let (api, bin) = setup();
    let out = ok(&run(
        &api,
        &bin,
        "get events -n shop --sort-by=.metadata.name",
    ));
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert!(out.contains("order/web-1-3416283461"), "{out}");
    // describe finds the Challenge's events by field selector on involvedObject.
    let out = ok(&run(
        &api,
        &bin,
        "describe challenge -n shop web-1-3416283461-1903213741",
    ));
    assert!(
        out.contains("Presented challenge using HTTP-01 challenge mechanism"),
        "{out}"
    );
    assert!(!out.contains("Created Challenge resource"), "{out}");
    let listed = api.requests().into_iter().any(|r| {
        r.path == "/api/v1/namespaces/shop/events"
            && r.query.contains("fieldSelector=involvedObject")
    });
    assert!(listed);
}
