//! Golden tests of the report at a glance, built from the fixtures the other tests use:
//!
//! * the founding incident (`tests/fixtures/vantage/founding-incident.json`: both vantages as
//!   recorded in the lab, with the probe pod's direct probes) over the lab's cert-manager
//!   objects (`tests/fixtures/chain/founding-incident`, as `acmecheck_testkit::lab` serves them);
//! * a scan of three stuck certificates (`--all -A`): that incident in namespace `shop`, and the
//!   same objects moved to `blog` and `docs` (their own host, identity labels and UIDs). `blog`
//!   is probed as the lab's healthy scenario answered (`tests/fixtures/vantage/raw/healthy.
//!   report.json`, from both vantages) and its self check has not failed yet; `docs`' Challenge
//!   is not scheduled yet (`processing: false`, no state), so there is nothing to probe.
//!
//! Each at 80 and 120 columns, in a UTF-8 and an ASCII locale: `tests/golden/glance-*.txt`.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --lib report::` and read the diff.

use super::picture::Charset;
use super::table::{Look, Style, render_with};
use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::gather;
use crate::probe::Probes;
use crate::probe::incluster::{InCluster, Placement};
use crate::probe::plan::TargetReport;
use crate::probe::targets::probe_id;
use acmecheck_testkit::lab::{DNS_NAME, cluster_objects};
use std::collections::HashMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lab's objects; for another namespace only the namespaced chain and solver objects,
/// moved there with their own host (and the identity label derived from it) and UIDs.
fn objects(namespace: &str, host: &str, uid_prefix: &str) -> Vec<String> {
    let files = cluster_objects(&root().join("tests/fixtures/chain"), "founding-incident").unwrap();
    if namespace == "shop" {
        return files.into_iter().map(|(_, t)| t).collect();
    }
    let adler = |s: &str| format!("'{}'", gather::adler32(s.as_bytes()));
    files
        .into_iter()
        .filter(|(name, _)| name.starts_with("20-") || name.starts_with("30-"))
        .map(|(_, t)| {
            t.replace(&adler(DNS_NAME), &adler(host))
                .replace(DNS_NAME, host)
                .replace("namespace: shop", &format!("namespace: {namespace}"))
                .replace("shop/", &format!("{namespace}/"))
                .replace("b9bf1a69-", uid_prefix)
        })
        .collect()
}

fn evidence(parts: Vec<Vec<String>>) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    let text: Vec<String> = parts.into_iter().flatten().collect();
    gather::assemble(&gather::Snapshot::from_yaml(&text.join("\n---\n")).unwrap())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct VantageFixture {
    local: TargetReport,
    in_cluster: TargetReport,
    placement: Placement,
}

