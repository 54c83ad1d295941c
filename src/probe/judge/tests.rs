use super::*;
use crate::probe::plan::Hop;

const URL: &str = "http://a.test/.well-known/acme-challenge/t";

/// An exchange through `hops` (url, status, location), ending with `status` and `body`.
fn ex(hops: &[(&str, Option<u16>, Option<&str>)], status: Option<u16>, body: &str) -> Exchange {
    Exchange {
        hops: hops
            .iter()
            .enumerate()
            .map(|(i, (u, s, l))| Hop {
                url: u.to_string(),
                address: format!("192.0.2.{}:80", 10 + i),
                status: *s,
                location: l.map(str::to_owned),
                ..Default::default()
            })
            .collect(),
        status,
        body: body.as_bytes().to_vec(),
        body_len: body.len() as u64,
        ..Default::default()
    }
}

fn simple(status: u16, body: &str) -> Exchange {
    ex(&[(URL, Some(status), None)], Some(status), body)
}

fn rules(p: CaProfile) -> CaRules {
    CaRules::new(p)
}

const LE: CaProfile = CaProfile::Letsencrypt;

#[test]
fn exact_key_passes_everyone() {
    for p in [
        CaProfile::Letsencrypt,
        CaProfile::Pebble,
        CaProfile::Private,
    ] {
        let j = judge(&simple(200, "t.k"), URL, "t.k", rules(p));
        assert!(
            j.cert_manager_pass && j.acme_pass && j.key_match == KeyMatch::Exact,
            "{p:?}"
        );
    }
}

/// cert-manager `testReachability` (v1.21.1): exact bytes; `keyToPrint` is the body as is up
/// to 24 bytes, else its first 24 bytes trimmed and "... (truncated)".
#[test]
fn cert_manager_compares_bytes_and_words_it_its_way() {
    let j = judge(&simple(200, "t.k\n"), URL, "t.k", rules(LE));
    assert_eq!(j.key_match, KeyMatch::Trimmed);
    assert!(!j.cert_manager_pass && j.acme_pass);
    assert_eq!(
        j.cert_manager_error,
        "did not get expected response when querying endpoint, expected \"t.k\" but got: t.k\n"
    );
    let long = "x".repeat(23) + "  yyyyyy";
    let j = judge(&simple(200, &long), URL, "t.k", rules(LE));
    assert!(
        j.cert_manager_error
            .ends_with(&format!("got: {}... (truncated)", "x".repeat(23))),
        "{}",
        j.cert_manager_error
    );
    let j = judge(&simple(404, ""), URL, "t.k", rules(LE));
    assert_eq!(
        j.cert_manager_error,
        "wrong status code '404', expected '200'"
    );
    assert_eq!(
        j.acme_error,
        format!("192.0.2.10: Invalid response from {URL}: 404")
    );
}

/// D12 — Boulder `processHTTPValidation`: ≥ 128 bytes fail with the body quoted; then
/// `strings.TrimRightFunc(body, unicode.IsSpace)` (also \v, U+0085, U+00A0); the mismatch text
/// has no address prefix (`validateHTTP01`). Pebble `validateHTTP01` trims only "\n\r\t".
#[test]
fn body_rules_per_ca() {
    let key = "t.k";
    let many_newlines = format!("{key}{}", "\n".repeat(125));
    let j = judge(&simple(200, &many_newlines), URL, key, rules(LE));
    assert!(!j.acme_pass);
    assert!(
        j.acme_error.starts_with(&format!(
            "192.0.2.10: Invalid response from {URL}: \"t.k\\n\\n"
        )),
        "{}",
        j.acme_error
    );
    assert!(
        judge(
            &simple(200, &many_newlines),
            URL,
            key,
            rules(CaProfile::Pebble)
        )
        .acme_pass
    );
    // Unicode white space: Boulder trims it, Pebble does not trim a space.
    assert!(judge(&simple(200, "t.k\u{a0}\u{b}"), URL, key, rules(LE)).acme_pass);
    let j = judge(&simple(200, "t.k "), URL, key, rules(CaProfile::Pebble));
    assert!(!j.acme_pass);
    assert_eq!(
        j.acme_error,
        "The key authorization file from the server did not match this challenge \"t.k\" != \"t.k \""
    );
    let j = judge(&simple(200, "nope"), URL, key, rules(LE));
    assert_eq!(
        j.acme_error,
        "The key authorization file from the server did not match this challenge. Expected \"t.k\" (got \"nope\")"
    );
}

