//! The answer to one request, a pure function of the request's parts and the served table:
//! cert-manager's `challengeHandler` (pkg/issuer/acme/http/solver/solver.go) generalised from
//! one (domain, token, key) to many, plus the few checks Go's `net/http` server makes before
//! any handler runs (conn.readRequest in net/http/server.go) that hyper does not make.

use super::Served;
use super::gosem;
use super::klog::Value;

/// cert-manager's `HTTPChallengePath`.
pub const CHALLENGE_PATH: &str = "/.well-known/acme-challenge";
const NO_CACHE: &str = "no-cache, no-store, must-revalidate";
const TEXT: &str = "text/plain; charset=utf-8";

/// What the handler needs of a request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The method, as sent.
    pub method: String,
    /// HTTP/1.1 or later (Go requires a Host header then).
    pub http11: bool,
    /// The request-target's path as received (no query), e.g. `//.well-known/x/../tok`.
    pub raw_path: String,
    /// The host of an absolute-form request-target (`GET http://host/path`), which Go's
    /// `readRequest` prefers to the Host header.
    pub target_host: Option<String>,
    /// Every Host header value, in order.
    pub hosts: Vec<Vec<u8>>,
    /// The other headers, `(canonical name, values)` sorted by name, as Go's `r.Header`.
    pub headers: Vec<(String, Vec<String>)>,
}

/// One log line to write: the call site, the message, the fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    pub source: String,
    pub msg: &'static str,
    pub fields: Vec<(&'static str, Value)>,
}

/// The response and what to log.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// Close the connection after this response (Go's server-side 400s do).
    pub close: bool,
    pub logs: Vec<Log>,
}

macro_rules! here {
    () => {
        format!("handler.rs:{}", line!())
    };
}

/// Go's server answering a request it will not hand to a handler:
/// `HTTP/1.1 400 Bad Request[: why]`, the same text as body, `Connection: close`.
fn bad_request(why: Option<&str>) -> Answer {
    let body = match why {
        Some(w) => format!("400 Bad Request: {w}"),
        None => "400 Bad Request".to_owned(),
    };
    Answer {
        status: 400,
        headers: vec![("content-type", TEXT.into())],
        body,
        close: true,
        logs: Vec::new(),
    }
}

/// `http.NotFound`.
fn not_found(logs: Vec<Log>) -> Answer {
    Answer {
        status: 404,
        headers: vec![
            ("content-type", TEXT.into()),
            ("x-content-type-options", "nosniff".into()),
        ],
        body: "404 page not found\n".into(),
        close: false,
        logs,
    }
}

fn ok(body: &str, logs: Vec<Log>) -> Answer {
    let mut headers = vec![("cache-control", NO_CACHE.to_owned())];
    // Go sniffs a body the handler wrote without a Content-Type; an empty one gets none.
    if !body.is_empty() {
        headers.push(("content-type", gosem::sniff_ascii(body.as_bytes()).into()));
    }
    Answer {
        status: 200,
        headers,
        body: body.to_owned(),
        close: false,
        logs,
    }
}