fn founding_incident() -> VantageFixture {
    let path = root().join("tests/fixtures/vantage/founding-incident.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The lab's healthy probe report (one vantage), relabelled for `cert`'s challenge.
fn healthy(cert: &CertificateEvidence) -> TargetReport {
    #[derive(serde::Deserialize)]
    struct Raw {
        targets: Vec<TargetReport>,
    }
    let path = root().join("tests/fixtures/vantage/raw/healthy.report.json");
    let raw: Raw = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut t = raw.targets.into_iter().next().unwrap();
    let ch = &cert.challenges[0];
    t.id = probe_id(cert, ch);
    t.url = ch.challenge_url();
    t.dns_name = ch.dns_name.clone();
    t
}

fn founding_report() -> super::Report {
    let (certs, cluster) = evidence(vec![objects("shop", DNS_NAME, "")]);
    let f = founding_incident();
    let id = probe_id(&certs[0], &certs[0].challenges[0]);
    let probes = Probes {
        enabled: true,
        local: HashMap::from([(id.clone(), f.local)]),
        in_cluster: InCluster::Ran {
            placement: f.placement,
            targets: HashMap::from([(id, f.in_cluster)]),
        },
    };
    crate::run::build_report(&certs, &cluster, &probes)
}

/// `docs`: its chain only, the Challenge not picked up by cert-manager's scheduler yet (no
/// state, not processing, nothing presented, so no solver objects either).
fn unscheduled(files: Vec<String>) -> Vec<String> {
    files
        .into_iter()
        .filter(|t| !t.contains("kind: Pod") && !t.contains("kind: Service"))
        .map(|t| {
            let mut docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&t).unwrap();
            for d in docs.iter_mut().filter(|d| d["kind"] == "Challenge") {
                d["status"] = serde_json::json!({"processing": false, "presented": false});
            }
            serde_saphyr::to_string_multiple(&docs).unwrap()
        })
        .collect()
}

fn scan_report() -> super::Report {
    let docs = unscheduled(objects("docs", "docs.example.test", "d0c5d0c5-"));
    let (mut certs, cluster) = evidence(vec![
        objects("shop", DNS_NAME, ""),
        objects("blog", "blog.example.test", "b10gb10g-"),
        docs,
    ]);
    // The order --all -A lists them in: by namespace.
    certs.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    let blog = certs.iter_mut().find(|c| c.namespace == "blog").unwrap();
    blog.challenges[0].reason = None; // the self check has not failed yet
    let blog = blog.clone();
    let shop = certs.iter().find(|c| c.namespace == "shop").unwrap();
    let f = founding_incident();
    let (shop_id, blog_id) = (
        probe_id(shop, &shop.challenges[0]),
        probe_id(&blog, &blog.challenges[0]),
    );
    let probes = Probes {
        enabled: true,
        local: HashMap::from([
            (shop_id.clone(), f.local),
            (blog_id.clone(), healthy(&blog)),
        ]),
        in_cluster: InCluster::Ran {
            placement: f.placement,
            targets: HashMap::from([(shop_id, f.in_cluster), (blog_id, healthy(&blog))]),
        },
    };
    crate::run::build_report(&certs, &cluster, &probes)
}

fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        assert!(
            std::env::var_os("CI").is_none(),
            "UPDATE_GOLDEN is set in CI: golden files are regenerated by hand, never by CI"
        );
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    if let Some((i, (w, a))) = want
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (w, a))| w != a)
    {
        panic!(
            "{} line {}:\n  want: {w}\n  got:  {a}",
            path.display(),
            i + 1
        );
    }
    assert_eq!(actual, want, "golden {} (line count)", path.display());
}

fn render(report: &super::Report, columns: u16, charset: Charset) -> String {
    let style = Style {
        width: columns,
        color: false,
        wide: false,
    };
    let look = Look {
        charset,
        ..Look::default()
    };
    render_with(report, style, look)
}

/// Every golden at both widths and in both locales, within the width, ASCII only in ASCII.
fn goldens(name: &str, report: &super::Report) {
    for columns in [120u16, 80] {
        for (charset, tag) in [(Charset::Unicode, "utf8"), (Charset::Ascii, "ascii")] {
            let text = render(report, columns, charset);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= usize::from(columns),
                    "{name}: wider than {columns}: {line}"
                );
            }
            if charset == Charset::Ascii {
                // The lines the report draws are ASCII; the probe's own notation (×, ≈, •, …)
                // is text, not drawing.
                for c in ['─', '│', '┌', '┐', '└', '┘', '├', '┤', '┼', '┴', '═']
                {
                    assert!(!text.contains(c), "{name}: {c:?} in ASCII:\n{text}");
                }
            }
            golden(&format!("glance-{name}.{columns}.{tag}.txt"), &text);
        }
    }
}

#[test]
fn the_founding_incident_at_a_glance() {
    let report = founding_report();
    assert_eq!(report.certificates.len(), 1);
    let text = render(&report, 120, Charset::Unicode);
    // One certificate: no summary table, but the picture under the probes.
    assert!(!text.contains("FIRST FINDING"), "{text}");
    assert!(
        text.contains("this machine ─┐                 ┌─ 50 %  nginx (ingress-nginx)"),
        "{text}"
    );
    assert!(
        text.contains(
            "probe pod ────┘                 └─ 50 %  envoy (gateway infra/public, cilium)  404"
        ),
        "{text}"
    );
    goldens("founding-incident", &report);
    // --no-picture.
    let plain = render_with(
        &report,
        Style {
            width: 120,
            color: false,
            wide: false,
        },
        Look {
            picture: false,
            ..Look::default()
        },
    );
    assert!(!plain.contains("Path:") && !plain.contains("┌─"), "{plain}");
    assert_eq!(plain.lines().count() + 4, text.lines().count());
}

