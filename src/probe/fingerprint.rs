//! Who answered? Identify the responder from headers and body shape (failure-modes.md §3).
//!
//! Known data planes get a name (`nginx`, `envoy`, `acmesolver`, ...). Anything else gets a
//! stable signature `unknown-xxxxxx` derived from the `Server` value, the sorted header names and
//! the body's shape, so two different unknown backends are still told apart.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What the fingerprint looks at: status, lower-cased header names → values, the first bytes.
pub struct Response<'a> {
    pub status: u16,
    pub headers: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
    /// The body is exactly the expected key (then a Go-style server is the solver).
    pub is_key: bool,
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(String::as_str)
}

type Rule = fn(&Response, &str, &str) -> Option<&'static str>;

/// Rules in order; the first that matches names the responder. Arguments: the response, the
/// lower-cased `Server` header (or ""), the lower-cased body prefix.
const RULES: &[Rule] = &[
    |r, server, _| {
        (header(r, "cf-ray").is_some() || server == "cloudflare").then_some("cloudflare")
    },
    |_, server, _| server.starts_with("awselb").then_some("aws-alb"),
    |r, server, body| {
        (header(r, "via").is_some_and(|v| v.contains("google"))
            || body.contains("(backend notfound)")
            || server == "gfe")
            .then_some("gclb")
    },
    |_, server, _| {
        server
            .starts_with("microsoft-azure-application-gateway")
            .then_some("azure-appgw")
    },
    |_, server, _| (server == "istio-envoy").then_some("istio-envoy"),
    |r, server, body| {
        (server == "envoy"
            || r.headers.keys().any(|k| k.starts_with("x-envoy-"))
            || body.starts_with("no healthy upstream")
            || body.starts_with("upstream connect error"))
        .then_some("envoy")
    },
    |r, server, body| {
        (server.starts_with("kong")
            || r.headers.keys().any(|k| k.starts_with("x-kong-"))
            || body.contains("no route matched with those values"))
        .then_some("kong")
    },
    |_, server, body| {
        (server.starts_with("nginx") || body.contains("<center>nginx")).then_some("nginx")
    },
    |_, server, _| server.starts_with("apache").then_some("apache"),
    // Squid (a forward proxy, e.g. the controller's HTTP_PROXY): `Server: squid/<version>`, its
    // error pages carry `X-Squid-Error`, and what it relays a `Via: … (squid/<version>)`.
    |r, server, _| {
        (server.starts_with("squid")
            || header(r, "x-squid-error").is_some()
            || header(r, "via").is_some_and(|v| v.to_ascii_lowercase().contains("(squid")))
        .then_some("squid")
    },
    |_, server, _| server.starts_with("caddy").then_some("caddy"),
    |_, server, _| {
        ["micro_httpd", "cisco-ios", "lancom", "mini web server"]
            .iter()
            .any(|s| server.starts_with(s))
            .then_some("router-ui")
    },
    // HAProxy's built-in error pages: no Server header, `Cache-Control: no-cache`, fixed texts.
    |r, server, body| {
        (server.is_empty()
            && body.starts_with("<html><body><h1>")
            && (body.contains("no server is available to handle this request")
                || body.contains("request forbidden by administrative rules")
                || body.contains("the resource could not be found")
                || body.contains("the server returned an invalid or incomplete response")
                || body.contains("the server didn't respond in time")
                || r.status == 401 && body.contains("401 unauthorized")))
        .then_some("haproxy")
    },
    // Go's net/http: the acmesolver serves the key with `Cache-Control: no-cache, no-store,
    // must-revalidate` and 404s with `404 page not found`. Traefik's 404 is the same Go page, so
    // a Go 404 is reported as `go-404 (acmesolver or traefik)`.
    |r, server, _| {
        (server.is_empty()
            && r.status == 200
            && r.is_key
            && header(r, "cache-control").is_some_and(|c| c.contains("no-store")))
        .then_some("acmesolver")
    },
    |r, server, body| {
        (server.is_empty()
            && r.status == 404
            && body == "404 page not found\n"
            && header(r, "x-content-type-options") == Some("nosniff"))
        .then_some("go-404 (acmesolver or traefik)")
    },
];

/// Name the responder of one response.
pub fn identify(r: &Response) -> String {
    let server = header(r, "server")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let prefix = &r.body[..r.body.len().min(512)];
    let body = String::from_utf8_lossy(prefix).to_ascii_lowercase();
    if let Some(name) = RULES.iter().find_map(|rule| rule(r, &server, &body)) {
        return name.to_owned();
    }
    unknown_signature(r, &server)
}

