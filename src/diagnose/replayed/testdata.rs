//! Fixtures of the replay rules' tests.

use crate::evidence::CertificateEvidence;
use crate::evidence::replay::{ReplayEvidence, ReplayProblem, ReplayState, StandInEvidence};

pub(crate) fn replay(state: ReplayState) -> CertificateEvidence {
    CertificateEvidence {
        namespace: "shop".into(),
        name: "web".into(),
        replay: Some(ReplayEvidence {
            state,
            namespace: "shop".into(),
            command: "kubectl acmecheck web -n shop --replay".into(),
            stand_ins: vec![StandInEvidence {
                dns_name: "shop.example.test".into(),
                object_name: "acmecheck-solver-r-0".into(),
                route_kind: "Ingress".into(),
                objects: vec!["Pod shop/acmecheck-solver-r-0".into()],
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn with_problem(
    state: ReplayState,
    kind: &str,
    object: Option<&str>,
    cm: bool,
) -> CertificateEvidence {
    let mut c = replay(state);
    if let Some(r) = c.replay.as_mut() {
        r.problem = Some(ReplayProblem {
            kind: kind.into(),
            message: "the message".into(),
            hint: "the hint".into(),
            also_hits_cert_manager: cm,
            object_kind: object.map(str::to_owned),
            left_behind: vec![],
        });
    }
    c
}