/// Pebble `fetchHTTP`: its URL carries the port (`net.JoinHostPort`), non-200 is its own text.
#[test]
fn pebble_words() {
    let mut r = rules(CaProfile::Pebble);
    let j = judge(&simple(404, ""), URL, "t.k", r);
    assert_eq!(
        j.acme_error,
        "Non-200 status code from HTTP: http://a.test:80/.well-known/acme-challenge/t returned 404"
    );
    r.pebble_port = 5002;
    let j = judge(&simple(404, ""), URL, "t.k", r);
    assert!(
        j.acme_error.contains("http://a.test:5002/"),
        "{}",
        j.acme_error
    );
}

const HTTPS: &str = "https://a.example.com/.well-known/acme-challenge/t";

/// D9 — Boulder `processRedirect`: only 301/302/307/308; Go (cert-manager, Pebble) also
/// follows 303. The detail names the redirect's `Location` (`Fetching <loc>`).
#[test]
fn a_303_is_refused_by_lets_encrypt_only() {
    let e = ex(
        &[(URL, Some(303), Some(HTTPS)), (HTTPS, Some(200), None)],
        Some(200),
        "t.k",
    );
    let j = judge(&e, URL, "t.k", rules(LE));
    assert!(j.cert_manager_pass);
    assert_eq!(
        j.acme_error,
        format!("192.0.2.10: Fetching {HTTPS}: received disallowed redirect status code")
    );
    assert!(judge(&e, URL, "t.k", rules(CaProfile::Pebble)).acme_pass);
    let e = ex(
        &[(URL, Some(308), Some(HTTPS)), (HTTPS, Some(200), None)],
        Some(200),
        "t.k",
    );
    assert!(judge(&e, URL, "t.k", rules(LE)).acme_pass);
}

/// D5 — Boulder `extractRequestTarget` since 2025 (commit 3e6a8e2d2): a redirect to a public
/// IP is followed; reserved IPs, zones, ports other than 80/443, hosts without an IANA TLD and
/// `.well-known` hosts are refused, each with Boulder's text.
#[test]
fn redirect_targets_under_boulder() {
    let to = |target: &str| {
        let e = ex(
            &[(URL, Some(302), Some(target)), (target, Some(200), None)],
            Some(200),
            "t.k",
        );
        judge(&e, URL, "t.k", rules(LE)).acme_error
    };
    assert_eq!(to("http://8.8.4.4/.well-known/acme-challenge/t"), "");
    assert_eq!(
        to("http://[2606:4700::1111]/.well-known/acme-challenge/t"),
        ""
    );
    assert_eq!(
        to("http://10.0.0.5/x"),
        "192.0.2.10: Fetching http://10.0.0.5/x: Invalid host in redirect target: IP address is in a reserved address block: [RFC1918]: Private-Use"
    );
    assert!(to("https://a.example.com:8443/x").ends_with(
        "Invalid port in redirect target. Only ports 80 and 443 are supported, not 8443"
    ));
    assert!(to("https://a.example.com:443/x").is_empty());
    assert!(to("http://shop.example.test/x").ends_with("must end in IANA registered TLD"));
    assert!(to("https://example.com.well-known/acme-challenge/t").ends_with(
        "Invalid host in redirect target \"example.com.well-known\". Check webserver config for missing '/' in redirect target."
    ));
    // Go follows all of them (any port, any host).
    let e = ex(
        &[
            (URL, Some(302), Some("http://10.0.0.5:8080/x")),
            ("http://10.0.0.5:8080/x", Some(200), None),
        ],
        Some(200),
        "t.k",
    );
    assert!(judge(&e, URL, "t.k", rules(LE)).cert_manager_pass);
}

