//! The renewals report: verdicts from findings, sorting, counts, exit code, the schema, the
//! table at narrow widths.

use super::Report;
use super::renewals::*;
use crate::diagnose::{Code, Finding, Proof, Severity};
use crate::evidence::{CertificateEvidence, ChallengeEvidence, ClusterEvidence, Condition};
use crate::report::CertificateReport;
use serde_json::Value;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn at(secs: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .unwrap()
        .to_string()
}

fn cert(ns: &str, names: &[&str], renews_days: i64) -> CertificateEvidence {
    CertificateEvidence {
        namespace: ns.into(),
        name: format!("{ns}-tls"),
        dns_names: names.iter().map(|s| s.to_string()).collect(),
        conditions: vec![Condition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }],
        renewal_time: Some(at(NOW + renews_days * DAY)),
        not_after: Some(at(NOW + (renews_days + 30) * DAY)),
        challenges: names
            .iter()
            .enumerate()
            .map(|(i, n)| ChallengeEvidence {
                name: format!("{ns}-tls-screen-{i}"),
                dns_name: n.to_string(),
                type_: "HTTP-01".into(),
                presented: true,
                processing: true,
                state: "pending".into(),
                screen: true,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn finding(code: Code, severity: Severity, ch: &str) -> Finding {
    Finding::new(code, severity, Proof::Supports, format!("{code} for {ch}")).challenge(ch)
}

fn screened(c: &CertificateEvidence) -> Vec<NameInput> {
    c.challenges
        .iter()
        .map(|ch| NameInput {
            name: ch.dns_name.clone(),
            checked_by: CheckedBy::Screen,
            challenge: Some(ch.name.clone()),
            note: None,
        })
        .collect()
}

/// blog: passes (renews in 20 days); api: wrong data plane (4 days); docs: one name passes,
/// one inconclusive (10 days); and a DNS-01 name that is not checked.
fn sample(strict: bool) -> RenewalsReport {
    let blog = cert("blog", &["blog.example.test"], 20);
    let api = cert("api", &["api.example.test"], 4);
    let docs = cert("docs", &["docs.example.test", "www.docs.example.test"], 10);
    let reports = vec![
        CertificateReport::new(
            &blog,
            vec![finding(
                Code::ScreenPassed,
                Severity::Info,
                "blog-tls-screen-0",
            )],
        ),
        CertificateReport::new(
            &api,
            vec![finding(
                Code::WrongDataPlane,
                Severity::Error,
                "api-tls-screen-0",
            )],
        ),
        CertificateReport::new(
            &docs,
            vec![
                finding(
                    Code::ScreenInconclusive,
                    Severity::Warning,
                    "docs-tls-screen-1",
                ),
                finding(Code::ScreenPassed, Severity::Info, "docs-tls-screen-0"),
            ],
        ),
    ];
    let report = Report::new(reports, &ClusterEvidence::default());
    let certs = vec![blog, api, docs];
    let mut names: Vec<Vec<NameInput>> = certs.iter().map(screened).collect();
    names[0].push(NameInput {
        name: "*.blog.example.test".into(),
        checked_by: CheckedBy::NotHttp01,
        challenge: None,
        note: Some("a wildcard name".into()),
    });
    build(Input {
        report: &report,
        certs: &certs,
        names: &names,
        replay: false,
        strict,
        now_unix: NOW,
        notes: vec![],
        cap_per_address: 1000,
        replay_wait: Default::default(),
    })
}

#[test]
fn sorted_by_renewal_time_with_the_counts_on_top() {
    let r = sample(false);
    let order: Vec<(&str, Verdict)> = r
        .certificates
        .iter()
        .map(|c| (c.namespace.as_str(), c.verdict))
        .collect();
    assert_eq!(
        order,
        [
            ("api", Verdict::AtRisk),
            ("docs", Verdict::Unknown),
            ("blog", Verdict::Ok)
        ]
    );
    assert_eq!(
        r.summary.line,
        "3 certificates, 1 at risk, 1 unknown, first renewal at risk in 4 days"
    );
    assert_eq!(
        (r.summary.at_risk, r.summary.unknown, r.summary.ok),
        (1, 1, 1)
    );
    assert_eq!(r.summary.exit_code, 1);
    let api = &r.certificates[0];
    let first = api.first_finding.as_ref().unwrap();
    assert_eq!(first.code, "WRONG_DATA_PLANE");
    assert_eq!(first.name.as_deref(), Some("api.example.test"));
    assert_eq!(api.renews_in_seconds, Some(4 * DAY));
    // A name that is not HTTP-01 has no verdict and does not make the certificate unknown.
    let blog = &r.certificates[2];
    assert_eq!(blog.names[1].verdict, None);
    assert_eq!(blog.first_finding, None);
    // Screened names carry no self-check or CA verdict: nothing served a token.
    assert!(
        r.certificates
            .iter()
            .all(|c| c.self_check.is_none() && c.ca.is_none())
    );
}

#[test]
fn unknown_changes_the_exit_code_only_with_strict() {
    let mut r = sample(false);
    r.certificates.retain(|c| c.verdict != Verdict::AtRisk);
    // Rebuild without the at-risk one: 0 by default, 1 with --strict.
    let blog = cert("blog", &["blog.example.test"], 20);
    let docs = cert("docs", &["docs.example.test"], 10);
    let reports = vec![
        CertificateReport::new(
            &blog,
            vec![finding(
                Code::ScreenPassed,
                Severity::Info,
                "blog-tls-screen-0",
            )],
        ),
        CertificateReport::new(
            &docs,
            vec![finding(
                Code::ScreenInconclusive,
                Severity::Warning,
                "docs-tls-screen-0",
            )],
        ),
    ];
    let report = Report::new(reports, &ClusterEvidence::default());
    let certs = vec![blog, docs];
    let names: Vec<Vec<NameInput>> = certs.iter().map(screened).collect();
    for (strict, code) in [(false, 0), (true, 1)] {
        let r = build(Input {
            report: &report,
            certs: &certs,
            names: &names,
            replay: false,
            strict,
            now_unix: NOW,
            notes: vec![],
            cap_per_address: 1000,
            replay_wait: Default::default(),
        });
        assert_eq!(r.summary.exit_code, code, "strict {strict}");
        assert_eq!(r.summary.line, "2 certificates, 0 at risk, 1 unknown");
    }
    // A screened name without any screen finding (not probed) is unknown, never ok.
    let bare = cert("bare", &["bare.example.test"], 3);
    let report = Report::new(
        vec![CertificateReport::new(&bare, vec![])],
        &ClusterEvidence::default(),
    );
    let r = build(Input {
        report: &report,
        certs: std::slice::from_ref(&bare),
        names: &[screened(&bare)],
        replay: false,
        strict: false,
        now_unix: NOW,
        notes: vec![],
        cap_per_address: 1000,
        replay_wait: Default::default(),
    });
    assert_eq!(r.certificates[0].verdict, Verdict::Unknown);
}

#[test]
fn json_matches_the_documented_schema_and_yaml_parses_back() {
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/renewals-schema.json")).unwrap();
    let r = sample(false);
    let json: Value = serde_json::from_str(&r.to_json()).unwrap();
    let errors = super::schema_errors_with(&schema, &json);
    assert!(errors.is_empty(), "{errors:#?}");
    // The check is strict: an undocumented field or a wrong enum fails.
    let mut bad = json.clone();
    bad["certificates"][0]["extra"] = Value::Bool(true);
    assert_eq!(super::schema_errors_with(&schema, &bad).len(), 1);
    let mut bad = json;
    bad["certificates"][0]["names"][0]["checkedBy"] = "guess".into();
    assert_eq!(super::schema_errors_with(&schema, &bad).len(), 1);
    let back: RenewalsReport = serde_saphyr::from_str(&r.to_yaml()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn the_table_reads_at_any_width_and_never_splits_a_name() {
    let r = sample(false);
    let wide = render_text(&r, 140, false);
    let mut lines = wide.lines();
    assert_eq!(
        lines.next(),
        Some("3 certificates, 1 at risk, 1 unknown, first renewal at risk in 4 days")
    );
    let header = lines.next().unwrap();
    for h in [
        "CERTIFICATE",
        "NAMES",
        "RENEWS IN",
        "EXPIRES IN",
        "SELF CHECK",
        "CA",
        "VERDICT",
        "FIRST FINDING",
    ] {
        assert!(header.contains(h), "{header}");
    }
    assert!(wide.contains("api/api-tls"), "{wide}");
    assert!(wide.contains("WRONG_DATA_PLANE"), "{wide}");
    assert!(
        wide.contains("api/api-tls: WRONG_DATA_PLANE WRONG_DATA_PLANE for api-tls-screen-0"),
        "{wide}"
    );
    assert!(wide.contains("4 days"), "{wide}");
    for width in [60u16, 72, 80] {
        let text = render_text(&r, width, false);
        for l in text.lines() {
            assert!(
                l.chars().count() <= usize::from(width),
                "{width}: {l:?}\n{text}"
            );
        }
        for name in ["www.docs.example.test", "api.example.test", "docs/docs-tls"] {
            assert!(text.contains(name), "{width}: {name} split\n{text}");
        }
    }
}

#[test]
fn durations_for_people() {
    assert_eq!(human(0), "now");
    assert_eq!(human(90), "2 minutes");
    assert_eq!(human(5 * 3600), "5 hours");
    assert_eq!(human(4 * DAY - 1), "4 days");
    assert_eq!(human(30 * DAY), "30 days");
}