/// Answer one request.
pub fn answer(served: &Served, req: &Request) -> Answer {
    // conn.readRequest: a Host header is required from HTTP/1.1 on; a single one must be
    // made of host bytes. (With several, Go takes the first.)
    if req.http11 && req.hosts.is_empty() {
        return bad_request(Some("missing required Host header"));
    }
    if let [only] = req.hosts.as_slice()
        && !gosem::valid_host_header(only)
    {
        return bad_request(Some("malformed Host header"));
    }
    // serverHandler.ServeHTTP: "OPTIONS *" goes to globalOptionsHandler, not the handler.
    if req.method == "OPTIONS" && req.raw_path == "*" {
        return Answer {
            status: 200,
            headers: Vec::new(),
            body: String::new(),
            close: false,
            logs: Vec::new(),
        };
    }
    // url.ParseRequestURI fails on a bad %-escape: a plain 400.
    let Ok(escaped) = gosem::escaped_path(&req.raw_path) else {
        return bad_request(None);
    };
    let host_value = match &req.target_host {
        Some(h) if !h.is_empty() => h.clone(),
        _ => req
            .hosts
            .first()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .unwrap_or_default(),
    };
    let host = gosem::parse_host(&host_value).to_owned();
    let base_path = gosem::dir(&escaped);
    let token = gosem::base(&escaped);
    let fields = vec![
        ("host", Value::Str(host.clone())),
        ("path", Value::Str(escaped.clone())),
        ("base_path", Value::Str(base_path.clone())),
        ("token", Value::Str(token.clone())),
        ("headers", Value::Headers(req.headers.clone())),
    ];
    let log = |source: String, msg: &'static str, extra: Option<(&'static str, Value)>| {
        let mut fields = fields.clone();
        fields.extend(extra);
        Log {
            source,
            msg,
            fields,
        }
    };
    if escaped == "/" || escaped == "/healthz" {
        return ok(
            "",
            vec![log(here!(), "responding OK to health check", None)],
        );
    }
    let mut logs = vec![log(here!(), "validating request", None)];
    if base_path != CHALLENGE_PATH {
        let expected = ("expected_base_path", Value::Str(CHALLENGE_PATH.into()));
        logs.push(log(here!(), "invalid base_path", Some(expected)));
        return not_found(logs);
    }
    // Several domains: no single expected_host (nor expected_token) to log.
    let Some(tokens) = served.domains.get(&host) else {
        logs.push(log(here!(), "invalid host", None));
        return not_found(logs);
    };
    let Some(key) = tokens.get(&token) else {
        logs.push(log(here!(), "invalid token", None));
        return not_found(logs);
    };
    logs.push(log(
        here!(),
        "got successful challenge request, writing key",
        None,
    ));
    ok(key, logs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Served {
        Served::parse(&[
            "a.example/tokA1/tokA1.th".into(),
            "a.example/tokA2/tokA2.th".into(),
            "b.example/BMtok/BMtok.th".into(),
        ])
        .unwrap()
    }

    fn get(host: &str, path: &str) -> Answer {
        answer(
            &served(),
            &Request {
                http11: true,
                raw_path: path.into(),
                hosts: vec![host.as_bytes().to_vec()],
                headers: vec![("User-Agent".into(), vec!["t".into()])],
                ..Default::default()
            },
        )
    }

    fn msgs(a: &Answer) -> Vec<&str> {
        a.logs.iter().map(|l| l.msg).collect()
    }

    #[test]
    fn each_domain_serves_its_own_tokens() {
        let a = get("a.example", "/.well-known/acme-challenge/tokA2");
        assert_eq!((a.status, a.body.as_str()), (200, "tokA2.th"));
        assert_eq!(
            a.headers,
            [
                ("cache-control", NO_CACHE.to_owned()),
                ("content-type", TEXT.to_owned())
            ]
        );
        assert_eq!(
            msgs(&a),
            [
                "validating request",
                "got successful challenge request, writing key"
            ]
        );
        // Another domain's token is not this domain's.
        let a = get("a.example:80", "/.well-known/acme-challenge/BMtok");
        assert_eq!((a.status, msgs(&a)[1]), (404, "invalid token"));
        assert_eq!(a.body, "404 page not found\n");
        // Go sniffs "BM" as a bitmap.
        let a = get("[b.example]", "/.well-known/acme-challenge/BMtok");
        assert_eq!(a.headers[1], ("content-type", "image/bmp".to_owned()));
    }

    #[test]
    fn hosts_compare_exactly() {
        for host in ["A.example", "c.example", "a.example.", "", "[::1]:80"] {
            let a = get(host, "/.well-known/acme-challenge/tokA1");
            assert_eq!(a.status, 404, "{host}");
            assert_eq!(msgs(&a)[1], "invalid host", "{host}");
            // No expected_host: there are several.
            assert!(a.logs[1].fields.iter().all(|(k, _)| *k != "expected_host"));
        }
    }

    #[test]
    fn paths_as_go_sees_them() {
        for (path, status) in [
            ("//.well-known/acme-challenge/tokA1", 200),
            ("/.well-known/acme-challenge/tokA1/", 404),
            ("/.well-known/./acme-challenge/tokA1", 200),
            ("/x/../.well-known/acme-challenge/tokA1", 200),
            ("/.well-known/acme-challenge/x/../tokA1", 200),
            ("/.well-known/acme-challenge/tokA1/..", 404),
            ("/.well-known/acme-challenge/%2e%2e/tokA1", 404),
            ("/.well-known/acme-challenge/tok%411", 404),
            ("/.well-known/acme-challenge", 404),
            ("/tokA1", 404),
        ] {
            assert_eq!(get("a.example", path).status, status, "{path}");
        }
        let a = get("anything", "/healthz");
        assert_eq!((a.status, a.body.as_str()), (200, ""));
        assert_eq!(a.headers, [("cache-control", NO_CACHE.to_owned())]);
        assert_eq!(msgs(&a), ["responding OK to health check"]);
        assert_eq!(get("x", "/healthz/").status, 404);
        let a = get("a.example", "/tok");
        assert_eq!(msgs(&a), ["validating request", "invalid base_path"]);
    }

    #[test]
    fn what_go_refuses_before_the_handler() {
        assert_eq!(get("a.example", "/%zz").body, "400 Bad Request");
        let a = get("a example", "/");
        assert_eq!(
            (a.status, a.body.as_str(), a.close),
            (400, "400 Bad Request: malformed Host header", true)
        );
        assert!(a.logs.is_empty());
        let none = Request {
            http11: true,
            raw_path: "/".into(),
            ..Default::default()
        };
        assert_eq!(
            answer(&served(), &none).body,
            "400 Bad Request: missing required Host header"
        );
        let http10 = Request {
            http11: false,
            ..none
        };
        assert_eq!(answer(&served(), &http10).status, 200);
        // An absolute-form target's host wins over the Host header.
        let abs = Request {
            http11: true,
            raw_path: "/.well-known/acme-challenge/tokA1".into(),
            target_host: Some("a.example".into()),
            hosts: vec![b"other".to_vec()],
            ..Default::default()
        };
        assert_eq!(answer(&served(), &abs).status, 200);
        // "OPTIONS *" is Go's server's own; any other method on "*" reaches the handler.
        let star = |method: &str| Request {
            method: method.into(),
            http11: true,
            raw_path: "*".into(),
            hosts: vec![b"a.example".to_vec()],
            ..Default::default()
        };
        let a = answer(&served(), &star("OPTIONS"));
        assert_eq!((a.status, a.body.as_str(), a.logs.len()), (200, "", 0));
        assert_eq!(
            msgs(&answer(&served(), &star("GET")))[1],
            "invalid base_path"
        );
    }
}
