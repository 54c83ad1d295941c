//! The cases of cert-manager's own tests, as tables: `pkg/util/solverpicker/solverpicker_test.go`
//! (`TestPick`), `pkg/controller/acmeorders/selectors/dns_zones_test.go` (`TestDNSZones`) and
//! `pkg/controller/acmeorders/util_test.go` (`TestChallengeSpecForAuthorization`,
//! `TestBuildChallengeSpecFromOrder_ParentRefAnnotations`). Names and expected picks are
//! cert-manager's; the solvers are written with this project's evidence types.

use super::*;
use crate::evidence::{Http01GatewayRoute, Http01Ingress, Http01Solver, SolverSelector};
use serde_json::json;

fn http01(name: &str) -> Solver {
    Solver {
        http01: Some(Http01Solver {
            ingress: Some(Http01Ingress {
                name: Some(name.into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn dns01(email: &str) -> Solver {
    Solver {
        dns01: Some(json!({"cloudflare": {"email": email}})),
        ..Default::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn strings(xs: &[&str]) -> Option<Vec<String>> {
    Some(xs.iter().map(|s| (*s).to_owned()).collect())
}

fn with(mut s: Solver, match_labels: &[(&str, &str)], names: &[&str], zones: &[&str]) -> Solver {
    s.selector = Some(SolverSelector {
        match_labels: (!match_labels.is_empty()).then(|| labels(match_labels)),
        dns_names: (!names.is_empty()).then(|| strings(names)).flatten(),
        dns_zones: (!zones.is_empty()).then(|| strings(zones)).flatten(),
    });
    s
}

const H: &[&str] = &["http-01"];
const D: &[&str] = &["dns-01"];

struct Case {
    name: &'static str,
    solvers: Vec<Solver>,
    order_labels: BTreeMap<String, String>,
    /// The authorization's identifier and whether it is a wildcard.
    identifier: &'static str,
    wildcard: bool,
    offered: &'static [&'static str],
    want: Option<usize>,
}

fn case(
    name: &'static str,
    solvers: Vec<Solver>,
    order_labels: &[(&str, &str)],
    identifier: &'static str,
    wildcard: bool,
    offered: &'static [&'static str],
    want: Option<usize>,
) -> Case {
    Case {
        name,
        solvers,
        order_labels: labels(order_labels),
        identifier,
        wildcard,
        offered,
        want,
    }
}

/// `TestPick` in `solverpicker_test.go`, case by case (a table: kept on one line per field).
#[rustfmt::skip]
fn solverpicker_cases() -> Vec<Case> {
    let empty_http = || http01("empty-selector-solver");
    let empty_dns = || dns01("test-cloudflare-email");
    let non_matching = || with(http01("non-matching-selector-solver"), &[("label", "does-not-exist"), ("does-not", "match")], &[], &[]);
    let example_com = || with(http01("example-com-dns-name-selector-solver"), &[], &["example.com"], &[]);
    let exists = [("label", "exists")];
    vec![
        case("should use configured default solver when no others are present",
            vec![empty_http()], &[], "example.com", false, H, Some(0)),
        case("should use configured default solver when no others are present but selector is non-nil",
            vec![with(empty_http(), &[], &[], &[])], &[], "example.com", false, H, Some(0)),
        case("should use configured default solver when others do not match",
            vec![empty_http(), non_matching()], &[], "example.com", false, H, Some(0)),
        case("should use DNS01 solver over HTTP01 if challenge is of type DNS01",
            vec![empty_http(), empty_dns()], &[], "example.com", false, D, Some(1)),
        case("should return nil if none match",
            vec![non_matching()], &[], "example.com", false, H, None),
        case("uses correct solver when selector explicitly names dnsName",
            vec![empty_http(), example_com()], &[], "example.com", false, H, Some(1)),
        case("uses default solver if dnsName does not match",
            vec![empty_http(), example_com()], &[], "notexample.com", false, H, Some(0)),
        case("if two solvers specify the same dnsName, the one with the most labels should be chosen",
            vec![example_com(), with(http01("example-com-dns-name-labels-selector-solver"), &exists, &["example.com"], &[])],
            &exists, "example.com", false, H, Some(1)),
        case("if one solver matches with dnsNames, and the other solver matches with labels, the dnsName solver should be chosen",
            vec![example_com(), with(http01("example-com-labels-selector-solver"), &exists, &[], &[])],
            &exists, "example.com", false, H, Some(0)),
        case("if one solver matches with dnsNames, and the other solver matches with labels, the dnsName solver should be chosen (solvers listed in reverse order)",
            vec![with(http01("example-com-labels-selector-solver"), &exists, &[], &[]), example_com()],
            &exists, "example.com", false, H, Some(1)),
        case("if one solver matches with dnsNames, and the other solver matches with 2 labels, the dnsName solver should be chosen",
            vec![example_com(), with(http01("example-com-labels-selector-solver"), &[("label", "exists"), ("another", "label")], &[], &[])],
            &[("label", "exists"), ("another", "label")], "example.com", false, H, Some(0)),
        case("should choose the solver with the most labels matching if multiple match",
            vec![
                with(http01("example-com-labels-selector-solver"), &exists, &[], &[]),
                with(http01("example-com-multiple-labels-selector-solver"), &[("label", "exists"), ("another", "matches")], &[], &[]),
            ],
            &[("label", "exists"), ("another", "matches")], "example.com", false, H, Some(1)),
        case("should match wildcard dnsName solver if authorization has Wildcard=true",
            vec![empty_dns(), with(dns01("example-com-wc-dnsname-selector-solver"), &[], &["*.example.com"], &[])],
            &[], "example.com", true, D, Some(1)),
        case("dnsName selectors should take precedence over dnsZone selectors",
            vec![example_com(), with(http01("com-dnszone-selector-solver"), &[], &[], &["com"])],
            &[], "example.com", false, H, Some(0)),
        case("dnsName selectors should take precedence over dnsZone selectors (reversed order)",
            vec![with(dns01("com-dnszone-selector-solver"), &[], &[], &["com"]), example_com()],
            &[], "example.com", false, H, Some(1)),
        case("should allow matching with dnsZones",
            vec![empty_dns(), with(dns01("example-com-dnszone-selector-solver"), &[], &[], &["example.com"])],
            &[], "www.example.com", true, D, Some(1)),
        case("most specific dnsZone should be selected if multiple match",
            vec![
                with(dns01("example-com-dnszone-selector-solver"), &[], &[], &["example.com"]),
                with(dns01("prod-example-com-dnszone-selector-solver"), &[], &[], &["prod.example.com"]),
            ],
            &[], "www.prod.example.com", true, D, Some(1)),
        case("most specific dnsZone should be selected if multiple match (reversed)",
            vec![
                with(dns01("prod-example-com-dnszone-selector-solver"), &[], &[], &["prod.example.com"]),
                with(dns01("example-com-dnszone-selector-solver"), &[], &[], &["example.com"]),
            ],
            &[], "www.prod.example.com", true, D, Some(0)),
        case("if two solvers specify the same dnsZone, the one with the most labels should be chosen",
            vec![
                with(http01("example-com-dnszone-selector-solver"), &[], &[], &["example.com"]),
                with(http01("example-com-dnszone-labels-selector-solver"), &exists, &[], &["example.com"]),
            ],
            &exists, "www.example.com", false, H, Some(1)),
        case("if both solvers match dnsNames, and one also matches dnsZones, choose the one that matches dnsZones",
            vec![
                with(http01("example-com-dnsname-selector-solver"), &[], &["www.example.com"], &[]),
                with(http01("example-com-dnsname-dnszone-selector-solver"), &[], &["www.example.com"], &["example.com"]),
            ],
            &[], "www.example.com", false, H, Some(1)),
        case("if both solvers match dnsNames, and one also matches dnsZones, choose the one that matches dnsZones (reversed)",
            vec![
                with(http01("example-com-dnsname-dnszone-selector-solver"), &[], &["www.example.com"], &["example.com"]),
                with(http01("example-com-dnsname-selector-solver"), &[], &["www.example.com"], &[]),
            ],
            &[], "www.example.com", false, H, Some(0)),
        case("uses correct solver when selector explicitly names dnsName (reversed)",
            vec![example_com(), empty_http()], &[], "example.com", false, H, Some(0)),
    ]
}

/// Cases this project adds at the edges of the same rules.
#[rustfmt::skip]
fn edge_cases() -> Vec<Case> {
    vec![
        case("a wildcard name with an HTTP-01-only issuer gets no solver (the CA offers only dns-01)",
            vec![http01("only")], &[], "example.com", true, D, None),
        case("a solver without selector listed after a matching selector does not displace it",
            vec![with(http01("zone"), &[], &[], &["example.com"]), http01("catch-all")],
            &[], "www.example.com", false, H, Some(0)),
        case("an empty-selector solver after a catch-all does not win a tie (0 labels each)",
            vec![http01("catch-all"), with(http01("empty"), &[], &[], &[])],
            &[], "www.example.com", false, H, Some(0)),
        case("a matchLabels solver after a catch-all wins with one label",
            vec![http01("catch-all"), with(http01("labelled"), &[("team", "web")], &[], &[])],
            &[("team", "web")], "www.example.com", false, H, Some(1)),
        case("zones compare whole labels: example.com is not a zone of notexample.com",
            vec![http01("catch-all"), with(http01("zone"), &[], &[], &["example.com"])],
            &[], "notexample.com", false, H, Some(0)),
        case("zones compare case-insensitively",
            vec![http01("catch-all"), with(http01("zone"), &[], &[], &["Example.COM"])],
            &[], "www.example.com", false, H, Some(1)),
        case("dnsNames compare exactly (case-sensitive, as Go's slices.Contains)",
            vec![http01("catch-all"), with(http01("name"), &[], &["WWW.example.com"], &[])],
            &[], "www.example.com", false, H, Some(0)),
        case("the longest matching zone of one solver counts",
            vec![
                with(http01("two"), &[], &[], &["example.com"]),
                with(http01("com-and-three"), &[], &[], &["com", "prod.example.com"]),
            ],
            &[], "www.prod.example.com", false, H, Some(1)),
        case("a DNS-01 catch-all listed first takes a name the CA also offers http-01 for",
            vec![dns01("first"), http01("second")], &[], "www.example.com", false, &["http-01", "dns-01"], Some(0)),
    ]
}

#[test]
fn picks_what_cert_manager_picks() {
    for c in solverpicker_cases().into_iter().chain(edge_cases()) {
        let domain = if c.wildcard {
            format!("*.{}", c.identifier)
        } else {
            c.identifier.to_owned()
        };
        let offered: Vec<String> = c.offered.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            pick(&domain, &offered, &c.solvers, &c.order_labels),
            c.want,
            "{}",
            c.name
        );
    }
}

#[test]
fn dns_zones_selector_scores() {
    // TestDNSZones: (selector zones, dnsName, matches, score).
    for (zones, name, matches, score) in [
        (None, "www.example.com", true, 0),
        (strings(&["example.com"]), "www.example.com", true, 2),
        (strings(&["example.com"]), "*.example.com", true, 2),
        // More of the same rules.
        (strings(&["example.com"]), "example.com", true, 2),
        (strings(&["www.example.com"]), "example.com", false, 0),
        (strings(&["example.com."]), "www.example.com", false, 0),
        (strings(&["example.com."]), "www.example.com.", true, 2),
        (strings(&["."]), "www.example.com", false, 0),
        (strings(&["org", "example.com"]), "a.b.example.com", true, 2),
    ] {
        assert_eq!(
            dns_zones_match(zones.as_ref(), name),
            (matches, score),
            "{zones:?} {name}"
        );
    }
}

#[test]
fn domain_name_label_counting_follows_miekg_dns() {
    assert_eq!(compare_domain_name("www.miek.nl.", "miek.nl."), 2);
    assert_eq!(compare_domain_name("www.miek.nl.", "www.bla.nl."), 1);
    assert_eq!(
        compare_domain_name("www.miek.nl", "miek.nl."),
        0,
        "fqdn and not"
    );
    assert_eq!(compare_domain_name(".", "miek.nl."), 0);
    assert_eq!(compare_domain_name("a\\.b.nl", "b.nl"), 1, "escaped dot");
    assert_eq!(count_label("www.miek.nl."), 3);
    assert_eq!(count_label("www.miek.nl"), 3);
    assert_eq!(count_label("."), 0);
    assert_eq!(count_label("a\\.b.nl"), 2);
}

#[test]
fn offered_types_come_from_the_order_or_the_acme_rules() {
    let authz = vec![AuthorizationEvidence {
        identifier: "shop.example.com".into(),
        challenge_types: vec!["HTTP-01".into()],
        ..Default::default()
    }];
    assert_eq!(offered_types("shop.example.com", &authz), ["http-01"]);
    assert_eq!(
        offered_types("www.example.com", &authz),
        ["http-01", "dns-01"]
    );
    assert_eq!(offered_types("*.example.com", &[]), ["dns-01"]);
}

fn ingress_solver() -> Solver {
    http01("test-name")
}

fn gateway_solver(refs: &[(&str, &str, &str)]) -> Solver {
    Solver {
        http01: Some(Http01Solver {
            gateway_http_route: Some(Http01GatewayRoute {
                parent_refs: refs
                    .iter()
                    .map(|(kind, name, ns)| ParentRef {
                        kind: Some((*kind).into()),
                        name: (*name).into(),
                        namespace: Some((*ns).into()),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn ingress_override_annotations() {
    // TestChallengeSpecForAuthorization: the three overrides, and every pair is an error.
    let ing = |s: &Solver| s.http01.clone().unwrap().ingress.unwrap();
    let mut s = ingress_solver();
    apply_overrides(
        &mut s,
        &labels(&[(OVERRIDE_INGRESS_NAME, "test-name-to-override")]),
        "ns",
    )
    .unwrap();
    assert_eq!(ing(&s).name.as_deref(), Some("test-name-to-override"));
    let mut s = ingress_solver();
    apply_overrides(
        &mut s,
        &labels(&[(OVERRIDE_INGRESS_CLASS, "test-class-to-override")]),
        "ns",
    )
    .unwrap();
    assert_eq!(
        (ing(&s).class.as_deref(), ing(&s).name),
        (Some("test-class-to-override"), None),
        "the name is cleared"
    );
    let mut s = ingress_solver();
    apply_overrides(
        &mut s,
        &labels(&[(
            OVERRIDE_INGRESS_CLASS_NAME,
            "test-ingressclassname-to-override",
        )]),
        "ns",
    )
    .unwrap();
    assert_eq!(
        ing(&s).ingress_class_name.as_deref(),
        Some("test-ingressclassname-to-override")
    );
    for pair in [
        [OVERRIDE_INGRESS_NAME, OVERRIDE_INGRESS_CLASS],
        [OVERRIDE_INGRESS_CLASS, OVERRIDE_INGRESS_CLASS_NAME],
        [OVERRIDE_INGRESS_NAME, OVERRIDE_INGRESS_CLASS_NAME],
    ] {
        let err = apply_overrides(
            &mut ingress_solver(),
            &labels(&[(pair[0], "a"), (pair[1], "b")]),
            "ns",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "may not specify more than one of: name, class, ingressClassName override annotations"
        );
    }
    // "should ignore HTTP01 override annotations if DNS01 solver is chosen".
    let mut d = dns01("x");
    apply_overrides(&mut d, &labels(&[(OVERRIDE_INGRESS_NAME, "n")]), "ns").unwrap();
    assert_eq!(d, dns01("x"));
}

type Refs = &'static [(&'static str, &'static str, &'static str)];
/// (case, the issuer's parentRefs, the Order's annotations, its namespace, the parentRefs
/// cert-manager ends with or its error).
type RefCase = (
    &'static str,
    Refs,
    Vec<(&'static str, &'static str)>,
    &'static str,
    Result<Refs, &'static str>,
);

/// `TestBuildChallengeSpecFromOrder_ParentRefAnnotations`, case by case, and one case of
/// `TestChallengeSpecForAuthorization`.
#[rustfmt::skip]
fn parent_ref_cases() -> Vec<RefCase> {
    vec![
        ("both annotations present", &[],
            vec![(PARENT_REF_NAME, "test-gateway"), (PARENT_REF_KIND, "Gateway")], "test-namespace",
            Ok(&[("Gateway", "test-gateway", "test-namespace")])),
        ("only name annotation", &[], vec![(PARENT_REF_NAME, "test-gateway")], "",
            Err("cannot specify only one of parentRefName, parentRefKind override annotations")),
        ("only kind annotation", &[], vec![(PARENT_REF_KIND, "Gateway")], "",
            Err("cannot specify only one of parentRefName, parentRefKind override annotations")),
        ("no annotations and no parentRefs on issuer", &[], vec![], "",
            Err("must specify parentRefs either through annotations or solver config")),
        ("append to existing parentRefs", &[("Gateway", "existing-gateway", "default")],
            vec![(PARENT_REF_NAME, "test-gateway"), (PARENT_REF_KIND, "ListenerSet")], "test-namespace",
            Ok(&[("Gateway", "existing-gateway", "default"), ("ListenerSet", "test-gateway", "test-namespace")])),
        ("namespace inherited from Order", &[],
            vec![(PARENT_REF_NAME, "test-gateway"), (PARENT_REF_KIND, "Gateway")], "custom-namespace",
            Ok(&[("Gateway", "test-gateway", "custom-namespace")])),
        ("namespace annotation overrides Order namespace", &[],
            vec![(PARENT_REF_NAME, "eg"), (PARENT_REF_KIND, "Gateway"), (PARENT_REF_NAMESPACE, "envoy-gateway-system")], "api",
            Ok(&[("Gateway", "eg", "envoy-gateway-system")])),
        ("namespace annotation deduplicates matching issuer parentRef", &[("Gateway", "eg", "envoy-gateway-system")],
            vec![(PARENT_REF_NAME, "eg"), (PARENT_REF_KIND, "Gateway"), (PARENT_REF_NAMESPACE, "envoy-gateway-system")], "api",
            Ok(&[("Gateway", "eg", "envoy-gateway-system")])),
        ("should remove duplicate parentRefs if issuer has same parentRef", &[("Gateway", "sample-gateway", "test-ns")],
            vec![(PARENT_REF_NAME, "sample-gateway"), (PARENT_REF_KIND, "Gateway")], "test-ns",
            Ok(&[("Gateway", "sample-gateway", "test-ns")])),
    ]
}

#[test]
fn parent_ref_override_annotations() {
    for (name, refs, ann, ns, want) in parent_ref_cases() {
        let mut s = gateway_solver(refs);
        let got = apply_overrides(&mut s, &labels(&ann), ns);
        match want {
            Ok(want) => {
                assert_eq!(got, Ok(()), "{name}");
                assert_eq!(
                    s.http01.unwrap().gateway_http_route.unwrap().parent_refs,
                    gateway_solver(want)
                        .http01
                        .unwrap()
                        .gateway_http_route
                        .unwrap()
                        .parent_refs,
                    "{name}"
                );
            }
            Err(e) => assert_eq!(got, Err(e.to_owned()), "{name}"),
        }
    }
    // "annotations on non-gateway solver": ignored.
    let mut s = ingress_solver();
    apply_overrides(
        &mut s,
        &labels(&[(PARENT_REF_NAME, "g"), (PARENT_REF_KIND, "Gateway")]),
        "ns",
    )
    .unwrap();
    assert_eq!(s, ingress_solver());
}