/// D17 — Go `defaultCheckRedirect` refuses the 10th redirect (ten requests); Boulder follows
/// 11 and detects loops (`Redirect loop detected`).
#[test]
fn redirect_limits_and_loops() {
    let urls: Vec<String> = (0..=11)
        .map(|i| format!("http://a.example.com/{i}"))
        .collect();
    let chain = |n: usize| {
        let mut hops: Vec<(&str, Option<u16>, Option<&str>)> = (0..n)
            .map(|i| (urls[i].as_str(), Some(302), Some(urls[i + 1].as_str())))
            .collect();
        hops.push((urls[n].as_str(), Some(200), None));
        ex(&hops, Some(200), "t.k")
    };
    let j = judge(&chain(9), URL, "t.k", rules(LE));
    assert!(j.cert_manager_pass && j.acme_pass, "{j:?}");
    let j = judge(&chain(10), URL, "t.k", rules(LE));
    assert_eq!(
        j.cert_manager_error,
        format!(
            "failed to perform self check GET request '{URL}': Get \"{}\": stopped after 10 redirects",
            urls[10]
        )
    );
    assert!(j.acme_pass, "Boulder follows 11: {}", j.acme_error);
    let j = judge(&chain(11), URL, "t.k", rules(LE));
    assert!(j.acme_pass, "{}", j.acme_error);
    let looped = ex(
        &[
            (urls[0].as_str(), Some(302), Some(urls[1].as_str())),
            (urls[1].as_str(), Some(302), Some(urls[0].as_str())),
            (urls[0].as_str(), Some(200), None),
        ],
        Some(200),
        "t.k",
    );
    let j = judge(&looped, URL, "t.k", rules(LE));
    assert!(
        j.acme_error.ends_with("Redirect loop detected"),
        "{}",
        j.acme_error
    );
    assert!(j.cert_manager_pass);
}

/// Boulder drops reserved addresses of a redirect host too (`newHTTPValidationTarget`).
#[test]
fn redirect_host_with_only_reserved_addresses() {
    let to = "https://www.example.com/x";
    let mut e = ex(
        &[(URL, Some(301), Some(to)), (to, Some(200), None)],
        Some(200),
        "t.k",
    );
    e.hops[1].resolved = vec!["10.1.1.1".into()];
    let j = judge(&e, URL, "t.k", rules(LE));
    assert_eq!(
        j.acme_error,
        "192.0.2.10: Fetching https://www.example.com/x: no valid A records found for www.example.com; no valid AAAA records found for www.example.com"
    );
}

#[test]
fn connection_problems_in_each_validators_words() {
    let mut e = ex(&[(URL, None, None)], None, "");
    e.error_class = Some(ErrorClass::ConnectRefused);
    e.error = Some("dial tcp 192.0.2.10:80: connect: connection refused".into());
    let j = judge(&e, URL, "t.k", rules(LE));
    assert_eq!(
        j.cert_manager_error,
        format!(
            "failed to perform self check GET request '{URL}': Get \"{URL}\": dial tcp 192.0.2.10:80: connect: connection refused"
        )
    );
    assert_eq!(
        j.acme_error,
        format!("192.0.2.10: Fetching {URL}: Connection refused")
    );
    let p = judge(&e, URL, "t.k", rules(CaProfile::Pebble));
    assert_eq!(
        p.acme_error,
        "Get \"http://a.test:80/.well-known/acme-challenge/t\": dial tcp 192.0.2.10:80: connect: connection refused"
    );
    // EADDRNOTAVAIL and EOF are "Error getting validation data" to Boulder.
    e.error_class = Some(ErrorClass::NetworkUnreachable);
    e.error = Some("dial tcp [2001:db8::9]:80: connect: cannot assign requested address".into());
    assert!(
        judge(&e, URL, "t.k", rules(LE))
            .acme_error
            .ends_with("Error getting validation data")
    );
    e.error = Some("dial tcp [2001:db8::9]:80: connect: network is unreachable".into());
    assert!(
        judge(&e, URL, "t.k", rules(LE))
            .acme_error
            .ends_with("Network unreachable")
    );
}

#[test]
fn go_quoting() {
    assert_eq!(
        go_quote(b"a\"b\\c\n\t\x01\x7f"),
        "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\""
    );
    assert_eq!(go_quote("é\u{a0}".as_bytes()), "\"é\\u00a0\"");
    assert_eq!(go_quote(b"\xff"), "\"\\xff\"");
}
