//! HTTPS_REDIRECT_UNSERVED (a redirect to https ends where the token is not served) and
//! BAD_REDIRECT (a redirect the self check follows and Let's Encrypt refuses).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use crate::probe::plan::{AddressReport, CaProfile, OutcomeCount};

fn sample_final_url(a: &AddressReport, o: &OutcomeCount) -> Option<String> {
    a.samples
        .iter()
        .find(|s| {
            s.status == o.status && s.error_class == o.error_class && s.responder == o.responder
        })
        .and_then(|s| s.hops.last())
        .map(|h| h.url.clone())
}

pub(crate) fn https_redirect_unserved(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        for o in a
            .outcomes
            .iter()
            .filter(|o| !o.cert_manager_pass && !o.redirect_chain.is_empty())
        {
            let Some(last) = sample_final_url(a, o) else {
                continue;
            };
            if !last.starts_with("https://") {
                continue;
            }
            let end = o.status.map_or_else(
                || {
                    o.error_class
                        .map_or("no answer".into(), |e| e.as_str().to_owned())
                },
                |s| format!("HTTP {s}"),
            );
            out.push(
                Finding::new(
                    Code::HttpsRedirectUnserved,
                    Severity::Error,
                    Proof::Proves,
                    format!("{} redirects the challenge to https, where it gets {end} instead of the key", a.address),
                )
                .challenge(&c.ch.name)
                .evidence(format!("{} × {} → {last}", o.count, o.redirect_chain.join(" → ")))
                .fix("exempt /.well-known/acme-challenge/ from the forced https redirect (ingress-nginx: annotation nginx.ingress.kubernetes.io/ssl-redirect: \"false\" via the solver's ingressTemplate; Traefik: no global entrypoint redirect for that path), or serve the challenge on the https side too"),
            );
            break;
        }
    }
    out
}

pub(crate) fn bad_redirect(c: &Vantage) -> Vec<Finding> {
    if c.ca != CaProfile::Letsencrypt {
        return vec![];
    }
    let mut out = Vec::new();
    for a in &c.report.addresses {
        if let Some(o) = a
            .outcomes
            .iter()
            .find(|o| o.cert_manager_pass && !o.acme_pass && !o.redirect_chain.is_empty())
        {
            out.push(
                Finding::new(
                    Code::BadRedirect,
                    Severity::Error,
                    Proof::Proves,
                    "cert-manager's self check follows this redirect, but Let's Encrypt refuses it: the self check passes and validation fails",
                )
                .challenge(&c.ch.name)
                .evidence(format!("redirects: {}", o.redirect_chain.join(" → ")))
                .evidence(format!("CA: {}", o.acme_error))
                .fix("redirect only to http(s) on ports 80/443 and to a host name (not an IP), or do not redirect the challenge path at all"),
            );
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::{codes, report};
    use crate::diagnose::testdata::{addr, oc};
    use crate::probe::plan::{Attempt, Hop, KeyMatch};

    #[test]
    fn redirects() {
        let mut o = oc(Some(404), None, "nginx", KeyMatch::NotApplicable, 66);
        o.redirect_chain =
            vec!["308 http://shop.example.com/.well-known/acme-challenge/tok".into()];
        let mut a = addr("192.0.2.10", vec![o]);
        a.samples.push(Attempt {
            status: Some(404),
            responder: "nginx".into(),
            hops: vec![
                Hop {
                    url: "http://shop.example.com/x".into(),
                    ..Default::default()
                },
                Hop {
                    url: "https://shop.example.com/x".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        assert_eq!(
            codes(&report(vec![a]), CaProfile::Pebble),
            vec![Code::HttpsRedirectUnserved]
        );

        let mut o = oc(Some(200), None, "nginx", KeyMatch::Exact, 66);
        o.acme_pass = false;
        o.acme_error =
            "Invalid port in redirect target. Only ports 80 and 443 are supported, not 8443".into();
        o.redirect_chain = vec!["302 http://shop.example.com/x".into()];
        let r = report(vec![addr("192.0.2.10", vec![o])]);
        assert!(codes(&r, CaProfile::Letsencrypt).contains(&Code::BadRedirect));
        assert!(!codes(&r, CaProfile::Pebble).contains(&Code::BadRedirect));
    }
}
