//! Report: the versioned result model (`-o json|yaml`) and its renderings.
//!
//! [`Report`] is what scripts consume; its schema is documented in `docs/report-schema.json` and
//! versioned by `apiVersion`. The table in [`table`] is rendered from the same model, so both
//! always say the same thing.

use crate::diagnose::{Finding, Severity};
use crate::evidence::{CertificateEvidence, ClusterEvidence, condition};
use crate::probe::incluster::{InCluster, Placement, Problem};
use crate::reason::{self, Phase, Reason};
use serde::{Deserialize, Serialize};

pub mod replay;
pub mod table;

pub const API_VERSION: &str = "acmecheck.io/v1alpha1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: String,
    pub kind: String,
    pub certificates: Vec<CertificateReport>,
    /// Things the tool could not read or check (forbidden lists, skipped probes).
    pub notes: Vec<String>,
    pub summary: Summary,
    /// The in-cluster vantage: where the probe pod ran, or why it did not (absent when it was
    /// not asked for).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_cluster: Option<InClusterSummary>,
}

/// Where the probe pod ran, or why the in-cluster vantage is missing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InClusterSummary {
    /// `ran` or `failed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub placement: Option<Placement>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub problem: Option<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub certificates: usize,
    /// Certificates with at least one error finding.
    pub with_problems: usize,
    /// The process exit code: 0 no problem, 1 problem found.
    pub exit_code: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateReport {
    pub namespace: String,
    pub name: String,
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_message: Option<String>,
    pub dns_names: Vec<String>,
    pub issuer: IssuerSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<ObjectStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<ObjectStatus>,
    pub challenges: Vec<ChallengeReport>,
    /// Authorizations the CA already considers valid (no challenge needed).
    pub already_authorized: Vec<String>,
    /// Ranked: the first error finding is the root cause.
    pub findings: Vec<Finding>,
    /// What a replay created and probed (`--replay`, `preflight`), or, after a failed issuance
    /// without `--replay`, what it would create (`state: planned`) and the command.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replay: Option<crate::evidence::ReplayEvidence>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IssuerSummary {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme_server: Option<String>,
}

/// Name and state of a CertificateRequest or Order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub name: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeReport {
    pub name: String,
    pub dns_name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub url: String,
    pub phase: Phase,
    pub state: String,
    pub presented: bool,
    pub processing: bool,
    /// `status.reason` as cert-manager wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The same, parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsed_reason: Option<Reason>,
    /// How the solver routes traffic: `ingress class=nginx`, `httpRoute parents=gw/public`, ...
    pub solver: String,
    /// What each vantage point saw when probing the challenge URL.
    pub vantages: Vantages,
}

/// Probe results per vantage point (`local`: this machine; `inCluster`: the probe pod).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Vantages {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<crate::probe::plan::TargetReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_cluster: Option<crate::probe::plan::TargetReport>,
}

impl CertificateReport {
    /// Build the report for one certificate from its evidence and ranked findings.
    pub fn new(cert: &CertificateEvidence, findings: Vec<Finding>) -> Self {
        let ready_cond = condition(&cert.conditions, "Ready");
        let issuer = IssuerSummary {
            kind: cert.issuer_ref.kind_or_default().to_owned(),
            name: cert.issuer_ref.name.clone(),
            ready: cert
                .issuer
                .as_ref()
                .map(|i| condition(&i.conditions, "Ready").is_some_and(|c| c.status == "True")),
            acme_server: cert
                .issuer
                .as_ref()
                .and_then(|i| i.acme.as_ref())
                .map(|a| a.server.clone()),
        };
        let request = cert.request.as_ref().map(|r| {
            let c = condition(&r.conditions, "Ready");
            ObjectStatus {
                name: r.name.clone(),
                state: c
                    .and_then(|c| c.reason.clone())
                    .unwrap_or_else(|| "Unknown".into()),
                reason: c.and_then(|c| c.message.clone()),
            }
        });
        let order = cert.order.as_ref().map(|o| ObjectStatus {
            name: o.name.clone(),
            state: if o.state.is_empty() {
                "unknown".into()
            } else {
                o.state.clone()
            },
            reason: o.reason.clone().filter(|r| !r.is_empty()),
        });
        let challenges = cert
            .challenges
            .iter()
            .map(|ch| ChallengeReport {
                name: ch.name.clone(),
                dns_name: ch.dns_name.clone(),
                type_: ch.type_.clone(),
                url: ch.challenge_url(),
                phase: reason::phase(ch),
                state: ch.state.clone(),
                presented: ch.presented,
                processing: ch.processing,
                reason: ch.reason.clone().filter(|r| !r.is_empty()),
                parsed_reason: ch.reason.as_deref().and_then(reason::parse),
                solver: solver_description(&ch.solver),
                vantages: Vantages::default(),
            })
            .collect();
        let already_authorized = cert
            .order
            .iter()
            .flat_map(|o| &o.authorizations)
            .filter(|a| a.initial_state.as_deref() == Some("valid"))
            .map(|a| a.identifier.clone())
            .collect();
        CertificateReport {
            namespace: cert.namespace.clone(),
            name: cert.name.clone(),
            ready: ready_cond.is_some_and(|c| c.status == "True"),
            ready_reason: ready_cond.and_then(|c| c.reason.clone()),
            ready_message: ready_cond.and_then(|c| c.message.clone()),
            dns_names: cert.dns_names.clone(),
            issuer,
            request,
            order,
            challenges,
            already_authorized,
            findings,
            replay: cert.replay.clone(),
        }
    }

