//! `--dry-run`: the manifests a replay would create, as YAML, in the order they are created
//! (every pod, then every Service, then every Ingress/HTTPRoute; deletion runs the other way).
//! Pure. The comments say what is not replayed and why.

use super::plan::{Decision, ReplayPlan, StandIn};
use serde_json::Value;

/// The objects of a plan in creation order, with the name each stands in for.
pub fn objects(plan: &ReplayPlan) -> Vec<(&str, &Value)> {
    if !plan.shared.is_empty() {
        return plan
            .shared
            .iter()
            .map(|o| (plan.subject.as_str(), o))
            .collect();
    }
    let stand_ins: Vec<&StandIn> = plan.stand_ins().collect();
    let mut out = Vec::new();
    for pick in [
        (|s: &StandIn| &s.pod) as fn(&StandIn) -> &Value,
        |s| &s.service,
        |s| &s.route,
    ] {
        for s in &stand_ins {
            out.push((s.dns_name.as_str(), pick(s)));
        }
    }
    out
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
}

/// Multi-document YAML of [`objects`], with a header.
pub fn yaml(plan: &ReplayPlan) -> String {
    let mut out = String::new();
    comment(
        &mut out,
        &format!(
            "kubectl acmecheck replay, dry run: the objects a replay of {} would create in namespace {:?} (run {}), in creation order; a replay deletes them when it ends, and each carries the deadline {}",
            if plan.subject.is_empty() {
                "these names"
            } else {
                plan.subject.as_str()
            },
            plan.namespace,
            plan.run_id,
            plan.deadline_at
        ),
    );
    for item in &plan.items {
        match &item.decision {
            Decision::Skip(s) => comment(
                &mut out,
                &format!("{}: not replayed: {}", item.name, s.message),
            ),
            Decision::Replay(s) => {
                for n in &s.notes {
                    comment(&mut out, &format!("{}: {n}", item.name));
                }
            }
        }
    }
    for (dns_name, obj) in objects(plan) {
        out.push_str("---\n");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("object");
        comment(
            &mut out,
            &format!("{kind} standing in for cert-manager's solver of {dns_name}"),
        );
        match serde_saphyr::to_string(obj) {
            Ok(y) => out.push_str(&y),
            Err(e) => comment(&mut out, &format!("cannot render this {kind} as YAML: {e}")),
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
