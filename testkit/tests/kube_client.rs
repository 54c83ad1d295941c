//! Fidelity tests with a kube-rs client (the one the plugin uses).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use acmecheck_testkit::fakeapi::{FakeApi, adler32, generate_certificates};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
    WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use serde_json::json;

async fn client(api: &FakeApi) -> Client {
    let kc = Kubeconfig::read_from(api.kubeconfig()).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

fn basic() -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    api.load_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/basic"))
        .unwrap();
    api
}

fn certificates(client: Client, ns: Option<&str>) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate"),
        "certificates",
    );
    match ns {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    }
}

fn api_status(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn list_with_selectors() {
    let api = basic();
    let c = client(&api).await;
    let pods: Api<Pod> = Api::all(c.clone());
    let l = pods
        .list(&ListParams::default().labels("acme.cert-manager.io/http01-solver=true"))
        .await
        .unwrap();
    assert_eq!(l.items.len(), 1);
    assert!(l.metadata.resource_version.is_some());
    let l = pods
        .list(&ListParams::default().labels("acme.cert-manager.io/http01-solver notin (true)"))
        .await
        .unwrap();
    assert!(l.items.is_empty());
    let l = pods
        .list(&ListParams::default().fields("status.phase=Running,metadata.namespace=shop"))
        .await
        .unwrap();
    assert_eq!(l.items.len(), 1);
    let e = pods
        .list(&ListParams::default().fields("spec.bogus=1"))
        .await
        .unwrap_err();
    let s = api_status(e);
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
    assert_eq!(s.message, "field label not supported: spec.bogus");

    let certs = certificates(c.clone(), Some("shop"))
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(certs.items.len(), 1);
    assert_eq!(certs.items[0].data["spec"]["secretName"], "web-tls");
    let none = certificates(c, Some("default"))
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn paging_with_limit_and_continue() {
    let api = FakeApi::spawn().unwrap();
    api.insert_many(generate_certificates(25, 3)).unwrap();
    let certs = certificates(client(&api).await, None);
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(10);
    let mut pages = 0;
    loop {
        let page = certs.list(&lp).await.unwrap();
        pages += 1;
        names.extend(page.items.iter().map(|o| o.metadata.name.clone().unwrap()));
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 25);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 25);
}

#[tokio::test]
async fn create_conflicts_and_delete() {
    let api = basic();
    let cms: Api<ConfigMap> = Api::namespaced(client(&api).await, "shop");
    let cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg"}, "data": {"a": "1"}}))
    .unwrap();
    let created = cms.create(&PostParams::default(), &cm).await.unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("shop"));
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let rv1 = created.metadata.resource_version.clone().unwrap();

    let s = api_status(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(s.message, "configmaps \"cfg\" already exists");

    let gen_cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"generateName": "cfg-"}}))
    .unwrap();
    let g = cms.create(&PostParams::default(), &gen_cm).await.unwrap();
    let gname = g.metadata.name.unwrap();
    assert!(gname.starts_with("cfg-") && gname.len() == 9, "{gname}");

    let nameless: ConfigMap = serde_json::from_value(json!({"data": {}})).unwrap();
    let s = api_status(
        cms.create(&PostParams::default(), &nameless)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        s.message,
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );

    let mut changed = created.clone();
    changed.data = Some([("a".to_string(), "2".to_string())].into());
    let replaced = cms
        .replace("cfg", &PostParams::default(), &changed)
        .await
        .unwrap();
    let rv2 = replaced.metadata.resource_version.clone().unwrap();
    assert!(rv2.parse::<u64>().unwrap() > rv1.parse::<u64>().unwrap());
    // The same (now stale) resourceVersion again: Conflict.
    let s = api_status(
        cms.replace("cfg", &PostParams::default(), &changed)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on configmaps \"cfg\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // ConfigMap storage does not return deleted objects: a DELETE answers with a Status
    // `Success` naming the object (apiserver `genericregistry.Store.finalizeDelete`).
    let deleted = cms.delete("cfg", &DeleteParams::default()).await.unwrap();
    let gone = deleted.right().expect("a Status");
    assert_eq!(
        gone.status,
        Some(kube::core::response::StatusSummary::Success)
    );
    let details = gone.details.expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("cfg", "configmaps")
    );
    let s = api_status(cms.get("cfg").await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));

    let ns_missing: Api<ConfigMap> = Api::namespaced(client(&api).await, "nowhere");
    let s = api_status(
        ns_missing
            .create(&PostParams::default(), &cm)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "namespaces \"nowhere\" not found")
    );
}

