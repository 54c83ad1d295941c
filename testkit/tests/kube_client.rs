//! Fidelity tests: kube-rs (the client the plugin uses) against the fake API server.

use std::time::{Duration, Instant};

use acmecheck_testkit::fakeapi::{FakeApi, generate_certificates};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use serde_json::json;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/basic");

async fn client(api: &FakeApi) -> Client {
    let kc = Kubeconfig::read_from(api.kubeconfig()).unwrap();
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

fn certs(client: &Client, ns: Option<&str>) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate"),
        "certificates",
    );
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

fn challenges(client: &Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("acme.cert-manager.io", "v1", "Challenge"),
        "challenges",
    );
    Api::namespaced_with(client.clone(), ns, &ar)
}

fn api_error(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected kube::Error::Api, got {other:?}"),
    }
}

fn fixture_api() -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    assert_eq!(api.load_dir(FIXTURES).unwrap(), 9);
    api
}

#[tokio::test]
async fn list_with_selectors_and_pagination() {
    let api = fixture_api();
    let c = client(&api).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let solver = pods
        .list(&ListParams::default().labels("acme.cert-manager.io/http01-solver=true"))
        .await
        .unwrap();
    assert_eq!(solver.items.len(), 1);
    assert_eq!(
        solver.items[0].status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
    let rv: u64 = solver
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rv, api.resource_version());
    assert!(
        pods.list(&ListParams::default().labels("acme.cert-manager.io/http01-solver!=true"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        pods.list(&ListParams::default().fields("status.phase=Pending"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let by_node = pods
        .list(&ListParams::default().fields("spec.nodeName=node-1,metadata.namespace=shop"))
        .await
        .unwrap();
    assert_eq!(by_node.items.len(), 1);

    let err = api_error(
        pods.list(&ListParams::default().fields("spec.image=x"))
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (400, "BadRequest"));
    assert_eq!(err.message, "field label not supported: spec.image");

    // Pagination over all namespaces of 25 generated certificates.
    api.insert_many(generate_certificates(25, 4)).unwrap();
    let all = certs(&c, None);
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(10);
    loop {
        let page = all.list(&lp).await.unwrap();
        assert!(page.items.len() <= 10);
        names.extend(page.items.iter().map(|o| o.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(names.len(), 26, "25 generated + web");
    let mut dedup = names.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 26);
}

#[tokio::test]
async fn create_replace_patch_delete_and_status_errors() {
    let api = fixture_api();
    let c = client(&api).await;
    let certs = certs(&c, Some("shop"));

    let err = api_error(certs.get("nope").await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(
        err.message,
        "certificates.cert-manager.io \"nope\" not found"
    );
    let details = err.details.unwrap();
    assert_eq!(
        (
            details.name.as_str(),
            details.group.as_str(),
            details.kind.as_str()
        ),
        ("nope", "cert-manager.io", "certificates")
    );

    let mut obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "api"},
        "spec": {"dnsNames": ["api.example.com"], "secretName": "api-tls", "issuerRef": {"name": "letsencrypt-prod", "kind": "ClusterIssuer"}}
    }))
    .unwrap();
    let created = certs.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("shop"));
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());

    let err = api_error(
        certs
            .create(&PostParams::default(), &obj)
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(
        err.message,
        "certificates.cert-manager.io \"api\" already exists"
    );

    obj.metadata.name = None;
    let err = api_error(
        certs
            .create(&PostParams::default(), &obj)
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        err.message,
        "Certificate.cert-manager.io \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );
    obj.metadata.generate_name = Some("api-".into());
    let generated = certs.create(&PostParams::default(), &obj).await.unwrap();
    assert!(
        generated
            .metadata
            .name
            .as_deref()
            .unwrap()
            .starts_with("api-")
    );

    // Replace with the current resourceVersion works; the old one then conflicts.
    let mut next = created.clone();
    next.data["spec"]["secretName"] = "api-tls-2".into();
    let replaced = certs
        .replace("api", &PostParams::default(), &next)
        .await
        .unwrap();
    assert_eq!(replaced.data["spec"]["secretName"], "api-tls-2");
    assert_ne!(
        replaced.metadata.resource_version,
        created.metadata.resource_version
    );
    let err = api_error(
        certs
            .replace("api", &PostParams::default(), &next)
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        err.message,
        "Operation cannot be fulfilled on certificates.cert-manager.io \"api\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let patched = certs
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"tier": "edge"}}, "spec": {"secretName": null}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.unwrap()["tier"], "edge");
    assert!(patched.data["spec"].get("secretName").is_none());
    let status = certs
        .patch_status(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["conditions"][0]["status"], "True");

    let deleted = certs.delete("api", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        deleted.left().unwrap().metadata.name.as_deref(),
        Some("api")
    );
    assert_eq!(
        api_error(
            certs
                .delete("api", &DeleteParams::default())
                .await
                .unwrap_err()
        )
        .code,
        404
    );

    // Built-in Services answer DELETE with a Success Status.
    let svcs: Api<Service> = Api::namespaced(c.clone(), "shop");
    let gone = svcs
        .delete("cm-acme-http-solver-k8sdv", &DeleteParams::default())
        .await
        .unwrap();
    let st = gone.right().unwrap();
    assert_eq!(st.details.unwrap().name, "cm-acme-http-solver-k8sdv");
}

#[tokio::test]
async fn forbidden_and_absent_group() {
    let api = fixture_api();
    let c = client(&api).await;
    api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let err = api_error(
        challenges(&c, "shop")
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        err.message,
        "challenges.acme.cert-manager.io is forbidden: User \"system:anonymous\" cannot list resource \"challenges\" in API group \"acme.cert-manager.io\" in the namespace \"shop\""
    );
    // get is a different verb and stays allowed.
    assert!(
        challenges(&c, "shop")
            .get("web-1-3245019870-1801374226")
            .await
            .is_ok()
    );

    api.remove_group("acme.cert-manager.io");
    let err = api_error(
        challenges(&c, "default")
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(
        err.message,
        "the server could not find the requested resource"
    );
    let discovery = kube::Discovery::new(c.clone()).run().await.unwrap();
    assert!(!discovery.has_group("acme.cert-manager.io"));
    assert!(discovery.has_group("cert-manager.io"));
    let (ar, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk(
            "cert-manager.io",
            "v1",
            "Certificate",
        ))
        .unwrap();
    assert_eq!(ar.plural, "certificates");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
}

#[tokio::test]
async fn raw_watch_replays_from_resource_version_and_expires() {
    let api = fixture_api();
    let c = client(&api).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();

    let mut pod = api
        .get("v1", "Pod", Some("shop"), "cm-acme-http-solver-7mq4z")
        .unwrap();
    pod["status"]["phase"] = "Succeeded".into();
    api.update(pod).unwrap();
    api.insert(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other", "namespace": "shop"}})).unwrap();
    api.insert(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "elsewhere", "namespace": "kube-system"}})).unwrap();

    let wp = WatchParams::default().timeout(2);
    let events: Vec<_> = pods
        .watch(&wp, &rv)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(p) => format!("ADDED {}", p.metadata.name.as_deref().unwrap()),
            WatchEvent::Modified(p) => format!("MODIFIED {}", p.metadata.name.as_deref().unwrap()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["MODIFIED cm-acme-http-solver-7mq4z", "ADDED other"]);

    api.compact();
    let events: Vec<_> = pods
        .watch(&wp, &rv)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    match events.as_slice() {
        [WatchEvent::Error(s)] => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
            assert!(
                s.message
                    .starts_with(&format!("too old resource version: {rv} (")),
                "{}",
                s.message
            );
        }
        other => panic!("expected one 410 error event, got {other:?}"),
    }
}

