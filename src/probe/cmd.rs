//! `kubectl acmecheck probe --plan FILE|-` or `probe --plan-json JSON`: run a plan, print the
//! report as JSON. The in-cluster probe pod runs `probe --plan-json` (pod mode): exactly one line
//! on stdout (the report), nothing on stderr unless it fails; the CLI reads it from the pod's log.

use super::plan::{API_VERSION, ProbePlan};
use crate::cli::ProbeArgs;
use crate::error::exit;
use std::io::Read;

/// Plans are small; refuse anything larger (the input may come from a file a user points at).
const MAX_PLAN_BYTES: u64 = 4 << 20;

/// Read and check a plan from `FILE` or `-` (stdin).
pub fn read_plan(source: &str) -> Result<ProbePlan, String> {
    let mut text = String::new();
    let read = if source == "-" {
        std::io::stdin()
            .take(MAX_PLAN_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(source)
            .and_then(|f| f.take(MAX_PLAN_BYTES + 1).read_to_string(&mut text))
    };
    read.map_err(|e| format!("cannot read the plan from {source}: {e}"))?;
    if text.len() as u64 > MAX_PLAN_BYTES {
        return Err(format!(
            "the plan in {source} is larger than {MAX_PLAN_BYTES} bytes"
        ));
    }
    parse_plan(&text)
}

pub fn parse_plan(text: &str) -> Result<ProbePlan, String> {
    let plan: ProbePlan = serde_json::from_str(text)
        .map_err(|e| format!("the plan is not valid JSON for {API_VERSION}: {e}"))?;
    if plan.api_version != API_VERSION {
        return Err(format!(
            "unsupported plan apiVersion {:?} (this version reads {API_VERSION})",
            plan.api_version
        ));
    }
    Ok(plan)
}

/// The plan from `--plan FILE|-` or `--plan-json JSON`.
fn plan_from(args: &ProbeArgs) -> Result<ProbePlan, String> {
    match (&args.plan_json[..], &args.plan) {
        ([_, ..], _) => {
            let json = args.plan_json.concat();
            if json.len() as u64 > MAX_PLAN_BYTES {
                return Err(format!(
                    "the plan given with --plan-json is larger than {MAX_PLAN_BYTES} bytes"
                ));
            }
            parse_plan(&json)
        }
        ([], Some(source)) => read_plan(source),
        ([], None) => Err("give the plan with --plan FILE|- or --plan-json JSON".into()),
    }
}

pub fn probe_main(args: &ProbeArgs) -> i32 {
    let plan = match plan_from(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_DIAGNOSE;
        }
    };
    let report = match crate::run::block_on(super::run_plan(&plan)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return exit::CANNOT_DIAGNOSE;
        }
    };
    match serde_json::to_string(&report) {
        Ok(json) => {
            crate::run::print_stdout(&json);
            exit::OK
        }
        Err(e) => {
            eprintln!("error: cannot encode the report: {e}");
            exit::CANNOT_DIAGNOSE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_plans() {
        assert!(parse_plan("{").unwrap_err().contains("not valid JSON"));
        assert!(
            parse_plan(r#"{"apiVersion":"v0"}"#)
                .unwrap_err()
                .contains("unsupported plan apiVersion")
        );
        assert!(parse_plan(r#"{"apiVersion":"acmecheck.io/v1alpha1","targets":[]}"#).is_ok());
    }

    #[test]
    fn inline_plans() {
        let args = |json: &str| ProbeArgs {
            plan: None,
            plan_json: vec![json.to_owned()],
        };
        assert!(plan_from(&args(r#"{"apiVersion":"acmecheck.io/v1alpha1"}"#)).is_ok());
        // Parts are joined.
        let parts = ProbeArgs {
            plan: None,
            plan_json: vec![
                r#"{"apiVersion":"acme"#.into(),
                r#"check.io/v1alpha1"}"#.into(),
            ],
        };
        assert!(plan_from(&parts).is_ok());
        assert!(
            plan_from(&args("{"))
                .unwrap_err()
                .contains("not valid JSON")
        );
        let big = format!(
            r#"{{"apiVersion":"acmecheck.io/v1alpha1","x":"{}"}}"#,
            "a".repeat(5 << 20)
        );
        assert!(plan_from(&args(&big)).unwrap_err().contains("larger than"));
    }
}
