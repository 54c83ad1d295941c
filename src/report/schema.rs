//! The report schema as the tests hold the output to it: `docs/report-schema.json`, made strict,
//! checked by the jsonschema crate; and the tests that every report and golden JSON conforms.

/// The report schema's errors for `report` (empty when it conforms): `docs/report-schema.json`
/// made strict (see [`strict_schema`]) and checked by a maintained JSON Schema validator
/// (draft 2020-12: `pattern`, union types, `$ref`, `enum`, `const`, free-form objects).
pub(crate) fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report-schema.json"))
            .unwrap_or_else(|e| panic!("docs/report-schema.json is not JSON: {e}"));
    schema_errors_with(&schema, report)
}

/// [`schema_errors`] against a schema already read (the published one or a test's variant).
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
mod tests {
    use super::*;
    use crate::evidence::{CertificateEvidence, ClusterEvidence};
    use crate::report::Report;
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
