//! The kinds a solver is made of — Services, Ingresses, HTTPRoutes — through the fake API
//! server with a kube-rs client: create (with the API server's defaults, allocations and
//! validation), get, watch, delete, and the errors a client meets (409 AlreadyExists, 404
//! NotFound, 403 in the RBAC authorizer's wording, 422 Invalid), in the real servers' shapes.

use acmecheck_testkit::fakeapi::{FakeApi, SERVICE_NET, SERVICE_RANGE};
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, PostParams, WatchEvent,
    WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

const NS: &str = "shop";

async fn client(api: &FakeApi) -> Client {
    let kc = Kubeconfig::read_from(api.kubeconfig()).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

fn server() -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    api.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .unwrap();
    api
}

fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn services() -> ApiResource {
    ar("", "v1", "Service", "services")
}
fn ingresses() -> ApiResource {
    ar("networking.k8s.io", "v1", "Ingress", "ingresses")
}
fn routes() -> ApiResource {
    ar("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes")
}

fn obj(v: Value) -> DynamicObject {
    serde_json::from_value(v).unwrap()
}

fn status(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("not an API error: {other}"),
    }
}

fn service(name: &str, ty: &str) -> DynamicObject {
    obj(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"type": ty, "ports": [{"name": "http", "port": 8089, "targetPort": 8089}],
            "selector": {"acmecheck.io/replay-solver": name}}}),
    )
}

fn ingress(name: &str) -> DynamicObject {
    obj(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "shop.example.com", "http": {"paths": [{
            "path": "/.well-known/acme-challenge/tok", "pathType": "Exact",
            "backend": {"service": {"name": name, "port": {"number": 8089}}}}]}}]}}),
    )
}

fn route(name: &str) -> DynamicObject {
    obj(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": name},
        "spec": {"parentRefs": [{"name": "public", "namespace": "gateways"}], "hostnames": ["shop.example.com"],
            "rules": [{"matches": [{"path": {"type": "Exact", "value": "/.well-known/acme-challenge/tok"}}],
                "backendRefs": [{"name": name, "port": 8089}]}]}}),
    )
}

