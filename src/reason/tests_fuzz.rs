//! Robustness: arbitrary text never panics, and the case of the lead-ins does not matter.

use super::tests::challenge_with;
use super::*;

/// xorshift64*: a deterministic generator (no crate needed for this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// Lead-ins (whose case the test varies) and the data after them (whose case it keeps).
const LEADS: [(&str, &str); 14] = [
    ("Waiting for HTTP-01 challenge propagation: ", ""),
    ("Waiting for http-01 challenge propagation:", ""),
    (
        "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request ",
        "'http://a.example/x': ",
    ),
    (
        "failed to perform self check GET request ",
        "'http://a.example/x': ",
    ),
    (
        "could not reach ",
        "'http://a.example/x': failed to GET 'http://a.example/x': ",
    ),
    (
        "did not get expected response when querying endpoint, expected ",
        "\"k.t\" but got: ",
    ),
    (
        "did not get expected response ",
        "\"k.t\" when querying endpoint",
    ),
    ("presented key (", ""),
    ("wrong status code '", ""),
    ("failed to read response body: ", ""),
    ("Error presenting challenge: ", ""),
    (
        "Error accepting authorization: ",
        "acme: authorization error for a.example: ",
    ),
    ("propagation check failed: ", ""),
    ("Failed to retrieve Order resource: ", ""),
];

const PIECES: [&str; 30] = [
    "Get \"http://a.example/x\": ",
    "Get http://a.example/x: ",
    "Get \"https://a.example:8443/y\": ",
    "dial tcp 203.0.113.10:80: ",
    "dial tcp [2001:db8::1]:80: ",
    "dial tcp: lookup a.example on 10.96.0.10:53: ",
    "read udp 10.0.0.1:5->192.0.2.53:53: ",
    "read tcp 10.0.0.1:5->203.0.113.10:80: ",
    "proxyconnect tcp: ",
    "connect: connection refused",
    "connect: connection timed out",
    "i/o timeout",
    "no such host",
    "server misbehaving",
    "EOF",
    "(Client.Timeout exceeded while awaiting headers)",
    "http: server gave HTTP response to HTTPS client",
    "stopped after 10 redirects",
    "404', expected '200'",
    ") did not match expected (k.t)",
    "... (truncated)",
    "403 urn:ietf:params:acme:error:unauthorized: ",
    "429 : ",
    "pods \"cm-acme-http-solver-x\" is forbidden: ",
    "admission webhook \"w\" denied the request: ",
    "exceeded quota",
    "During secondary validation: ",
    "\"",
    "'",
    ": ",
];

const NOISE: [&str; 12] = [
    " ", "\n", "\t", "\r\n", "é", "ß", "\u{fffd}", "日本", "🦀", "\\", "[", "",
];

fn generate(rng: &mut Rng) -> (String, String) {
    let (lead, data) = LEADS[rng.below(LEADS.len())];
    let lead = lead.to_owned();
    let mut rest = data.to_owned();
    for _ in 0..rng.below(8) {
        match rng.below(3) {
            0 => rest.push_str(rng.pick(&PIECES)),
            1 => rest.push_str(rng.pick(&NOISE)),
            _ => {
                let n = rng.below(12);
                for _ in 0..n {
                    // Any scalar value, ASCII more often.
                    let c = if rng.below(4) == 0 {
                        char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('?')
                    } else {
                        (b' ' + rng.below(95) as u8) as char
                    };
                    rest.push(c);
                }
            }
        }
    }
    (lead, rest)
}

/// The parse without its free-text fields (which keep the text as written, case included).
fn signature(r: &Option<Reason>) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    if let Some(m) = v.as_object_mut() {
        m.remove("detail");
        m.remove("text");
    }
    v
}

fn recase(s: &str, rng: &mut Rng) -> String {
    s.chars()
        .map(|c| match rng.below(3) {
            0 => c.to_ascii_uppercase(),
            1 => c.to_ascii_lowercase(),
            _ => c,
        })
        .collect()
}

#[test]
fn parse_never_panics_and_ignores_the_case_of_lead_ins() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..4000 {
        let (lead, rest) = generate(&mut rng);
        let text = format!("{lead}{rest}");
        let r = parse(&text);
        // Everything derived from a parse is total too.
        if let Some(r) = &r {
            let _ = (
                r.short(),
                observation(r),
                r.present_failure(),
                r.is_rate_limited(),
            );
        }
        for flags in [
            ("pending", false, true),
            ("invalid", false, false),
            ("", true, true),
        ] {
            let ch = challenge_with(&text, flags);
            let _ = (of_challenge(&ch), phase(&ch));
        }
        let upper = format!("{}{rest}", lead.to_ascii_uppercase());
        let lower = format!("{}{rest}", lead.to_ascii_lowercase());
        let mixed = format!("{}{rest}", recase(&lead, &mut rng));
        for other in [upper, lower, mixed] {
            assert_eq!(
                signature(&r),
                signature(&parse(&other)),
                "case {i}: {text:?} vs {other:?}"
            );
        }
    }
}

#[test]
fn parse_never_panics_on_arbitrary_bytes() {
    let mut rng = Rng(42);
    for _ in 0..4000 {
        let n = rng.below(200);
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        if let Some(r) = parse(&text) {
            let _ = (r.short(), observation(&r), r.present_failure());
        }
    }
}
