use super::*;
use crate::probe::plan::{ErrorClass, ResolverAnswer};

fn oc(status: Option<u16>, err: Option<ErrorClass>, who: &str, count: u32) -> OutcomeCount {
    let key = status == Some(200);
    OutcomeCount {
        status,
        error_class: err,
        responder: who.into(),
        key_match: if key {
            KeyMatch::Exact
        } else {
            KeyMatch::NotApplicable
        },
        cert_manager_pass: key,
        acme_pass: key,
        count,
        ..Default::default()
    }
}

fn addr(ip: &str, outcomes: Vec<OutcomeCount>) -> AddressReport {
    AddressReport {
        address: ip.into(),
        attempts: outcomes.iter().map(|o| o.count).sum(),
        outcomes,
        ..Default::default()
    }
}

fn target(addresses: Vec<AddressReport>, direct: Vec<DirectResult>) -> TargetReport {
    TargetReport {
        dns_name: "shop.example.test".into(),
        addresses,
        direct,
        ..Default::default()
    }
}

fn direct(label: &str, outcomes: Vec<OutcomeCount>) -> DirectResult {
    DirectResult {
        label: label.into(),
        attempts: outcomes.iter().map(|o| o.count).sum(),
        outcomes,
        ..Default::default()
    }
}

const EDGE: &str = "203.0.113.10";

fn half_and_half() -> AddressReport {
    addr(
        EDGE,
        vec![
            oc(Some(200), None, "nginx", 100),
            oc(Some(404), None, "envoy", 100),
        ],
    )
}

fn planes() -> Vec<DirectResult> {
    vec![
        direct(
            "ingress-nginx Service ingress-nginx/ingress-nginx-controller",
            vec![oc(Some(200), None, "nginx", 20)],
        ),
        direct(
            "gateway infra/public (cilium) Service infra/cilium-gateway-public",
            vec![oc(Some(404), None, "envoy", 20)],
        ),
    ]
}

/// The founding incident: both vantages saw the same 50/50 mix, so one drawing joins them, and
/// the direct probes name both data planes.
#[test]
fn the_founding_incident_is_one_drawing_with_named_planes() {
    let local = target(vec![half_and_half()], vec![]);
    let inside = target(vec![half_and_half()], planes());
    let p = picture(Some(&local), Some(&inside), Charset::Unicode, 120, "");
    assert_eq!(
        p,
        "\
this machine ─┐                 ┌─ 50 %  nginx (ingress-nginx)                 200 key
              ├─ 203.0.113.10 ──┤
probe pod ────┘                 └─ 50 %  envoy (gateway infra/public, cilium)  404
"
    );
    let ascii = picture(Some(&local), Some(&inside), Charset::Ascii, 120, "");
    assert!(ascii.is_ascii(), "{ascii}");
    assert!(
        ascii.starts_with("this machine -+                 +- 50 %"),
        "{ascii}"
    );
    assert!(
        ascii.contains("              +- 203.0.113.10 --+\n"),
        "{ascii}"
    );
}

/// Too wide for 80 columns: the branches hang under the address, nothing is cut.
#[test]
fn narrow_terminals_get_the_hanging_drawing() {
    let local = target(vec![half_and_half()], vec![]);
    let inside = target(vec![half_and_half()], planes());
    let p = picture(Some(&local), Some(&inside), Charset::Unicode, 80, "  ");
    assert_eq!(
        p,
        "  this machine ─┐
  probe pod ────┴─ 203.0.113.10
                   ├─ 50 %  nginx (ingress-nginx)                 200 key
                   └─ 50 %  envoy (gateway infra/public, cilium)  404
"
    );
    // Narrower still: a branch wraps at spaces under itself.
    let p = picture(Some(&local), Some(&inside), Charset::Unicode, 56, "  ");
    for line in p.lines() {
        assert!(width(line) <= 56, "{line}\n{p}");
    }
    assert!(p.contains("infra/public,"), "{p}");
    assert!(p.contains("cilium)"), "{p}");
}

/// Source-pinned: each vantage reaches a different backend. Two drawings, each with the
/// shares that vantage saw; never a merged 50/50 that neither saw.
#[test]
fn different_mixes_are_drawn_per_vantage() {
    let local = target(
        vec![addr(EDGE, vec![oc(Some(200), None, "nginx", 66)])],
        vec![],
    );
    let inside = target(
        vec![addr(EDGE, vec![oc(Some(404), None, "envoy", 66)])],
        planes(),
    );
    let p = picture(Some(&local), Some(&inside), Charset::Unicode, 120, "");
    assert_eq!(
        p,
        "\
this machine ─── 203.0.113.10 ──── 100 %  nginx (ingress-nginx)                 200 key
probe pod ────── 203.0.113.10 ──── 100 %  envoy (gateway infra/public, cilium)  404
"
    );
    // The same backends in different shares are not merged either.
    let other = target(
        vec![addr(
            EDGE,
            vec![
                oc(Some(200), None, "nginx", 120),
                oc(Some(404), None, "envoy", 80),
            ],
        )],
        vec![],
    );
    let p = picture(Some(&local), Some(&other), Charset::Unicode, 120, "");
    assert!(p.contains("this machine ─── 203.0.113.10"), "{p}");
    assert!(p.contains("60 %  nginx"), "{p}");
    assert!(p.contains("40 %  envoy"), "{p}");
    assert!(!p.contains("50 %"), "{p}");
}

