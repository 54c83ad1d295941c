//! Generated cert-manager chains for scale tests.

use serde_json::{Value, json};

/// Adler-32 (zlib) of `data`; cert-manager prints it as an unsigned decimal in the
/// `acme.cert-manager.io/http-domain` / `http-token` labels.
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A deterministic base64url string of `len` characters.
fn b64(seed: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    let mut x = seed;
    while s.len() < len {
        x = mix(x);
        for i in 0..10 {
            if s.len() < len {
                s.push(B64URL[((x >> (i * 6)) & 63) as usize] as char);
            }
        }
    }
    s
}

fn uid(seed: u64) -> String {
    let a = mix(seed);
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{
        "apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
        "controller": true, "blockOwnerDeletion": true
    }])
}

const TS: &str = "2026-11-01T10:00:00Z";
const ISSUER: &str = "letsencrypt-prod";
const SERVER: &str = "https://acme-v02.api.letsencrypt.org";

/// Builds `n` complete, pending HTTP-01 chains spread over `namespace_count` namespaces
/// (`load-0`, `load-1`, …): per certificate a Certificate (`cert-<i>`, Ready=False), its
/// CertificateRequest (revision 1), Order, one HTTP-01 Challenge (self check failing with
/// `wrong status code '404'`), and the solver Pod, Service and Ingress with identity
/// labels and controller ownerReferences, exactly as cert-manager ≥ 1.18 links them.
/// The list starts with the shared ClusterIssuer `letsencrypt-prod` and IngressClass
/// `nginx`, so it holds `2 + 7 * n` objects.
pub fn generate_certificates(n: usize, namespace_count: usize) -> Vec<Value> {
    let namespace_count = namespace_count.max(1);
    let mut out = Vec::with_capacity(2 + 7 * n);
    out.push(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": {"name": ISSUER, "uid": uid(u64::MAX), "creationTimestamp": TS, "generation": 1},
        "spec": {"acme": {
            "server": format!("{SERVER}/directory"), "email": "ops@example.com",
            "privateKeySecretRef": {"name": "letsencrypt-prod-account"},
            "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
        }},
        "status": {
            "acme": {"uri": format!("{SERVER}/acme/acct/123456789"), "lastRegisteredEmail": "ops@example.com"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "ACMEAccountRegistered",
                "message": "The ACME account was registered with the ACME server", "lastTransitionTime": TS, "observedGeneration": 1}]
        }
    }));
    out.push(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "nginx", "uid": uid(u64::MAX - 1), "creationTimestamp": TS, "generation": 1,
            "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            "labels": {"app.kubernetes.io/name": "ingress-nginx"}},
        "spec": {"controller": "k8s.io/ingress-nginx"}
    }));
    for i in 0..n {
        out.extend(chain(i as u64, &format!("load-{}", i % namespace_count)));
    }
    out
}