async fn watcher_sees_updates(streaming: bool) {
    let api = fixture_api();
    let c = client(&api).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let mut cfg = watcher::Config::default().labels("acme.cert-manager.io/http01-solver=true");
    if streaming {
        cfg = cfg.streaming_lists();
    }
    let mut stream = watcher(pods, cfg).boxed();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("watcher event in time")
            .unwrap()
            .unwrap()
    };
    assert!(matches!(next().await, watcher::Event::Init));
    match next().await {
        watcher::Event::InitApply(p) => assert_eq!(
            p.metadata.name.as_deref(),
            Some("cm-acme-http-solver-7mq4z")
        ),
        other => panic!("expected InitApply, got {other:?}"),
    }
    assert!(matches!(next().await, watcher::Event::InitDone));

    // A pod that does not match the selector is not seen; a matching one is.
    api.insert(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "shop"}})).unwrap();
    let mut solver2 = api
        .get("v1", "Pod", Some("shop"), "cm-acme-http-solver-7mq4z")
        .unwrap();
    solver2["metadata"]["name"] = "cm-acme-http-solver-second".into();
    api.insert(solver2).unwrap();
    match next().await {
        watcher::Event::Apply(p) => assert_eq!(
            p.metadata.name.as_deref(),
            Some("cm-acme-http-solver-second")
        ),
        other => panic!("expected Apply, got {other:?}"),
    }
    // Losing the label looks like a deletion to a selector watch, as on a real server.
    let mut relabelled = api
        .get("v1", "Pod", Some("shop"), "cm-acme-http-solver-second")
        .unwrap();
    relabelled["metadata"]["labels"] = json!({});
    api.update(relabelled).unwrap();
    match next().await {
        watcher::Event::Delete(p) => assert_eq!(
            p.metadata.name.as_deref(),
            Some("cm-acme-http-solver-second")
        ),
        other => panic!("expected Delete, got {other:?}"),
    }
    api.delete("v1", "Pod", Some("shop"), "cm-acme-http-solver-7mq4z")
        .unwrap();
    match next().await {
        watcher::Event::Delete(p) => assert_eq!(
            p.metadata.name.as_deref(),
            Some("cm-acme-http-solver-7mq4z")
        ),
        other => panic!("expected Delete, got {other:?}"),
    }
}

