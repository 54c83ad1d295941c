//! Solver pod logs (failure-modes.md §4 K6): read only when they can decide something (see
//! [`crate::diagnose::Wanted`]), one `GET pods/<pod>/log` per pod with a
//! line and byte limit, and counted into [`SolverLogEvidence`]. The log text is untrusted: it
//! is parsed by fixed patterns, every value is cut short, and lists are capped.

use crate::evidence::SolverLogEvidence;

/// Lines and bytes read from the end of the log.
pub const TAIL_LINES: u32 = 500;
pub const LIMIT_BYTES: usize = 256 * 1024;
/// Longest value kept from a log line, distinct values kept per list.
const MAX_VALUE: usize = 120;
const MAX_DISTINCT: usize = 8;

/// Read the tail of a pod's log. `Err` carries a message for `unreadable`.
pub async fn fetch(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
) -> Result<(String, bool), String> {
    let path = format!(
        "/api/v1/namespaces/{namespace}/pods/{pod}/log?tailLines={TAIL_LINES}&limitBytes={LIMIT_BYTES}"
    );
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let text = client.request_text(req).await.map_err(|e| match e {
        kube::Error::Api(s) if s.code == 403 => format!(
            "could not read the log of solver pod {namespace}/{pod}: forbidden (needs get on pods/log in namespace {namespace})"
        ),
        other => format!("could not read the log of solver pod {namespace}/{pod}: {other}"),
    })?;
    // The server may ignore limitBytes: enforce it here, on a char boundary.
    let truncated = text.len() >= LIMIT_BYTES;
    let mut end = text.len().min(LIMIT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Ok((text[..end].to_owned(), truncated))
}

/// Read the wanted solver pods' logs (`(namespace, pod)`, one request each) into the
/// challenges that own them; failures go to `unreadable`.
pub async fn attach(
    client: &kube::Client,
    certs: &mut [crate::evidence::CertificateEvidence],
    unreadable: &mut Vec<String>,
    wanted: &[(String, String)],
) {
    // One request per pod, all in flight together (like the chain's lists).
    let fetched =
        futures::future::join_all(wanted.iter().map(|(ns, pod)| fetch(client, ns, pod))).await;
    for ((ns, pod), result) in wanted.iter().zip(fetched) {
        let (parsed, result_text) = match result {
            Ok((text, truncated)) => (parse(ns, pod, &text, truncated), Some((text, truncated))),
            Err(e) => {
                unreadable.push(e);
                continue;
            }
        };
        let owns = |ch: &crate::evidence::ChallengeEvidence| {
            ch.solver_pods
                .iter()
                .any(|p| &p.namespace == ns && &p.name == pod)
        };
        let shared = certs
            .iter()
            .flat_map(|c| c.challenges.iter())
            .filter(|ch| owns(ch))
            .count()
            > 1;
        for ch in certs.iter_mut().flat_map(|c| c.challenges.iter_mut()) {
            if owns(ch) {
                ch.solver_log = Some(if shared {
                    let (text, truncated) = match &result_text {
                        Some(t) => t,
                        None => continue,
                    };
                    parse(
                        ns,
                        pod,
                        &lines_for(text, &ch.dns_name, &ch.token),
                        *truncated,
                    )
                } else {
                    parsed.clone()
                });
            }
        }
    }
}

/// A shared stand-in's log lines about one name: its own requests (that host; served or
/// wrong-token lines for it only with its token or any token), and what concerns every name
/// (requests for a host it does not serve, wrong base paths, health checks).
fn lines_for(text: &str, host: &str, token: &str) -> String {
    text.lines()
        .filter(|line| {
            let has = |msg: &str| line.contains(&format!("\"{msg}\""));
            if has("got successful challenge request, writing key") {
                value(line, "host").as_deref() == Some(host)
                    && value(line, "token").as_deref() == Some(token)
            } else if has("invalid token") || has("validating request") {
                value(line, "host").as_deref() == Some(host)
            } else {
                true
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of `key` in a log line, in klog text (`key="v"`), old logr (`"key"="v"`) or JSON
/// (`"key":"v"`) form. `key` must start a field, so `host` does not match `expected_host`.
fn value(line: &str, key: &str) -> Option<String> {
    for pat in [
        format!("\"{key}\"=\""),
        format!("\"{key}\":\""),
        format!("{key}=\""),
    ] {
        let mut from = 0;
        while let Some(i) = line[from..].find(&pat) {
            let start = from + i;
            let before = line[..start].chars().next_back();
            from = start + pat.len();
            if pat.starts_with('"') || before.is_none_or(|c| c == ' ' || c == '{' || c == ',') {
                return Some(quoted(&line[from..]));
            }
        }
    }
    None
}

/// A Go-quoted string up to its closing quote, unescaped minimally and cut to [`MAX_VALUE`].
fn quoted(rest: &str) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in rest.chars() {
        match (escaped, c) {
            (true, c) => {
                out.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, '"') => break,
            (false, c) => out.push(c),
        }
        if out.chars().count() >= MAX_VALUE {
            out.push('…');
            break;
        }
    }
    out.chars().filter(|c| !c.is_control()).collect()
}

/// The User-Agent in the logged headers (`headers={"User-Agent":["…"]}` or
/// `map[User-Agent:[…]]`).
fn user_agent(line: &str) -> Option<String> {
    if let Some(i) = line.find("\"User-Agent\":[\"") {
        return Some(quoted(&line[i + 15..]));
    }
    let i = line.find("User-Agent:[")?;
    let rest = &line[i + 12..];
    let end = rest.find(']')?;
    Some(quoted(&rest[..end]))
}

fn bump(list: &mut Vec<(String, u32)>, v: String) {
    if let Some(e) = list.iter_mut().find(|(k, _)| *k == v) {
        e.1 += 1;
    } else if list.len() < MAX_DISTINCT {
        list.push((v, 1));
    }
}

/// Count the requests in an acmesolver log (one outcome line per request).
pub fn parse(namespace: &str, pod: &str, text: &str, truncated: bool) -> SolverLogEvidence {
    let mut ev = SolverLogEvidence {
        namespace: namespace.to_owned(),
        pod: pod.to_owned(),
        truncated,
        ..Default::default()
    };
    for line in text.lines() {
        ev.lines += 1;
        let has = |msg: &str| line.contains(&format!("\"{msg}\""));
        let outcome = if has("got successful challenge request, writing key") {
            ev.served += 1;
            true
        } else if has("responding OK to health check") {
            ev.health_checks += 1;
            true
        } else if has("invalid host") {
            bump(
                &mut ev.invalid_hosts,
                value(line, "host").unwrap_or_default(),
            );
            true
        } else if has("invalid base_path") {
            bump(
                &mut ev.invalid_paths,
                value(line, "path").unwrap_or_default(),
            );
            true
        } else if has("invalid token") {
            bump(
                &mut ev.invalid_tokens,
                value(line, "token").unwrap_or_default(),
            );
            true
        } else {
            false
        };
        if outcome {
            ev.requests += 1;
            bump(
                &mut ev.user_agents,
                user_agent(line).unwrap_or_else(|| "-".into()),
            );
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    const KLOG: &str = r#"I1128 09:00:00.000000       1 solver.go:52] "starting listener" logger="cert-manager.acmesolver" expected_domain="shop.example.com" expected_token="tok" expected_key="tok.thumb" listen_port=8089
I1128 09:00:01.000000       1 solver.go:84] "validating request" logger="cert-manager.acmesolver" host="10.32.3.80" path="/.well-known/acme-challenge/tok" base_path="/.well-known/acme-challenge" token="tok" headers={"Accept-Encoding":["gzip"],"User-Agent":["cert-manager-challenges/v1.19.1 (linux/amd64) cert-manager/abc"]}
I1128 09:00:01.000000       1 solver.go:93] "invalid host" logger="cert-manager.acmesolver" host="10.32.3.80" path="/.well-known/acme-challenge/tok" base_path="/.well-known/acme-challenge" token="tok" headers={"User-Agent":["cert-manager-challenges/v1.19.1 (linux/amd64) cert-manager/abc"]} expected_host="shop.example.com"
I1128 09:00:02.000000       1 solver.go:78] "responding OK to health check" logger="cert-manager.acmesolver" host="shop.example.com" path="/" base_path="/" token="/" headers={"User-Agent":["kube-probe/1.30"]}
I1128 09:00:03.000000       1 solver.go:87] "invalid base_path" logger="cert-manager.acmesolver" host="shop.example.com" path="/tok" base_path="/" token="tok" headers={"User-Agent":["curl/8.5"]} expected_base_path="/.well-known/acme-challenge"
I1128 09:00:04.000000       1 solver.go:106] "got successful challenge request, writing key" logger="cert-manager.acmesolver" host="shop.example.com" path="/.well-known/acme-challenge/tok" base_path="/.well-known/acme-challenge" token="tok" headers={"User-Agent":["Mozilla/5.0 (compatible; Let's Encrypt validation server; +https://www.letsencrypt.org)"]}
"#;

    #[test]
    fn klog_lines_are_counted_by_outcome() {
        let ev = parse("shop", "cm-acme-http-solver-x", KLOG, false);
        assert_eq!(ev.lines, 6);
        assert_eq!(ev.requests, 4);
        assert_eq!(ev.served, 1);
        assert_eq!(ev.health_checks, 1);
        assert_eq!(ev.invalid_hosts, [("10.32.3.80".to_owned(), 1)]);
        assert_eq!(ev.invalid_paths, [("/tok".to_owned(), 1)]);
        assert!(ev.invalid_tokens.is_empty());
        assert_eq!(ev.user_agents.len(), 4);
        assert!(
            ev.user_agents[0]
                .0
                .starts_with("cert-manager-challenges/v1.19.1")
        );
    }

    #[test]
    fn old_logr_and_json_forms() {
        let old = r#"I0101 00:00:00.000000 1 solver.go:93] cert-manager/acmesolver "msg"="invalid host" "base_path"="/.well-known/acme-challenge" "expected_host"="shop.example.com" "headers"={"User-Agent":["kong"]} "host"="shop-svc.shop.svc" "path"="/.well-known/acme-challenge/tok" "token"="tok""#;
        let ev = parse("shop", "p", old, false);
        assert_eq!(ev.invalid_hosts, [("shop-svc.shop.svc".to_owned(), 1)]);
        let json = r#"{"ts":1,"msg":"invalid token","host":"shop.example.com","path":"/.well-known/acme-challenge/old","token":"old","expected_token":"tok"}"#;
        let ev = parse("shop", "p", json, false);
        assert_eq!(ev.invalid_tokens, [("old".to_owned(), 1)]);
        assert_eq!(ev.user_agents, [("-".to_owned(), 1)]);
    }

    #[test]
    fn hostile_input_is_bounded() {
        let long = format!("\"invalid host\" host=\"{}\"", "a".repeat(10_000));
        let ev = parse("shop", "p", &long, false);
        assert!(ev.invalid_hosts[0].0.chars().count() <= MAX_VALUE + 1);
        let many: String = (0..100)
            .map(|i| format!("\"invalid host\" host=\"h{i}\"\n"))
            .collect();
        let ev = parse("shop", "p", &many, false);
        assert_eq!(ev.requests, 100);
        assert_eq!(ev.invalid_hosts.len(), MAX_DISTINCT);
        // Control characters never reach the report.
        let ev = parse("shop", "p", "\"invalid host\" host=\"a\u{1b}[31mb\"", false);
        assert_eq!(ev.invalid_hosts[0].0, "a[31mb");
        assert_eq!(parse("shop", "p", "garbage\nno quotes", true).requests, 0);
    }

    #[test]
    fn a_shared_stand_ins_log_is_counted_per_name() {
        let line = |msg: &str, host: &str, token: &str| {
            format!(
                r#"I1206 09:00:00.000000       1 solver.go:1] "{msg}" logger="cert-manager.acmesolver" host="{host}" path="/.well-known/acme-challenge/{token}" base_path="/.well-known/acme-challenge" token="{token}" headers={{}}"#
            )
        };
        let ok = "got successful challenge request, writing key";
        let log = [
            line(ok, "a.example.test", "ta"),
            line(ok, "a.example.test", "ta"),
            line(ok, "b.example.test", "tb"),
            line("invalid token", "a.example.test", "zz"),
            line("invalid token", "b.example.test", "zz"),
            line("invalid host", "10.0.0.1", "ta"),
            line("responding OK to health check", "10.0.0.1", ""),
        ]
        .join("\n");
        let a = parse("ops", "p", &lines_for(&log, "a.example.test", "ta"), false);
        assert_eq!(
            (
                a.served,
                a.invalid_tokens.len(),
                a.invalid_hosts.len(),
                a.health_checks
            ),
            (2, 1, 1, 1)
        );
        let b = parse("ops", "p", &lines_for(&log, "b.example.test", "tb"), false);
        assert_eq!((b.served, b.requests), (1, 4));
        // A second Certificate's token for the same host: not its successes.
        let a2 = parse(
            "ops",
            "p",
            &lines_for(&log, "a.example.test", "other"),
            false,
        );
        assert_eq!(a2.served, 0);
    }
}