fn chain(i: u64, ns: &str) -> Vec<Value> {
    let seed = i.wrapping_mul(16);
    let cert = format!("cert-{i}");
    let dns = format!("app-{i}.example.com");
    let (cert_uid, cr_uid, order_uid, ch_uid) =
        (uid(seed + 1), uid(seed + 2), uid(seed + 3), uid(seed + 4));
    let cr = format!("{cert}-1");
    let order = format!("{cr}-{}", mix(seed + 5) as u32);
    let challenge = format!("{order}-{}", mix(seed + 6) as u32);
    let token = b64(seed + 7, 43);
    let key = format!("{token}.{}", b64(0xacc0_u64, 43));
    let order_id = mix(seed + 8) % 10_000_000_000;
    let authz_url = format!("{SERVER}/acme/authz-v3/{}", order_id + 1);
    let ch_url = format!(
        "{SERVER}/acme/chall-v3/{}/{}",
        order_id + 1,
        b64(seed + 9, 6)
    );
    let issuer_ref = json!({"name": ISSUER, "kind": "ClusterIssuer", "group": "cert-manager.io"});
    let csr = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQ1hEQ0NBVVFDQVFBd0FEQ0NBU0l3RFFZSktvWklodmNOQVFFQkJRQURnZ0VQQURDQ0FRb0NnZ0VCQUxCCi0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVFU1QtLS0tLQo=";
    let solver_suffix = b64(seed + 10, 5)
        .to_ascii_lowercase()
        .replace(['-', '_'], "x");
    let solver = format!("cm-acme-http-solver-{solver_suffix}");
    let pod = format!("{solver}");
    let svc = format!(
        "cm-acme-http-solver-{}",
        b64(seed + 11, 5)
            .to_ascii_lowercase()
            .replace(['-', '_'], "x")
    );
    let ing = format!(
        "cm-acme-http-solver-{}",
        b64(seed + 12, 5)
            .to_ascii_lowercase()
            .replace(['-', '_'], "x")
    );
    let labels = json!({
        "acme.cert-manager.io/http-domain": adler32(dns.as_bytes()).to_string(),
        "acme.cert-manager.io/http-token": adler32(token.as_bytes()).to_string(),
        "acme.cert-manager.io/http01-solver": "true",
    });
    let ch_owner = owner("acme.cert-manager.io/v1", "Challenge", &challenge, &ch_uid);
    let path = format!("/.well-known/acme-challenge/{token}");
    let pending = |msg: &str| json!({"type": "Ready", "status": "False", "reason": "Pending", "message": msg, "lastTransitionTime": TS});
    vec![
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": cert, "namespace": ns, "uid": cert_uid, "creationTimestamp": TS, "generation": 1},
            "spec": {"dnsNames": [dns], "secretName": format!("{cert}-tls"), "issuerRef": issuer_ref,
                "privateKey": {"rotationPolicy": "Always"}},
            "status": {"nextPrivateKeySecretName": format!("{cert}-{}", b64(seed + 13, 5).to_ascii_lowercase()),
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "DoesNotExist",
                     "message": "Issuing certificate as Secret does not exist", "lastTransitionTime": TS, "observedGeneration": 1},
                    {"type": "Issuing", "status": "True", "reason": "DoesNotExist",
                     "message": "Issuing certificate as Secret does not exist", "lastTransitionTime": TS, "observedGeneration": 1}
                ]}
        }),
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": cr, "namespace": ns, "uid": cr_uid, "creationTimestamp": TS, "generation": 1,
                "annotations": {
                    "cert-manager.io/certificate-name": cert,
                    "cert-manager.io/certificate-revision": "1",
                    "cert-manager.io/private-key-secret-name": format!("{cert}-{}", b64(seed + 13, 5).to_ascii_lowercase())
                },
                "ownerReferences": owner("cert-manager.io/v1", "Certificate", &cert, &cert_uid)},
            "spec": {"request": csr, "issuerRef": issuer_ref, "usages": ["digital signature", "key encipherment"],
                "duration": "2160h0m0s", "username": "system:serviceaccount:cert-manager:cert-manager",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:cert-manager", "system:authenticated"]},
            "status": {"conditions": [
                {"type": "Approved", "status": "True", "reason": "cert-manager.io",
                 "message": "Certificate request has been approved by cert-manager.io", "lastTransitionTime": TS},
                pending(&format!("Waiting on certificate issuance from order {ns}/{order}: \"pending\""))
            ]}
        }),
        json!({
            "apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
            "metadata": {"name": order, "namespace": ns, "uid": order_uid, "creationTimestamp": TS, "generation": 1,
                "annotations": {
                    "cert-manager.io/certificate-name": cert,
                    "cert-manager.io/certificate-revision": "1",
                    "cert-manager.io/private-key-secret-name": format!("{cert}-{}", b64(seed + 13, 5).to_ascii_lowercase())
                },
                "ownerReferences": owner("cert-manager.io/v1", "CertificateRequest", &cr, &cr_uid)},
            "spec": {"request": csr, "issuerRef": issuer_ref, "dnsNames": [dns], "duration": "2160h0m0s"},
            "status": {
                "url": format!("{SERVER}/acme/order/123456789/{order_id}"),
                "finalizeURL": format!("{SERVER}/acme/finalize/123456789/{order_id}"),
                "state": "pending",
                "authorizations": [{
                    "url": authz_url, "identifier": dns, "initialState": "pending", "wildcard": false,
                    "challenges": [
                        {"type": "http-01", "url": ch_url, "token": token},
                        {"type": "dns-01", "url": format!("{ch_url}d"), "token": token},
                        {"type": "tls-alpn-01", "url": format!("{ch_url}t"), "token": token}
                    ]
                }]
            }
        }),
        json!({
            "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
            "metadata": {"name": challenge, "namespace": ns, "uid": ch_uid, "creationTimestamp": TS, "generation": 1,
                "finalizers": ["acme.cert-manager.io/finalizer"],
                "ownerReferences": owner("acme.cert-manager.io/v1", "Order", &order, &order_uid)},
            "spec": {"url": ch_url, "authorizationURL": authz_url, "dnsName": dns, "wildcard": false,
                "type": "HTTP-01", "token": token, "key": key,
                "solver": {"http01": {"ingress": {"ingressClassName": "nginx"}}},
                "issuerRef": issuer_ref},
            "status": {"processing": true, "presented": true, "state": "pending", "presentedAt": TS,
                "reason": format!("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'")}
        }),
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "namespace": ns, "uid": uid(seed + 14), "creationTimestamp": TS,
                "generateName": "cm-acme-http-solver-", "labels": labels,
                "annotations": {"sidecar.istio.io/inject": "false", "cluster-autoscaler.kubernetes.io/safe-to-evict": "true"},
                "ownerReferences": ch_owner},
            "spec": {
                "automountServiceAccountToken": false, "enableServiceLinks": false, "restartPolicy": "OnFailure",
                "nodeSelector": {"kubernetes.io/os": "linux"}, "nodeName": format!("node-{}", i % 3),
                "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "acmesolver", "image": "quay.io/jetstack/cert-manager-acmesolver:v1.21.1",
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["--listen-port=8089", format!("--domain={dns}"), format!("--token={token}"), format!("--key={key}")],
                    "ports": [{"name": "http", "containerPort": 8089, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
                    "securityContext": {"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
                }]
            },
            "status": {"phase": "Running", "podIP": format!("10.244.{}.{}", (i / 250) % 250, i % 250 + 2),
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": TS}],
                "containerStatuses": [{"name": "acmesolver", "ready": true, "restartCount": 0,
                    "image": "quay.io/jetstack/cert-manager-acmesolver:v1.21.1",
                    "state": {"running": {"startedAt": TS}}}]}
        }),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": svc, "namespace": ns, "uid": uid(seed + 15), "creationTimestamp": TS,
                "generateName": "cm-acme-http-solver-", "labels": labels,
                "annotations": {"auth.istio.io/8089": "NONE"}, "ownerReferences": ch_owner},
            "spec": {"type": "NodePort", "selector": labels,
                "ports": [{"name": "http", "port": 8089, "targetPort": 8089, "protocol": "TCP", "nodePort": 30000 + (i % 2000)}],
                "clusterIP": format!("10.96.{}.{}", (i / 250) % 250, i % 250 + 2)}
        }),
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": ing, "namespace": ns, "uid": uid(seed + 16), "creationTimestamp": TS, "generation": 1,
                "generateName": "cm-acme-http-solver-", "labels": labels,
                "annotations": {"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"},
                "ownerReferences": ch_owner},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": dns, "http": {"paths": [{
                "path": path, "pathType": "Exact",
                "backend": {"service": {"name": svc, "port": {"number": 8089}}}
            }]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_matches_zlib() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // Long input exercises the modulo batching.
        let long = vec![0xffu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &long {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(adler32(&long), ((b << 16) | a) as u32);
    }

    #[test]
    fn chains_are_linked() {
        let objs = generate_certificates(3, 2);
        assert_eq!(objs.len(), 2 + 7 * 3);
        let cert = &objs[2];
        let cr = &objs[3];
        let order = &objs[4];
        let ch = &objs[5];
        let pod = &objs[6];
        assert_eq!(
            cr["metadata"]["ownerReferences"][0]["uid"],
            cert["metadata"]["uid"]
        );
        assert_eq!(
            order["metadata"]["ownerReferences"][0]["uid"],
            cr["metadata"]["uid"]
        );
        assert_eq!(
            ch["metadata"]["ownerReferences"][0]["uid"],
            order["metadata"]["uid"]
        );
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["uid"],
            ch["metadata"]["uid"]
        );
        let token = ch["spec"]["token"].as_str().unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(
            pod["metadata"]["labels"]["acme.cert-manager.io/http-token"],
            adler32(token.as_bytes()).to_string()
        );
        assert_eq!(objs[9]["metadata"]["namespace"], "load-1");
        let mut names: Vec<_> = objs
            .iter()
            .map(|o| o["metadata"]["uid"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), objs.len(), "uids are unique");
    }
}