    pub fn has_problem(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

fn solver_description(s: &crate::evidence::Solver) -> String {
    if let Some(h) = &s.http01 {
        if let Some(i) = &h.ingress {
            if let Some(name) = &i.name {
                return format!("ingress edit-in-place {name}");
            }
            return match (&i.ingress_class_name, &i.class) {
                (Some(c), _) => format!("ingress class {c}"),
                (None, Some(c)) => format!("ingress class {c} (annotation)"),
                (None, None) => "ingress (no class)".into(),
            };
        }
        if let Some(r) = &h.gateway_http_route {
            let parents: Vec<_> = r
                .parent_refs
                .iter()
                .map(|p| match &p.namespace {
                    Some(ns) => format!("{ns}/{}", p.name),
                    None => p.name.clone(),
                })
                .collect();
            return format!("httpRoute parents {}", parents.join(","));
        }
    }
    if s.dns01.is_some() {
        return "dns01".into();
    }
    "unknown".into()
}

impl Report {
    pub fn new(certificates: Vec<CertificateReport>, cluster: &ClusterEvidence) -> Self {
        let with_problems = certificates.iter().filter(|c| c.has_problem()).count();
        Report {
            api_version: API_VERSION.into(),
            kind: "Report".into(),
            summary: Summary {
                certificates: certificates.len(),
                with_problems,
                exit_code: if with_problems > 0 {
                    crate::error::exit::PROBLEM
                } else {
                    crate::error::exit::OK
                },
            },
            certificates,
            notes: cluster.unreadable.clone(),
            in_cluster: None,
        }
    }

    /// Record where the probe pod ran or why it did not.
    pub fn with_in_cluster(mut self, in_cluster: &InCluster) -> Self {
        self.in_cluster = match in_cluster {
            InCluster::NotRequested => None,
            InCluster::Ran { placement, .. } => Some(InClusterSummary {
                state: "ran".into(),
                placement: Some(placement.clone()),
                problem: None,
            }),
            InCluster::Failed { placement, problem } => Some(InClusterSummary {
                state: "failed".into(),
                placement: placement.clone(),
                problem: Some(problem.clone()),
            }),
        };
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_else(|e| format!("error: {e}\n"))
    }
}

/// The report schema's errors for `report` (empty when it conforms): `docs/report-schema.json`
/// made strict (see [`strict_schema`]) and checked by a maintained JSON Schema validator
/// (draft 2020-12: `pattern`, union types, `$ref`, `enum`, `const`, free-form objects).
#[cfg(test)]
pub(crate) fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report-schema.json"))
            .unwrap_or_else(|e| panic!("docs/report-schema.json is not JSON: {e}"));
    schema_errors_with(&schema, report)
}

/// [`schema_errors`] against a schema already read (the published one or a test's variant).
#[cfg(test)]
pub(crate) fn schema_errors_with(
    schema: &serde_json::Value,
    report: &serde_json::Value,
) -> Vec<String> {
    if let Err(e) = jsonschema::meta::validate(schema) {
        return vec![format!("the schema itself is not valid JSON Schema: {e}")];
    }
    let validator = jsonschema::draft202012::new(&strict_schema(schema))
        .unwrap_or_else(|e| panic!("the report schema does not compile: {e}"));
    validator
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The schema as the tests hold the output to it: every object schema that lists `properties`
/// and says nothing about other fields gets `"additionalProperties": false`, so a field added
/// to the model without documenting it fails. The published schema leaves objects open (fields
/// are only ever added within one apiVersion, and a consumer's copy of the schema must accept a
/// newer report); free-form objects (no `properties`, like `dns` or `verdicts`) stay free.
#[cfg(test)]
fn strict_schema(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        let v = match (k.as_str(), v) {
            // Maps of name -> schema.
            ("properties" | "$defs" | "patternProperties", Value::Object(m)) => Value::Object(
                m.iter()
                    .map(|(name, s)| (name.clone(), strict_schema(s)))
                    .collect(),
            ),
            // One schema.
            ("items" | "additionalProperties" | "not" | "contains", _) => strict_schema(v),
            // Lists of schemas.
            ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(a)) => {
                Value::Array(a.iter().map(strict_schema).collect())
            }
            // Everything else is data: enum and const values, required names, descriptions.
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    if out.contains_key("properties") && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn json_output_matches_the_documented_schema() {
        #[derive(serde::Deserialize)]
        struct Fixture {
            certificates: Vec<CertificateEvidence>,
            cluster: ClusterEvidence,
        }
        let dir = format!("{}/tests/fixtures/evidence", env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let f: Fixture = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let report = crate::run::build_report(
                &f.certificates,
                &f.cluster,
                &crate::run::Probes::default(),
            );
            let json: Value = serde_json::from_str(&report.to_json()).unwrap();
            let errors = schema_errors(&json);
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            checked += 1;
        }
        assert!(checked > 0);
    }

    /// Every golden JSON (`-o json` of the whole binary, tests/cli.rs) conforms to the schema.
    #[test]
    fn every_golden_json_matches_the_documented_schema() {
        let dir = format!("{}/tests/golden", env!("CARGO_MANIFEST_DIR"));
        let mut checked = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let errors = schema_errors(&json);
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            checked.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        println!("{} golden JSON files valid: {checked:?}", checked.len());
        assert!(checked.len() >= 11, "only {checked:?}");
    }

    /// The validation is strict where the hand-written one it replaced was blind: `pattern`,
    /// union types, undocumented fields, and the type of free-form objects.
    #[test]
    fn the_schema_check_rejects_what_it_must() {
        let path = format!(
            "{}/tests/golden/selfcheck-404.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let good: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(schema_errors(&good), Vec::<String>::new());
        let broken = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            schema_errors(&v)
        };
        let one = |f: &dyn Fn(&mut Value), at: &str| {
            let errors = broken(f);
            assert_eq!(errors.len(), 1, "{errors:#?}");
            assert!(errors[0].starts_with(at), "{errors:#?}");
        };
        // pattern: finding codes are upper-case identifiers.
        one(
            &|v| v["certificates"][0]["findings"][0]["code"] = json!("not-a-code"),
            "/certificates/0/findings/0/code",
        );
        // const and enum.
        one(
            &|v| v["apiVersion"] = json!("acmecheck.io/v2"),
            "/apiVersion",
        );
        one(
            &|v| v["summary"]["exitCode"] = json!(2),
            "/summary/exitCode",
        );
        // A union type: a string or null, not a number.
        let with_node = |node: Value| {
            move |v: &mut Value| {
                v["inCluster"] = json!({"state": "ran", "placement":
                    {"namespace": "cert-manager", "pod": "p", "why": "w", "node": node}});
            }
        };
        assert_eq!(broken(&with_node(json!("node-a"))), Vec::<String>::new());
        assert_eq!(broken(&with_node(Value::Null)), Vec::<String>::new());
        one(&with_node(json!(5)), "/inCluster/placement/node");
        // A field the schema does not document, at the top and deep down.
        one(&|v| v["extra"] = json!(1), "");
        one(
            &|v| v["certificates"][0]["challenges"][0]["parsedReason"]["extra"] = json!(1),
            "/certificates/0/challenges/0/parsedReason",
        );
        // A missing required field.
        one(
            &|v| {
                v["certificates"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("issuer");
            },
            "/certificates/0",
        );
        // Free-form objects take any fields, but must still be objects.
        let probe = json!({"id": "i", "url": "u", "dnsName": "d", "expectedKey": "k",
            "caProfile": "letsencrypt", "dns": {"anything": [1, 2]}, "addresses": [],
            "verdicts": {"selfCheck": {"outcome": "pass"}}, "direct": []});
        let with_local = |p: Value| {
            move |v: &mut Value| {
                v["certificates"][0]["challenges"][0]["vantages"]["local"] = p.clone()
            }
        };
        assert_eq!(broken(&with_local(probe.clone())), Vec::<String>::new());
        let mut bad = probe;
        bad["dns"] = json!("a string");
        one(
            &with_local(bad),
            "/certificates/0/challenges/0/vantages/local/dns",
        );
    }

    /// The test's strict variant closes documented objects and nothing else.
    #[test]
    fn strict_schema_closes_only_objects_with_properties() {
        let s = strict_schema(&json!({
            "type": "object",
            "properties": {
                "a": {"type": "object"},
                "b": {"type": "object", "properties": {}},
                "enum": {"type": "array", "items": {"properties": {}}}
            },
            "$defs": {"open": {"type": "object", "properties": {}, "additionalProperties": true}},
            "enum": [{"properties": {}}]
        }));
        assert_eq!(s["additionalProperties"], false);
        assert!(s["properties"]["a"].get("additionalProperties").is_none());
        assert_eq!(s["properties"]["b"]["additionalProperties"], false);
        // A property named like a keyword is still a schema.
        assert_eq!(
            s["properties"]["enum"]["items"]["additionalProperties"],
            false
        );
        assert_eq!(s["$defs"]["open"]["additionalProperties"], true);
        // Data is left alone.
        assert_eq!(s["enum"], json!([{"properties": {}}]));
    }

    #[test]
    fn yaml_output_parses_back() {
        let report = Report::new(vec![], &ClusterEvidence::default());
        let yaml = report.to_yaml();
        let back: Report = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, report);
    }
}