#[tokio::test]
async fn status_errors_for_crds_and_rbac() {
    let api = basic();
    let c = client(&api).await;
    let s = api_status(
        certificates(c.clone(), Some("shop"))
            .get("nope")
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "certificates.cert-manager.io \"nope\" not found");

    api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("acme.cert-manager.io", "v1", "Challenge"),
        "challenges",
    );
    let ch: Api<DynamicObject> = Api::namespaced_with(c.clone(), "shop", &ar);
    let s = api_status(ch.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "challenges.acme.cert-manager.io is forbidden: User \"system:anonymous\" cannot list resource \"challenges\" in API group \"acme.cert-manager.io\" in the namespace \"shop\""
    );
    // get is still allowed.
    ch.get("web-1-3416283461-1903213741").await.unwrap();

    api.remove_group("cert-manager.io");
    let s = api_status(
        certificates(c, Some("shop"))
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(
        s.message,
        "the server could not find the requested resource"
    );
}

type PodEvents = futures::stream::BoxStream<'static, Result<watcher::Event<Pod>, watcher::Error>>;

/// Reads a watcher's initial batch (Init … InitDone); returns the names.
async fn initial_names(events: &mut PodEvents) -> Vec<String> {
    let mut initial = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), events.try_next()).await;
        match next.unwrap().unwrap() {
            Some(watcher::Event::Init) => {}
            Some(watcher::Event::InitApply(p)) => initial.push(p.metadata.name.unwrap()),
            Some(watcher::Event::InitDone) => return initial,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn runtime_watcher_sees_init_apply_and_delete() {
    let api = basic();
    let pods: Api<Pod> = Api::namespaced(client(&api).await, "shop");
    let mut events = watcher(pods, watcher::Config::default()).boxed();
    let initial = initial_names(&mut events).await;
    assert_eq!(initial, ["cm-acme-http-solver-7x2kq"]);
    let mut pod = api
        .get("v1", "Pod", "shop", "cm-acme-http-solver-7x2kq")
        .unwrap();
    pod["status"]["phase"] = json!("Failed");
    api.update(pod).unwrap();
    match tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        Some(watcher::Event::Apply(p)) => {
            assert_eq!(p.status.unwrap().phase.as_deref(), Some("Failed"))
        }
        other => panic!("unexpected {other:?}"),
    }
    api.delete("v1", "Pod", "shop", "cm-acme-http-solver-7x2kq")
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        Some(watcher::Event::Delete(p)) => {
            assert_eq!(
                p.metadata.name.as_deref(),
                Some("cm-acme-http-solver-7x2kq")
            )
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn watch_replays_from_resource_version_and_expires() {
    let api = basic();
    let c = client(&api).await;
    let cms: Api<ConfigMap> = Api::namespaced(c, "shop");
    let start = api.resource_version().to_string();
    for name in ["a", "b"] {
        api.insert(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop"}}))
            .unwrap();
    }
    api.delete("v1", "ConfigMap", "shop", "a").unwrap();
    let wp = WatchParams::default().timeout(2).disable_bookmarks();
    let evs: Vec<_> = cms
        .watch(&wp, &start)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<String> = evs
        .iter()
        .map(|e| match e {
            WatchEvent::Added(o) => format!("ADDED {}", o.metadata.name.clone().unwrap()),
            WatchEvent::Modified(o) => format!("MODIFIED {}", o.metadata.name.clone().unwrap()),
            WatchEvent::Deleted(o) => format!("DELETED {}", o.metadata.name.clone().unwrap()),
            WatchEvent::Bookmark(_) => "BOOKMARK".into(),
            WatchEvent::Error(s) => format!("ERROR {}", s.code),
        })
        .collect();
    assert_eq!(kinds, ["ADDED a", "ADDED b", "DELETED a"]);

    // Bookmarks at the end when asked for.
    let now = api.resource_version().to_string();
    let wp = WatchParams::default().timeout(1);
    let evs: Vec<_> = cms
        .watch(&wp, &now)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        matches!(evs.as_slice(), [WatchEvent::Bookmark(_)]),
        "{evs:?}"
    );

    api.compact();
    let evs: Vec<_> = cms
        .watch(&WatchParams::default().timeout(2), &start)
        .await
        .unwrap()
        .collect()
        .await;
    match evs.as_slice() {
        [Ok(WatchEvent::Error(s))] => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
            assert!(
                s.message
                    .starts_with(&format!("too old resource version: {start} (")),
                "{}",
                s.message
            );
        }
        other => panic!("expected one 410 ERROR event, got {other:?}"),
    }
}

/// Raw HTTP/1.1 GET, for checking exact bytes.
fn raw_get(api: &FakeApi, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(api.addr()).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        api.addr()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_string();
    (code, body)
}

#[test]
fn status_json_has_the_exact_server_shape() {
    let api = basic();
    let (code, body) = raw_get(
        &api,
        "/apis/cert-manager.io/v1/namespaces/shop/certificates/web2",
    );
    assert_eq!(code, 404);
    assert_eq!(
        body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"certificates.cert-manager.io \"web2\" not found","reason":"NotFound","details":{"name":"web2","group":"cert-manager.io","kind":"certificates"},"code":404}"#
    );
    let (code, body) = raw_get(&api, "/apis/example.com/v1/widgets");
    assert_eq!(code, 404);
    assert_eq!(
        body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#
    );
    let (code, body) = raw_get(&api, "/apis");
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let groups: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for g in [
        "apps",
        "networking.k8s.io",
        "gateway.networking.k8s.io",
        "cert-manager.io",
        "acme.cert-manager.io",
        "discovery.k8s.io",
    ] {
        assert!(groups.contains(&g), "{g} missing from {groups:?}");
    }
    let (_, body) = raw_get(&api, "/apis/cert-manager.io/v1");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cert = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "certificates")
        .unwrap();
    assert_eq!(cert["shortNames"], json!(["cert", "certs"]));
    assert_eq!(cert["categories"], json!(["cert-manager"]));
    assert_eq!(cert["namespaced"], true);
    assert!(cert["verbs"].as_array().unwrap().contains(&json!("watch")));
    let (_, body) = raw_get(&api, "/apis/cert-manager.io/v1/clusterissuers");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "ClusterIssuerList");
    assert_eq!(v["items"][0]["metadata"].get("namespace"), None);
}