#[test]
fn a_scan_of_three_certificates_starts_with_the_summary() {
    let report = scan_report();
    let s = &report.summary;
    assert_eq!((s.certificates, s.with_problems, s.not_checked), (3, 1, 0));
    let names: Vec<String> = s
        .lines
        .iter()
        .map(|l| format!("{}/{} {:?}", l.namespace, l.name, l.status))
        .collect();
    assert_eq!(names, ["shop/web Problem", "blog/web Ok", "docs/web Ok"]);
    let text = render(&report, 120, Charset::Unicode);
    assert!(
        text.starts_with("3 certificates: 1 with a problem\n CERTIFICATE "),
        "{text}"
    );
    // The details follow, in report order.
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}:\n{text}"))
    };
    assert!(at("Certificate blog/web") < at("Certificate docs/web"));
    assert!(at("Certificate docs/web") < at("Certificate shop/web"));
    goldens("scan", &report);
    // The JSON carries the same lines and is valid against the schema.
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report-schema.json")).unwrap();
    assert_eq!(
        crate::report::schema_errors_with(&schema, &json),
        Vec::<String>::new()
    );
    let first = &json["summary"]["lines"][0];
    assert_eq!(first["status"], "problem");
    assert_eq!(first["firstFinding"]["code"], "MIXED_BACKENDS");
    assert_eq!(first["selfCheck"]["vantage"], "inCluster");
    assert_eq!(first["ca"]["vantage"], "local");
}

/// On a terminal shorter than the output the summary is repeated at the end, where the reader
/// is; on a tall one, or not on a terminal, it is printed once.
#[test]
fn the_summary_is_repeated_when_the_details_scroll_it_away() {
    let report = scan_report();
    let style = Style {
        width: 120,
        color: false,
        wide: false,
    };
    let with_rows = |rows| {
        render_with(
            &report,
            style,
            Look {
                rows,
                ..Look::default()
            },
        )
    };
    let count = |t: &str| t.matches("3 certificates: 1 with a problem").count();
    let once = with_rows(None);
    assert_eq!(count(&once), 1);
    assert_eq!(count(&with_rows(Some(u16::MAX))), 1);
    let twice = with_rows(Some(40));
    assert_eq!(count(&twice), 2);
    let summary_lines = 1 + 1 + 3; // count line, header, one line each
    let tail: Vec<&str> = twice.lines().rev().take(summary_lines).collect();
    assert!(
        tail[summary_lines - 1].starts_with("3 certificates"),
        "{twice}"
    );
    assert_eq!(
        twice.lines().count(),
        once.lines().count() + 1 + summary_lines
    );
}

/// A challenge name longer than its column would be is never split, at any width: wherever the
/// table prints the name's beginning, the whole name follows on the same line.
#[test]
fn a_long_challenge_name_is_never_split_mid_word() {
    let long = "web-tls-production-frontend-eu-west-1-3571442311-2617004231";
    let mut report = founding_report();
    let old = report.certificates[0].challenges[0].name.clone();
    let json = report.to_json().replace(&old, long);
    report = serde_json::from_str(&json).unwrap();
    for columns in [80u16, 100, 110, 120] {
        for wide in [false, true] {
            let style = Style {
                width: columns,
                color: false,
                wide,
            };
            let text = render_with(&report, style, Look::default());
            let starts = text.matches(&long[..16]).count();
            assert!(starts >= 2, "{columns}: {text}");
            assert_eq!(
                text.matches(long).count(),
                starts,
                "{columns} columns{}: the name is split:\n{text}",
                if wide { ", -o wide" } else { "" }
            );
            for line in text.lines() {
                assert!(
                    line.chars().count() <= usize::from(columns),
                    "{columns}: {line}"
                );
            }
        }
    }
}
