//! What a self-check reason proves about the controller's own view (issue #14: cert-manager's
//! reason is a witness). Pure: a [`Reason`] in, the facts it establishes out, each resting on an
//! upstream line named in [`Observation::basis`]. When the reason was written is not known here;
//! the gather stage supplies that.

use super::goerr::{self, Failure};
use super::selfcheck::request_parts;
use super::{MismatchWording, Reason};
use serde::{Deserialize, Serialize};

/// A fact the text proves (`yes`), disproves (`no`) or leaves open (`unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Known {
    Yes,
    No,
    Unknown,
}

/// What the controller's last self check saw of the challenge URL (`http://<name>/…`, port 80).
/// `resolved`, `connected` and `answered` are about that first request; when it was answered
/// with a redirect and a later hop failed, `redirected_to` names that hop and `failure` its error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// The controller's resolver returned an address for the name.
    pub resolved: Known,
    /// A TCP connection from the controller was established.
    pub connected: Known,
    /// An HTTP response came back (any status, or a redirect).
    pub answered: Known,
    /// The final HTTP status, when one came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What failed, in Go's terms (None when the check got a status or a body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// What the body shows, for a 200 with the wrong body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySeen>,
    /// The remote address of the failing connection as Go printed it (`203.0.113.10:80`): for a
    /// dial error the first address tried, all having failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The local address of that connection (`10.40.0.16:39910`): the controller pod's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The DNS server a failed lookup went to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    /// The request that failed after the challenge URL answered with a redirect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_to: Option<String>,
    /// The failing connection was to the controller's HTTP proxy (`proxyconnect`): the facts
    /// about the challenge host are then unknown (the proxy resolves and connects).
    pub via_proxy: bool,
    /// The upstream code each fact rests on.
    pub basis: Vec<&'static str>,
}

/// A body that was not the key, as the reason shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodySeen {
    pub shape: BodyShape,
    /// The body as printed (≤ 24 bytes, whitespace-trimmed when it was longer).
    pub text: String,
    /// The body was longer than what is printed.
    pub truncated: bool,
}

/// What kind of body answered instead of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BodyShape {
    /// Empty, or whitespace only.
    Empty,
    /// It begins with this challenge's key authorization (or with its token, when cut): the
    /// right file, with something after or instead of the thumbprint (a trailing newline, …).
    StartsWithKey,
    /// Another `<token>.<thumbprint>`: a different challenge's solver (or a stale one) answered.
    OtherKeyAuthorization,
    /// An HTML page (a default backend, an application, a login page).
    Html,
    /// Other text.
    Text,
}

const HTTP_GO_STATUS: &str = "cert-manager http.go testReachability: `wrong status code` is returned only after client.Do returned a response (so the name resolved and a connection answered; after redirects the status is the last hop's)";
const HTTP_GO_BODY: &str = "cert-manager http.go testReachability: the body is read and compared only after the status was exactly 200";
const GO_DNS: &str = "Go net/net.go DNSError and net/dnsclient_unix.go checkHeader: `lookup <name>` errors are the resolver's (no such host = NXDOMAIN or no A/AAAA; server misbehaving = SERVFAIL, REFUSED or another rcode)";
const GO_DIAL: &str = "Go net/dial.go dialSerial/dialParallel: a `dial` error means no address connected; the address printed is the first one tried";
const GO_READ: &str = "Go net/net.go OpError: a `read`/`write` error, EOF or a read timeout happens on an established connection";
const GO_TIMEOUT: &str = "Go net/http client.go Client.do adds `(Client.Timeout exceeded while awaiting headers)` at any stage and transport.go getConn returns the context error while still dialing: where it stalled is not known";
const GO_REDIRECT: &str = "Go net/http client.go Client.do: url.Error names the request that failed; cert-manager asks http://<name>/… (http.go buildChallengeUrl), so another URL there is a redirect target";
const GO_PROXY: &str = "Go net/http transport.go dialConn: `proxyconnect` wraps the error of the connection to the HTTP proxy";