#[tokio::test]
async fn watcher_list_then_watch() {
    watcher_sees_updates(false).await;
}

#[tokio::test]
async fn watcher_streaming_list() {
    watcher_sees_updates(true).await;
}

#[tokio::test]
async fn request_log_records_calls() {
    let api = fixture_api();
    let c = client(&api).await;
    api.clear_requests();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    pods.list(&ListParams::default().labels("a=b"))
        .await
        .unwrap();
    let _ = pods.get("x").await;
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("GET", "/api/v1/namespaces/shop/pods")
    );
    // Raw query as sent (kube-rs leaves a leading `&`).
    assert_eq!(reqs[0].query.trim_start_matches('&'), "labelSelector=a%3Db");
    assert_eq!(reqs[0].impersonate_user, None);
    assert_eq!(reqs[1].path, "/api/v1/namespaces/shop/pods/x");
    assert!(!reqs[0].is_discovery() && !reqs[0].is_watch());
}

#[tokio::test]
async fn pod_logs_over_kube() {
    let api = fixture_api();
    let c = client(&api).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    api.set_pod_logs("shop", "cm-acme-http-solver-7mq4z", "line1\nline2\n");
    let text = pods
        .logs("cm-acme-http-solver-7mq4z", &Default::default())
        .await
        .unwrap();
    assert_eq!(text, "line1\nline2\n");
    let err = api_error(pods.logs("missing", &Default::default()).await.unwrap_err());
    assert_eq!(err.message, "pods \"missing\" not found");
}

/// Scale: 1,000 generated chains (7,002 objects), listed across all namespaces.
/// Prints timings for the report; timing targets live in benchmarks, not here.
#[tokio::test]
async fn thousand_certificates_load_and_list() {
    let api = FakeApi::spawn().unwrap();
    let t = Instant::now();
    let objs = generate_certificates(1000, 20);
    let generated = t.elapsed();
    let t = Instant::now();
    assert_eq!(api.insert_many(objs).unwrap(), 2 + 7 * 1000);
    let loaded = t.elapsed();
    let c = client(&api).await;
    let t = Instant::now();
    let all_certs = certs(&c, None).list(&ListParams::default()).await.unwrap();
    let pods: Api<Pod> = Api::all(c.clone());
    let solver_pods = pods
        .list(&ListParams::default().labels("acme.cert-manager.io/http01-solver=true"))
        .await
        .unwrap();
    let listed = t.elapsed();
    assert_eq!(all_certs.items.len(), 1000);
    assert_eq!(solver_pods.items.len(), 1000);
    let ns_certs = certs(&c, Some("load-3"))
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(ns_certs.items.len(), 50);
    eprintln!(
        "scale: generate {generated:?}, load {loaded:?}, list 1000 certs + 1000 pods {listed:?}"
    );
}
