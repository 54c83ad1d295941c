//! Helpers the probe rules share: evidence lines per address.

use crate::diagnose::finding::Finding;
use crate::diagnose::util::outcome_summary;
use crate::probe::plan::AddressReport;

pub(super) fn address_lines(addrs: &[&AddressReport]) -> Vec<String> {
    addrs
        .iter()
        .map(|a| format!("{}  {}", a.address, outcome_summary(a)))
        .collect()
}

pub(super) fn with_evidence(mut f: Finding, lines: Vec<String>) -> Finding {
    f.evidence.extend(lines);
    f
}