/// What the reason proves about the controller's self check; None for texts that are not a
/// self-check result (Present errors, CA problems, unknown texts).
pub fn observation(r: &Reason) -> Option<Observation> {
    let mut o = Observation {
        resolved: Known::Unknown,
        connected: Known::Unknown,
        answered: Known::Unknown,
        status: None,
        failure: None,
        body: None,
        address: None,
        source: None,
        resolver: None,
        redirected_to: None,
        via_proxy: false,
        basis: Vec::new(),
    };
    match r {
        Reason::WrongStatus { status } => {
            o.answered_with(Some(*status), HTTP_GO_STATUS);
        }
        Reason::BodyMismatch {
            wording,
            got,
            expected,
            truncated,
        } => {
            o.answered_with(Some(200), HTTP_GO_BODY);
            o.body = match (wording, got) {
                (MismatchWording::Current, _) | (_, None) => None,
                (_, Some(g)) => Some(BodySeen {
                    shape: shape(g, expected.as_deref(), *truncated),
                    text: g.clone(),
                    truncated: *truncated,
                }),
            };
        }
        Reason::BodyReadFailed { detail, .. } => {
            o.answered_with(Some(200), HTTP_GO_BODY);
            o.failure = Some(goerr::analyse(detail).failure);
        }
        Reason::ConnectionFailed { detail, url, .. } => connection(&mut o, detail, url.as_deref()),
        _ => return None,
    }
    Some(o)
}

impl Observation {
    fn answered_with(&mut self, status: Option<u16>, basis: &'static str) {
        self.resolved = Known::Yes;
        self.connected = Known::Yes;
        self.answered = Known::Yes;
        self.status = status;
        self.basis.push(basis);
    }
}

fn connection(o: &mut Observation, detail: &str, url: Option<&str>) {
    let (checked, _, cause) = request_parts(detail).unwrap_or((None, None, detail));
    let go = goerr::analyse(cause);
    let f = go.failure;
    o.failure = Some(f);
    o.address = go.address.clone();
    o.source = go.source.clone();
    o.resolver = go.resolver.clone();
    o.via_proxy = go.via_proxy;
    let (resolved, connected) = if go.via_proxy {
        o.basis.push(GO_PROXY);
        (Known::Unknown, Known::Unknown)
    } else if f.is_dns() {
        o.basis.push(GO_DNS);
        (Known::No, Known::No)
    } else if f.is_connect() || go.op.as_deref() == Some("dial") && f == Failure::Reset {
        o.basis.push(GO_DIAL);
        (Known::Yes, Known::No)
    } else if matches!(
        f,
        Failure::Reset | Failure::Eof | Failure::ReadTimeout | Failure::NotHttp
    ) {
        o.basis.push(GO_READ);
        (Known::Yes, Known::Yes)
    } else {
        if f == Failure::ResponseTimeout {
            o.basis.push(GO_TIMEOUT);
        }
        (Known::Unknown, Known::Unknown)
    };
    o.resolved = resolved;
    o.connected = connected;
    o.answered = Known::No;
    if let Some(u) = url
        && redirected(checked.as_deref(), u)
    {
        o.redirected_to = Some(u.to_owned());
        o.answered = Known::Yes;
        if !go.via_proxy {
            o.resolved = Known::Yes;
            o.connected = Known::Yes;
        }
        o.basis.push(GO_REDIRECT);
    }
}

/// `url` is a redirect target: https (the challenge URL is always http), or a well-formed URL
/// other than the checked one. A URL a reporter mangled (`http:/host`) proves nothing.
fn redirected(checked: Option<&str>, url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    let well_formed = |u: &str| {
        u.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty() && !rest.is_empty() && !rest.starts_with('/')
        })
    };
    matches!(checked, Some(c) if well_formed(c) && well_formed(url) && c != url)
}

fn shape(got: &str, expected: Option<&str>, truncated: bool) -> BodyShape {
    if got.trim().is_empty() {
        return BodyShape::Empty;
    }
    if let Some(e) = expected.filter(|e| !e.is_empty())
        && (got.starts_with(e) || truncated && e.starts_with(got))
    {
        return BodyShape::StartsWithKey;
    }
    let b64 = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    let key_like = match got.split_once('.') {
        Some((tok, thumb)) => {
            tok.len() >= 20 && b64(tok) && (b64(thumb) || truncated && thumb.is_empty())
        }
        None => truncated && got.len() >= 20 && b64(got),
    };
    if key_like {
        return BodyShape::OtherKeyAuthorization;
    }
    if got
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        return BodyShape::Html;
    }
    BodyShape::Text
}