#[tokio::test]
async fn services_get_the_api_servers_defaults_and_allocations() {
    let api = server();
    let svcs: Api<DynamicObject> = Api::namespaced_with(client(&api).await, NS, &services());
    let created = svcs
        .create(&PostParams::default(), &service("solver-a", "NodePort"))
        .await
        .unwrap();
    let spec = &created.data["spec"];
    let ip = spec["clusterIP"].as_str().unwrap();
    let last: u8 = ip
        .strip_prefix(&format!("{SERVICE_NET}."))
        .unwrap()
        .parse()
        .unwrap();
    assert!((SERVICE_RANGE.0..=SERVICE_RANGE.1).contains(&last), "{ip}");
    assert_eq!(spec["clusterIPs"], json!([ip]));
    let node_port = spec["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&node_port), "{node_port}");
    assert_eq!(spec["ports"][0]["protocol"], "TCP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["externalTrafficPolicy"], "Cluster");
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    assert_eq!(created.data["status"], json!({"loadBalancer": {}}));
    // A second Service gets another address; ClusterIP type gets no nodePort.
    let other = svcs
        .create(&PostParams::default(), &service("solver-b", "ClusterIP"))
        .await
        .unwrap();
    assert_ne!(other.data["spec"]["clusterIP"], spec["clusterIP"]);
    assert_eq!(other.data["spec"]["ports"][0].get("nodePort"), None);
    // generateName works as for pods.
    let mut generated = service("", "ClusterIP");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("cm-acme-http-solver-".into());
    let g = svcs
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert_eq!(
        g.metadata.name.as_deref().unwrap().len(),
        "cm-acme-http-solver-".len() + 5
    );
    // The errors a client meets.
    let s = status(
        svcs.create(&PostParams::default(), &service("solver-a", "NodePort"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (409, "AlreadyExists", "services \"solver-a\" already exists")
    );
    let mut no_ports = service("bare", "ClusterIP");
    no_ports.data["spec"]
        .as_object_mut()
        .unwrap()
        .remove("ports");
    let s = status(
        svcs.create(&PostParams::default(), &no_ports)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            422,
            "Service \"bare\" is invalid: spec.ports: Required value"
        )
    );
    let s = status(
        svcs.create(&PostParams::default(), &service("odd", "Magic"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "Service \"odd\" is invalid: spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
    );
    let mut same_ip = service("dup", "ClusterIP");
    same_ip.data["spec"]["clusterIP"] = json!(ip);
    let s = status(
        svcs.create(&PostParams::default(), &same_ip)
            .await
            .unwrap_err(),
    );
    assert!(
        s.message.ends_with(&format!(
            "failed to allocate IP {ip}: provided IP is already allocated"
        )),
        "{}",
        s.message
    );
    // GET, DELETE (a Service comes back as the deleted object), then 404s.
    assert_eq!(
        svcs.get("solver-a").await.unwrap().data["spec"]["clusterIP"],
        json!(ip)
    );
    let deleted = svcs
        .delete("solver-a", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(
        deleted.left().unwrap().metadata.name.as_deref(),
        Some("solver-a")
    );
    let s = status(svcs.get("solver-a").await.unwrap_err());
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (404, "NotFound", "services \"solver-a\" not found")
    );
    let s = status(
        svcs.delete("solver-a", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 404);
    // The freed address is handed out again.
    let again = svcs
        .create(&PostParams::default(), &service("solver-c", "ClusterIP"))
        .await
        .unwrap();
    assert_eq!(again.data["spec"]["clusterIP"], json!(ip));
}

#[tokio::test]
async fn ingresses_and_routes_answer_delete_with_a_status() {
    let api = server();
    let c = client(&api).await;
    let ings: Api<DynamicObject> = Api::namespaced_with(c.clone(), NS, &ingresses());
    let rts: Api<DynamicObject> = Api::namespaced_with(c, NS, &routes());
    ings.create(&PostParams::default(), &ingress("solver-a"))
        .await
        .unwrap();
    let r = rts
        .create(&PostParams::default(), &route("solver-a"))
        .await
        .unwrap();
    // The HTTPRoute CRD's schema defaults.
    assert_eq!(
        r.data["spec"]["parentRefs"][0]["group"],
        "gateway.networking.k8s.io"
    );
    assert_eq!(r.data["spec"]["parentRefs"][0]["kind"], "Gateway");
    assert_eq!(
        r.data["spec"]["rules"][0]["backendRefs"][0],
        json!({"name": "solver-a", "port": 8089, "group": "", "kind": "Service", "weight": 1})
    );
    let s = status(
        ings.create(&PostParams::default(), &ingress("solver-a"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            409,
            "ingresses.networking.k8s.io \"solver-a\" already exists"
        )
    );
    let s = status(
        rts.create(&PostParams::default(), &route("solver-a"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            409,
            "httproutes.gateway.networking.k8s.io \"solver-a\" already exists"
        )
    );
    for (api, group, plural) in [
        (&ings, "networking.k8s.io", "ingresses"),
        (&rts, "gateway.networking.k8s.io", "httproutes"),
    ] {
        let uid = api.get("solver-a").await.unwrap().metadata.uid.unwrap();
        let gone = api
            .delete("solver-a", &DeleteParams::default())
            .await
            .unwrap()
            .right()
            .expect("a Status");
        let d = gone.details.unwrap();
        assert_eq!(
            (
                d.name.as_str(),
                d.group.as_str(),
                d.kind.as_str(),
                d.uid.as_str()
            ),
            ("solver-a", group, plural, uid.as_str())
        );
        let s = status(api.get("solver-a").await.unwrap_err());
        assert_eq!(
            (s.code, s.message),
            (404, format!("{plural}.{group} \"solver-a\" not found"))
        );
    }
}

#[tokio::test]
async fn ingress_validation_like_the_api_server() {
    let api = server();
    let ings: Api<DynamicObject> = Api::namespaced_with(client(&api).await, NS, &ingresses());
    let mut no_type = ingress("a");
    no_type.data["spec"]["rules"][0]["http"]["paths"][0]
        .as_object_mut()
        .unwrap()
        .remove("pathType");
    let s = status(
        ings.create(&PostParams::default(), &no_type)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "Ingress.networking.k8s.io \"a\" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
    );
    let mut both = ingress("b");
    both.metadata.annotations =
        Some([("kubernetes.io/ingress.class".to_owned(), "nginx".to_owned())].into());
    let s = status(
        ings.create(&PostParams::default(), &both)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "Ingress.networking.k8s.io \"b\" is invalid: annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": can not be set when the class field is also set"
    );
    let mut relative = ingress("c");
    relative.data["spec"]["rules"][0]["http"]["paths"][0]["path"] = json!("well-known");
    let s = status(
        ings.create(&PostParams::default(), &relative)
            .await
            .unwrap_err(),
    );
    assert!(s.message.ends_with("spec.rules[0].http.paths[0].path: Invalid value: \"well-known\": must be an absolute path"), "{}", s.message);
}

#[tokio::test]
async fn rbac_denials_name_verb_resource_and_namespace() {
    let api = server();
    api.deny("create", "networking.k8s.io", "ingresses", Some(NS));
    api.deny("delete", "", "services", Some(NS));
    api.deny(
        "create",
        "gateway.networking.k8s.io",
        "httproutes",
        Some(NS),
    );
    let c = client(&api).await;
    let ings: Api<DynamicObject> = Api::namespaced_with(c.clone(), NS, &ingresses());
    let s = status(
        ings.create(&PostParams::default(), &ingress("a"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (
            403,
            "Forbidden",
            "ingresses.networking.k8s.io is forbidden: User \"system:anonymous\" cannot create resource \"ingresses\" in API group \"networking.k8s.io\" in the namespace \"shop\""
        )
    );
    let rts: Api<DynamicObject> = Api::namespaced_with(c.clone(), NS, &routes());
    let s = status(
        rts.create(&PostParams::default(), &route("a"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "httproutes.gateway.networking.k8s.io is forbidden: User \"system:anonymous\" cannot create resource \"httproutes\" in API group \"gateway.networking.k8s.io\" in the namespace \"shop\""
    );
    let svcs: Api<DynamicObject> = Api::namespaced_with(c, NS, &services());
    svcs.create(&PostParams::default(), &service("a", "ClusterIP"))
        .await
        .unwrap();
    let s = status(
        svcs.delete("a", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "services \"a\" is forbidden: User \"system:anonymous\" cannot delete resource \"services\" in API group \"\" in the namespace \"shop\""
    );
}

#[tokio::test]
async fn watches_see_each_kind_come_and_go() {
    let api = server();
    let c = client(&api).await;
    for (ar, make) in [
        (services(), service as fn(&str, &str) -> DynamicObject),
        (ingresses(), |n: &str, _: &str| ingress(n)),
        (routes(), |n: &str, _: &str| route(n)),
    ] {
        let objs: Api<DynamicObject> = Api::namespaced_with(c.clone(), NS, &ar);
        let stream = objs
            .watch(&WatchParams::default().timeout(10), "0")
            .await
            .unwrap();
        let mut stream = stream.boxed();
        objs.create(&PostParams::default(), &make("w", "ClusterIP"))
            .await
            .unwrap();
        objs.delete("w", &DeleteParams::default()).await.unwrap();
        let mut seen = Vec::new();
        while seen.len() < 2 {
            match stream.try_next().await.unwrap() {
                Some(WatchEvent::Added(o)) => {
                    seen.push(format!("ADDED {}", o.metadata.name.unwrap()))
                }
                Some(WatchEvent::Deleted(o)) => {
                    seen.push(format!("DELETED {}", o.metadata.name.unwrap()))
                }
                Some(_) => {}
                None => break,
            }
        }
        assert_eq!(seen, ["ADDED w", "DELETED w"], "{}", ar.plural);
    }
}
