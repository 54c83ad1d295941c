//! SELF_CHECK_FAILING (cert-manager's own reason says the self check fails: the symptom) and
//! SELF_CHECK_SKIPPED (`waitInsteadOfSelfCheck` replaces it).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{log_summary, open_http01, parsed};
use crate::diagnose::view::Certificate;
use crate::reason::{self, Phase, Reason};

pub(crate) fn self_check_failing(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .filter(|c| reason::phase(c) == Phase::SelfCheck)
        .filter_map(|ch| {
            let r = parsed(ch)?;
            if matches!(r, Reason::WaitingWithoutSelfCheck { .. } | Reason::Other { .. }) {
                return None;
            }
            let mut f = Finding::new(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                format!("cert-manager's self check for {} fails: {}", ch.dns_name, r.short()),
            )
            .challenge(&ch.name)
            .evidence(format!("Challenge {} reason: {}", ch.name, ch.reason.as_deref().unwrap_or("")));
            // When it was written (the controller's managedFields entry): it has not changed
            // since, and cert-manager rewrites it only when it changes.
            if let Some(w) = &ch.status_written {
                f = f.evidence(format!(
                    "cert-manager's controller ({}) last wrote the Challenge's status at {}; the reason has not changed since",
                    w.manager, w.time
                ));
            }
            if let Some(log) = &ch.solver_log {
                f = f.evidence(log_summary(log));
                if log.requests == 0 && log.lines > 0 {
                    f = f.evidence("no request reached the solver: the self check ends at whatever answers in front of it (edge, controller default backend, another route)");
                }
            }
            // This rule reads cert-manager's text only: it cannot know whether anything was
            // probed (`--no-probe`) or which finding explains it (the ranking marks that).
            Some(f.fix(format!(
                "this is the symptom: fix the finding it is marked a consequence of; when none is, see what the self check gets from a pod in the cluster: curl -sv {}",
                ch.challenge_url()
            )))
        })
        .collect()
}

pub(crate) fn self_check_skipped(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .filter_map(|ch| {
            let wait = ch.solver.wait_instead_of_self_check.as_ref()?;
            Some(
                Finding::new(
                    Code::SelfCheckSkipped,
                    Severity::Info,
                    Proof::Proves,
                    format!("the self check is replaced by a {wait} wait (waitInsteadOfSelfCheck)"),
                )
                .challenge(&ch.name)
                .evidence(format!("Challenge {} spec.solver.waitInsteadOfSelfCheck: {wait}", ch.name))
                .fix("nothing to fix; a wrong guess costs a failed authorization at the CA, so check the probe results before it fires"),
            )
        })
        .collect()
}
