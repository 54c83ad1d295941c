//! Generated cert-manager HTTP-01 chains for scale tests.

use serde_json::{Value, json};

use super::util::adler32;

/// A deterministic UID: kind number and chain index are readable in it.
fn uid(kind: u32, i: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{i:012x}")
}

/// A deterministic base64url string of `len` characters.
fn b64ish(seed: u64, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % 64) as usize] as char
        })
        .collect()
}

fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{
        "apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
        "controller": true, "blockOwnerDeletion": true,
    }])
}

const CREATED: &str = "2026-01-01T00:00:00Z";

/// `n` complete HTTP-01 chains spread over `namespace_count` namespaces
/// (`team-0` …): per chain a Certificate (not Ready, issuing), its
/// CertificateRequest (revision 1), Order (pending), Challenge (pending,
/// self check failing with a 404), and the solver Pod, Service and Ingress
/// with cert-manager's identity labels and controller ownerReferences.
/// Plus one ClusterIssuer `letsencrypt` all certificates use and the
/// Namespace objects. Objects carry deterministic UIDs.
pub fn generate_certificates(n: usize, namespace_count: usize) -> Vec<Value> {
    let nsc = namespace_count.max(1);
    let mut out = Vec::with_capacity(n * 7 + nsc + 1);
    for k in 0..nsc.min(n.max(1)) {
        out.push(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": format!("team-{k}"), "labels": {"kubernetes.io/metadata.name": format!("team-{k}")}},
            "status": {"phase": "Active"}}));
    }
    let solver = json!({"http01": {"ingress": {"ingressClassName": "nginx"}}});
    out.push(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": {"name": "letsencrypt", "uid": uid(0, 0), "creationTimestamp": CREATED, "generation": 1},
        "spec": {"acme": {
            "server": "https://acme-v02.api.letsencrypt.org/directory",
            "email": "ops@example.com",
            "privateKeySecretRef": {"name": "letsencrypt-account"},
            "solvers": [solver.clone()],
        }},
        "status": {"acme": {"uri": "https://acme-v02.api.letsencrypt.org/acme/acct/1"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "ACMEAccountRegistered",
                "message": "The ACME account was registered with the ACME server", "lastTransitionTime": CREATED}]},
    }));
    let thumb = b64ish(0xACE, 43);
    let issuer_ref =
        json!({"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"});
    for i in 0..n {
        let ns = format!("team-{}", i % nsc);
        let cert = format!("app-{i}");
        let dns = format!("app-{i}.example.com");
        let token = b64ish(i as u64 + 1, 43);
        let key = format!("{token}.{thumb}");
        let cr = format!("{cert}-1");
        let order = format!("{cr}-{}", 1_000_000_000 + i);
        let chal = format!("{order}-{}", 2_000_000_000 + i);
        let solver_name = format!(
            "cm-acme-http-solver-{}",
            b64ish(i as u64 + 7, 5)
                .to_lowercase()
                .replace(['-', '_'], "x")
        );
        let (cu, cru, ou, chu) = (uid(1, i), uid(2, i), uid(3, i), uid(4, i));
        let authz = format!("https://acme-v02.api.letsencrypt.org/acme/authz/1/{i}");
        let chal_url = format!("https://acme-v02.api.letsencrypt.org/acme/chall/1/{i}/h1");
        let labels = json!({
            "acme.cert-manager.io/http-domain": adler32(dns.as_bytes()).to_string(),
            "acme.cert-manager.io/http-token": adler32(token.as_bytes()).to_string(),
            "acme.cert-manager.io/http01-solver": "true",
        });
        let ann = json!({
            "cert-manager.io/certificate-name": cert,
            "cert-manager.io/certificate-revision": "1",
            "cert-manager.io/private-key-secret-name": format!("{cert}-abcde"),
        });
        out.push(json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": cert, "namespace": ns, "uid": cu, "creationTimestamp": CREATED, "generation": 1},
            "spec": {"dnsNames": [dns], "secretName": format!("{cert}-tls"), "issuerRef": issuer_ref},
            "status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist", "observedGeneration": 1, "lastTransitionTime": CREATED},
                {"type": "Issuing", "status": "True", "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist", "observedGeneration": 1, "lastTransitionTime": CREATED}],
                "nextPrivateKeySecretName": format!("{cert}-abcde")},
        }));
        out.push(json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": cr, "namespace": ns, "uid": cru, "creationTimestamp": CREATED, "generation": 1,
                "annotations": ann, "ownerReferences": owner("cert-manager.io/v1", "Certificate", &cert, &cu)},
            "spec": {"issuerRef": issuer_ref, "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                "usages": ["digital signature", "key encipherment"], "username": "system:serviceaccount:cert-manager:cert-manager"},
            "status": {"conditions": [
                {"type": "Approved", "status": "True", "reason": "cert-manager.io", "message": "Certificate request has been approved by cert-manager.io", "lastTransitionTime": CREATED},
                {"type": "Ready", "status": "False", "reason": "Pending", "message": format!("Waiting on certificate issuance from order {ns}/{order}: \"pending\""), "lastTransitionTime": CREATED}]},
        }));
        out.push(json!({
            "apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
            "metadata": {"name": order, "namespace": ns, "uid": ou, "creationTimestamp": CREATED, "generation": 1,
                "annotations": ann, "ownerReferences": owner("cert-manager.io/v1", "CertificateRequest", &cr, &cru)},
            "spec": {"dnsNames": [dns], "issuerRef": issuer_ref, "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K"},
            "status": {"state": "pending", "url": format!("https://acme-v02.api.letsencrypt.org/acme/order/1/{i}"),
                "finalizeURL": format!("https://acme-v02.api.letsencrypt.org/acme/finalize/1/{i}"),
                "authorizations": [{"url": authz, "identifier": dns, "initialState": "pending", "wildcard": false,
                    "challenges": [{"type": "http-01", "url": chal_url, "token": token},
                                   {"type": "dns-01", "url": format!("{authz}/d1"), "token": token},
                                   {"type": "tls-alpn-01", "url": format!("{authz}/t1"), "token": token}]}]},
        }));
        out.push(json!({
            "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
            "metadata": {"name": chal, "namespace": ns, "uid": chu, "creationTimestamp": CREATED, "generation": 1,
                "finalizers": ["acme.cert-manager.io/finalizer"],
                "ownerReferences": owner("acme.cert-manager.io/v1", "Order", &order, &ou)},
            "spec": {"authorizationURL": authz, "dnsName": dns, "issuerRef": issuer_ref, "key": key,
                "solver": solver, "token": token, "type": "HTTP-01", "url": chal_url, "wildcard": false},
            "status": {"presented": true, "processing": true, "state": "pending",
                "reason": format!("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'")},
        }));
        let chal_owner = owner("acme.cert-manager.io/v1", "Challenge", &chal, &chu);
        out.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": solver_name, "generateName": "cm-acme-http-solver-", "namespace": ns, "uid": uid(5, i),
                "creationTimestamp": CREATED, "labels": labels, "ownerReferences": chal_owner,
                "annotations": {"sidecar.istio.io/inject": "false", "cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}},
            "spec": {"containers": [{"name": "acmesolver", "image": "quay.io/jetstack/cert-manager-acmesolver:v1.17.2",
                "args": ["--listen-port=8089", format!("--domain={dns}"), format!("--token={token}"), format!("--key={key}")],
                "ports": [{"name": "http", "containerPort": 8089, "protocol": "TCP"}]}],
                "restartPolicy": "OnFailure", "nodeName": format!("node-{}", i % 3), "enableServiceLinks": false,
                "automountServiceAccountToken": false, "nodeSelector": {"kubernetes.io/os": "linux"}},
            "status": {"phase": "Running", "podIP": format!("10.244.{}.{}", (i / 250) % 250, i % 250 + 2),
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "acmesolver", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": CREATED}}}]},
        }));
        out.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": solver_name, "generateName": "cm-acme-http-solver-", "namespace": ns, "uid": uid(6, i),
                "creationTimestamp": CREATED, "labels": labels, "ownerReferences": chal_owner,
                "annotations": {"auth.istio.io/8089": "NONE"}},
            "spec": {"type": "NodePort", "selector": labels, "clusterIP": format!("10.96.{}.{}", (i / 250) % 250, i % 250 + 2),
                "ports": [{"name": "http", "port": 8089, "targetPort": 8089, "protocol": "TCP", "nodePort": 30000 + (i % 2000) as u32}]},
            "status": {"loadBalancer": {}},
        }));
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": solver_name, "generateName": "cm-acme-http-solver-", "namespace": ns, "uid": uid(7, i),
                "creationTimestamp": CREATED, "labels": labels, "ownerReferences": chal_owner,
                "annotations": {"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"}},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": dns, "http": {"paths": [{
                "path": format!("/.well-known/acme-challenge/{token}"), "pathType": "Exact",
                "backend": {"service": {"name": solver_name, "port": {"number": 8089}}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_link_by_uid_and_labels() {
        let objs = generate_certificates(3, 2);
        let kinds: Vec<&str> = objs.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "Challenge").count(), 3);
        assert_eq!(kinds.iter().filter(|k| **k == "ClusterIssuer").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "Namespace").count(), 2);
        let ch = objs.iter().find(|o| o["kind"] == "Challenge").unwrap();
        let order = objs.iter().find(|o| o["kind"] == "Order").unwrap();
        assert_eq!(
            ch["metadata"]["ownerReferences"][0]["uid"],
            order["metadata"]["uid"]
        );
        let pod = objs.iter().find(|o| o["kind"] == "Pod").unwrap();
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["uid"],
            ch["metadata"]["uid"]
        );
        let dns = ch["spec"]["dnsName"].as_str().unwrap();
        assert_eq!(
            pod["metadata"]["labels"]["acme.cert-manager.io/http-domain"],
            adler32(dns.as_bytes()).to_string()
        );
        let token = ch["spec"]["token"].as_str().unwrap();
        assert_eq!(token.len(), 43);
        assert!(
            ch["spec"]["key"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{token}."))
        );
    }
}