/// A stable short signature for an unrecognised responder: the Server value, the sorted set of
/// header names (minus per-response ones) and the body's coarse shape.
fn unknown_signature(r: &Response, server: &str) -> String {
    const VOLATILE: &[&str] = &[
        "date",
        "content-length",
        "etag",
        "last-modified",
        "age",
        "expires",
        "set-cookie",
        "location",
        "x-request-id",
    ];
    let mut h = Sha256::new();
    h.update(server.as_bytes());
    for name in r.headers.keys().filter(|k| !VOLATILE.contains(&k.as_str())) {
        h.update(b"\0");
        h.update(name.as_bytes());
    }
    let shape = match (r.body.is_empty(), r.body.first()) {
        (true, _) => "empty",
        (_, Some(b'<')) => "html",
        (_, Some(b'{')) => "json",
        _ => "text",
    };
    h.update(shape.as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    if server.is_empty() {
        format!("unknown-{hex}")
    } else {
        format!("unknown-{hex} ({server})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(status: u16, headers: &[(&str, &str)], body: &str, is_key: bool) -> String {
        let headers: BTreeMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        identify(&Response {
            status,
            headers: &headers,
            body: body.as_bytes(),
            is_key,
        })
    }

    #[test]
    fn squid_is_named() {
        assert_eq!(
            id(403, &[("Server", "squid")], "Access denied", false),
            "squid"
        );
        assert_eq!(
            id(
                403,
                &[
                    ("Server", "squid/5.7"),
                    ("X-Squid-Error", "ERR_ACCESS_DENIED 0")
                ],
                "<html>…",
                false
            ),
            "squid"
        );
    }

    #[test]
    fn known_responders() {
        assert_eq!(
            id(
                404,
                &[("Server", "nginx")],
                "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>",
                false
            ),
            "nginx"
        );
        assert_eq!(
            id(
                404,
                &[("server", "envoy"), ("content-length", "0")],
                "",
                false
            ),
            "envoy"
        );
        assert_eq!(id(503, &[], "no healthy upstream", false), "envoy");
        assert_eq!(
            id(404, &[("server", "istio-envoy")], "", false),
            "istio-envoy"
        );
        assert_eq!(
            id(
                200,
                &[
                    ("Cache-Control", "no-cache, no-store, must-revalidate"),
                    ("Content-Type", "text/plain; charset=utf-8")
                ],
                "tok.thumb",
                true
            ),
            "acmesolver"
        );
        assert_eq!(
            id(
                404,
                &[
                    ("X-Content-Type-Options", "nosniff"),
                    ("Content-Type", "text/plain; charset=utf-8")
                ],
                "404 page not found\n",
                false
            ),
            "go-404 (acmesolver or traefik)"
        );
        assert_eq!(
            id(
                503,
                &[("Cache-Control", "no-cache")],
                "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>",
                false
            ),
            "haproxy"
        );
        assert_eq!(
            id(
                404,
                &[("Server", "kong/3.4.0")],
                "{\"message\":\"no Route matched with those values\"}",
                false
            ),
            "kong"
        );
        assert_eq!(
            id(502, &[("Server", "awselb/2.0")], "<html>", false),
            "aws-alb"
        );
        assert_eq!(
            id(
                404,
                &[("Via", "1.1 google")],
                "response 404 (backend NotFound), service rules for [ /x ] non-existent",
                false
            ),
            "gclb"
        );
        assert_eq!(
            id(
                403,
                &[("Server", "cloudflare"), ("CF-RAY", "8a1")],
                "<html>",
                false
            ),
            "cloudflare"
        );
        assert_eq!(
            id(200, &[("Server", "micro_httpd")], "<html>", false),
            "router-ui"
        );
    }

    #[test]
    fn unknown_backends_are_told_apart_and_stable() {
        let a1 = id(
            404,
            &[("X-Powered-By", "Express"), ("Date", "Mon")],
            "<html>Not found",
            false,
        );
        let a2 = id(
            404,
            &[("X-Powered-By", "Express"), ("Date", "Tue")],
            "<html>Other page",
            false,
        );
        let b = id(404, &[("X-Backend", "b")], "{\"err\":1}", false);
        assert!(a1.starts_with("unknown-"), "{a1}");
        assert_eq!(a1, a2, "same backend, different per-response headers");
        assert_ne!(a1, b);
        assert_eq!(
            id(200, &[("Server", "Foo/1")], "x", false)
                .split(' ')
                .nth(1),
            Some("(foo/1)")
        );
    }
}