/// Hairpin and split horizon: one vantage cannot connect, or resolves another address.
#[test]
fn unreachable_and_other_addresses() {
    let local = target(
        vec![addr(EDGE, vec![oc(Some(200), None, "nginx", 66)])],
        vec![],
    );
    let inside = target(
        vec![addr(
            EDGE,
            vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", 66)],
        )],
        vec![],
    );
    let p = picture(Some(&local), Some(&inside), Charset::Unicode, 100, "");
    assert!(
        p.contains("probe pod ────── 203.0.113.10 ──── 100 %  no answer  connect timeout"),
        "{p}"
    );
    let inside = target(
        vec![addr(
            "198.51.100.20",
            vec![oc(Some(404), None, "envoy", 66)],
        )],
        vec![],
    );
    let p = picture(Some(&local), Some(&inside), Charset::Unicode, 100, "");
    assert_eq!(
        p,
        "\
this machine ─── 203.0.113.10 ───── 100 %  nginx  200 key
probe pod ────── 198.51.100.20 ──── 100 %  envoy  404
"
    );
    let nowhere = TargetReport {
        dns: crate::probe::plan::DnsReport {
            resolvers: vec![ResolverAnswer {
                error: Some(ErrorClass::DnsNxdomain),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    let p = picture(Some(&nowhere), None, Charset::Unicode, 100, "");
    assert_eq!(p, "this machine ─ no address to probe (dns nxdomain)\n");
    let p = picture(Some(&nowhere), Some(&nowhere), Charset::Unicode, 100, "");
    assert_eq!(
        p,
        "this machine ─ no address to probe (dns nxdomain)\nprobe pod ──── no address to probe (dns nxdomain)\n"
    );
}

/// Three backends and one vantage: the middle branch leaves from the address row.
#[test]
fn three_backends_one_vantage() {
    let a = addr(
        EDGE,
        vec![
            oc(Some(200), None, "nginx", 40),
            oc(Some(404), None, "envoy", 20),
            oc(Some(503), None, "haproxy", 6),
        ],
    );
    let p = picture(
        Some(&target(vec![a], vec![])),
        None,
        Charset::Unicode,
        100,
        "",
    );
    assert_eq!(
        p,
        concat!(
            "                                ┌─ 61 %  nginx    200 key\n",
            "this machine ─── 203.0.113.10 ──┼─ 30 %  envoy    404\n",
            "                                └─  9 %  haproxy  503\n",
        )
    );
}

/// A fingerprint two data planes share names neither: the picture does not guess.
#[test]
fn ambiguous_fingerprints_name_no_plane() {
    let a = addr(EDGE, vec![oc(Some(200), None, "nginx", 66)]);
    let both = vec![
        direct(
            "ingress-nginx Service a/b",
            vec![oc(Some(200), None, "nginx", 20)],
        ),
        direct(
            "nginx-inc Service c/d",
            vec![oc(Some(200), None, "nginx", 20)],
        ),
    ];
    let p = picture(
        None,
        Some(&target(vec![a], both)),
        Charset::Unicode,
        100,
        "",
    );
    assert_eq!(p, "probe pod ─── 203.0.113.10 ──── 100 %  nginx  200 key\n");
}

#[test]
fn shares_are_rounded_but_never_to_0_or_100() {
    assert_eq!(share(1, 200), "<1 %");
    assert_eq!(share(199, 200), ">99 %");
    assert_eq!(share(197, 200), "98 %");
    assert_eq!(share(999, 1000), ">99 %");
    assert_eq!(share(66, 66), "100 %");
    assert_eq!(share(33, 66), "50 %");
}

#[test]
fn charset_follows_the_locale() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    use Charset::{Ascii, Unicode};
    assert_eq!(Charset::from_locale(env(&[])), Ascii);
    assert_eq!(Charset::from_locale(env(&[("LANG", "C.UTF-8")])), Unicode);
    assert_eq!(
        Charset::from_locale(env(&[("LANG", "en_US.utf8")])),
        Unicode
    );
    assert_eq!(
        Charset::from_locale(env(&[("LANG", "de_DE.UTF-8@euro")])),
        Unicode
    );
    assert_eq!(Charset::from_locale(env(&[("LANG", "C")])), Ascii);
    assert_eq!(Charset::from_locale(env(&[("LANG", "POSIX")])), Ascii);
    assert_eq!(
        Charset::from_locale(env(&[("LANG", "en_US.ISO-8859-1")])),
        Ascii
    );
    // LC_ALL overrides LC_CTYPE overrides LANG; an empty value counts as unset.
    assert_eq!(
        Charset::from_locale(env(&[("LC_ALL", "C"), ("LANG", "C.UTF-8")])),
        Ascii
    );
    assert_eq!(
        Charset::from_locale(env(&[("LC_CTYPE", "en_GB.UTF-8"), ("LANG", "C")])),
        Unicode
    );
    assert_eq!(
        Charset::from_locale(env(&[("LC_ALL", ""), ("LANG", "C.UTF-8")])),
        Unicode
    );
}