#[test]
fn generated_chains_load_and_list() {
    let api = FakeApi::spawn().unwrap();
    let objs = generate_certificates(1000, 10);
    assert_eq!(objs.len(), 1000 * 7 + 10 + 1);
    assert_eq!(api.insert_many(objs).unwrap(), 7011);
    let (code, body) = raw_get(&api, "/apis/acme.cert-manager.io/v1/challenges");
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1000);
    let (_, body) = raw_get(
        &api,
        "/api/v1/namespaces/team-3/pods?labelSelector=acme.cert-manager.io%2Fhttp01-solver%3Dtrue",
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn finalizers_delay_deletion_until_removed() {
    let api = basic();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("acme.cert-manager.io", "v1", "Challenge"),
        "challenges",
    );
    let ch: Api<DynamicObject> = Api::namespaced_with(client(&api).await, "shop", &ar);
    let name = "web-1-3416283461-1903213741";
    let deleted = ch.delete(name, &DeleteParams::default()).await.unwrap();
    let obj = deleted.left().unwrap();
    assert!(obj.metadata.deletion_timestamp.is_some());
    // Still there, terminating.
    let still = ch.get(name).await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some());
    assert_eq!(still.data["status"]["state"], "pending");
    // Removing the finalizer completes the deletion.
    let patch = kube::api::Patch::Merge(json!({"metadata": {"finalizers": null}}));
    ch.patch(name, &kube::api::PatchParams::default(), &patch)
        .await
        .unwrap();
    let s = api_status(ch.get(name).await.unwrap_err());
    assert_eq!(s.code, 404);
}

#[tokio::test]
async fn status_subresource_and_main_resource_are_separate() {
    let api = basic();
    let certs = certificates(client(&api).await, Some("shop"));
    let pp = kube::api::PatchParams::default();
    // A main-resource patch cannot change status...
    let p = kube::api::Patch::Merge(
        json!({"spec": {"secretName": "other"}, "status": {"revision": 9}}),
    );
    let o = certs.patch("web", &pp, &p).await.unwrap();
    assert_eq!(o.data["spec"]["secretName"], "other");
    assert!(o.data["status"].get("revision").is_none());
    assert_eq!(o.metadata.generation, Some(2));
    // ...and a status patch changes only status.
    let p =
        kube::api::Patch::Merge(json!({"spec": {"secretName": "x"}, "status": {"revision": 9}}));
    let o = certs.patch_status("web", &pp, &p).await.unwrap();
    assert_eq!(o.data["status"]["revision"], 9);
    assert_eq!(o.data["spec"]["secretName"], "other");
    assert_eq!(o.metadata.generation, Some(2));
}

#[test]
fn watch_on_a_named_path_and_legacy_prefix() {
    let api = basic();
    api.insert(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other", "namespace": "shop"}}))
        .unwrap();
    for path in [
        "/api/v1/namespaces/shop/pods/other?watch=true&timeoutSeconds=1",
        "/api/v1/watch/namespaces/shop/pods/other?timeoutSeconds=1",
    ] {
        let (code, body) = raw_get(&api, path);
        assert_eq!(code, 200, "{path}");
        assert_eq!(body.matches("\"type\":").count(), 1, "{path}: {body}");
        assert!(
            body.contains("\"type\":\"ADDED\"") && body.contains("\"name\":\"other\""),
            "{body}"
        );
    }
}

#[tokio::test]
async fn groups_come_and_go_and_yaml_lists_load() {
    let api = FakeApi::spawn().unwrap();
    let c = client(&api).await;
    let n = api
        .load_yaml(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: cert-manager.io/v1\n  kind: Certificate\n  metadata: {name: a, namespace: shop}\n- apiVersion: cert-manager.io/v1\n  kind: Certificate\n  metadata: {name: b, namespace: shop}\n---\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n",
        )
        .unwrap();
    assert_eq!(n, 3);
    // The namespace was created for the fixtures.
    assert!(api.get("v1", "Namespace", "", "shop").is_some());
    // A kind outside the table is served under its guessed plural.
    let (code, body) = raw_get(&api, "/apis/example.com/v1/namespaces/shop/widgets/w");
    assert_eq!(code, 200, "{body}");

    api.remove_group("cert-manager.io");
    assert!(api.list("cert-manager.io/v1", "Certificate").is_empty());
    let s = api_status(
        certificates(c.clone(), Some("shop"))
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 404);
    let (_, apis) = raw_get(&api, "/apis");
    assert!(!apis.contains("\"cert-manager.io\""), "{apis}");
    api.install_crds("cert-manager.io");
    let l = certificates(c, Some("shop"))
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(l.items.is_empty());
    let (_, apis) = raw_get(&api, "/apis");
    assert!(apis.contains("\"cert-manager.io\""), "{apis}");
}

#[tokio::test]
async fn discovery_legacy_and_aggregated() {
    let api = basic();
    api.remove_group("gateway.networking.k8s.io");
    let c = client(&api).await;
    for aggregated in [false, true] {
        api.clear_requests();
        let d = kube::Discovery::new(c.clone());
        let d = if aggregated {
            d.run_aggregated().await
        } else {
            d.run().await
        }
        .unwrap();
        assert!(d.has_group("cert-manager.io"));
        assert!(d.has_group("acme.cert-manager.io"));
        assert!(!d.has_group("gateway.networking.k8s.io"));
        let cm = d.get("cert-manager.io").unwrap();
        let (ar, caps) = cm
            .recommended_resources()
            .into_iter()
            .find(|(ar, _)| ar.kind == "ClusterIssuer")
            .unwrap();
        assert_eq!(ar.plural, "clusterissuers");
        assert_eq!(caps.scope, kube::discovery::Scope::Cluster);
        let core = d.get("").unwrap();
        assert!(
            core.recommended_resources()
                .iter()
                .any(|(ar, _)| ar.plural == "pods")
        );
        let n = api.requests().len();
        if aggregated {
            assert_eq!(
                n, 2,
                "aggregated discovery is one request each for /api and /apis"
            );
        } else {
            assert!(n > 2);
        }
    }
}

#[tokio::test]
async fn streaming_list_watcher_gets_initial_events_end() {
    let api = basic();
    let pods: Api<Pod> = Api::all(client(&api).await);
    let cfg = watcher::Config::default().streaming_lists();
    let mut events = watcher(pods, cfg).boxed();
    let initial = initial_names(&mut events).await;
    assert_eq!(initial, ["cm-acme-http-solver-7x2kq"]);
    let watches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.is_watch())
        .collect();
    assert_eq!(watches.len(), 1, "{watches:?}");
    assert!(watches[0].query.contains("sendInitialEvents=true"));
    // No LIST request in streaming mode.
    assert!(api.requests().iter().all(|r| r.is_watch()));
}

#[test]
fn basic_fixtures_link_like_cert_manager() {
    let api = basic();
    let uid = |o: &serde_json::Value| o["metadata"]["uid"].as_str().unwrap().to_string();
    let owner = |o: &serde_json::Value| {
        let refs = o["metadata"]["ownerReferences"].as_array().unwrap();
        let ctl: Vec<_> = refs.iter().filter(|r| r["controller"] == true).collect();
        assert_eq!(ctl.len(), 1);
        ctl[0]["uid"].as_str().unwrap().to_string()
    };
    let one = |av: &str, kind: &str| {
        let mut l = api.list(av, kind);
        assert_eq!(l.len(), 1, "{kind}");
        l.remove(0)
    };
    let cert = one("cert-manager.io/v1", "Certificate");
    let cr = one("cert-manager.io/v1", "CertificateRequest");
    let order = one("acme.cert-manager.io/v1", "Order");
    let ch = one("acme.cert-manager.io/v1", "Challenge");
    assert_eq!(owner(&cr), uid(&cert));
    assert_eq!(
        cr["metadata"]["annotations"]["cert-manager.io/certificate-revision"],
        "1"
    );
    assert_eq!(owner(&order), uid(&cr));
    assert_eq!(owner(&ch), uid(&order));
    let dns = ch["spec"]["dnsName"].as_str().unwrap();
    let token = ch["spec"]["token"].as_str().unwrap();
    assert!(
        ch["spec"]["key"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{token}."))
    );
    let auth = &order["status"]["authorizations"][0];
    assert_eq!(auth["url"], ch["spec"]["authorizationURL"]);
    assert_eq!(auth["challenges"][0]["url"], ch["spec"]["url"]);
    for kind in [
        ("v1", "Pod"),
        ("v1", "Service"),
        ("networking.k8s.io/v1", "Ingress"),
    ] {
        let o = one(kind.0, kind.1);
        assert_eq!(owner(&o), uid(&ch), "{kind:?}");
        let labels = &o["metadata"]["labels"];
        assert_eq!(
            labels["acme.cert-manager.io/http-domain"],
            adler32(dns.as_bytes()).to_string()
        );
        assert_eq!(
            labels["acme.cert-manager.io/http-token"],
            adler32(token.as_bytes()).to_string()
        );
        assert_eq!(labels["acme.cert-manager.io/http01-solver"], "true");
    }
    let ing = one("networking.k8s.io/v1", "Ingress");
    let path = &ing["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["path"], format!("/.well-known/acme-challenge/{token}"));
    assert_eq!(path["pathType"], "Exact");
    let svc = one("v1", "Service");
    assert_eq!(path["backend"]["service"]["name"], svc["metadata"]["name"]);
    assert_eq!(
        ing["spec"]["ingressClassName"],
        one("networking.k8s.io/v1", "IngressClass")["metadata"]["name"]
    );
}
