//! What in a finding's `fix` text is a command, so that the table never breaks one.
//!
//! Rules write a fix as one sentence that mixes prose and commands (`… from a pod in the
//! cluster: curl -sv http://…/<token>`). The table wraps prose at spaces, but a command, a JSON
//! patch, a URL or a key broken across lines cannot be copied and pasted; so the table prints
//! each command on a line of its own, unwrapped (even when that line is longer than the
//! terminal). This module finds them, by one convention that the fixes in `src/diagnose`
//! already follow:
//!
//! * **A command starts with a program name** — one of [`PROGRAMS`] at the start of a clause
//!   (after a space or `(`) — and runs to the end of its clause: the first `;`, `, `, ` (`,
//!   `. `, ` — `, an unmatched `)`, or a linking word ([`STOP_WORDS`]: ` to `, ` and `,
//!   ` or `, …), whichever comes first outside quotes. It must have at least one argument that
//!   looks like one (a `-flag`, a path, a name with a dot, `key=value`, a quoted string…), so
//!   "curl it from outside" stays prose.
//! * **Text in backticks** is code: a command when it starts with a program name (`` `kubectl
//!   -n x get svc y -o yaml` ``), else a unit that the wrapping never splits (an annotation
//!   `` `key: value` ``, an HAProxy line).
//! * **A line of the fix that starts with white space** (after the first) is preformatted (a
//!   YAML snippet) and printed as it is.
//!
//! Everything else is prose, and no word of it is ever broken either: a word longer than the
//! line goes on a line of its own.

/// Programs whose name starts a command in a fix.
pub const PROGRAMS: &[&str] = &[
    "kubectl", "cmctl", "curl", "dig", "helm", "openssl", "nslookup", "wget",
];

/// Linking words that end a command that is not quoted: `kubectl describe x -n y and the logs`.
pub const STOP_WORDS: &[&str] = &[
    "to", "from", "and", "or", "then", "if", "when", "which", "so", "shows",
];

/// A piece of a fix, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Prose, wrapped at spaces (never inside a word or a backtick span).
    Prose(String),
    /// A command: printed on a line of its own, exactly as here.
    Command(String),
    /// A preformatted line (its own leading spaces kept).
    Block(String),
    /// A line break in the fix's text.
    Break,
}

/// The fix split into prose, commands and preformatted lines.
pub fn parts(fix: &str) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, line) in fix.split('\n').enumerate() {
        if i > 0 {
            out.push(Part::Break);
            if line.starts_with([' ', '\t']) {
                out.push(Part::Block(line.trim_end().to_owned()));
                continue;
            }
        }
        prose_line(line, &mut out);
    }
    out
}

/// The commands of a fix, as the table prints them (one per line).
pub fn commands(fix: &str) -> Vec<String> {
    parts(fix)
        .into_iter()
        .filter_map(|p| match p {
            Part::Command(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn prose_line(line: &str, out: &mut Vec<Part>) {
    let mut prose_from = 0;
    let mut at = 0;
    let push_prose = |out: &mut Vec<Part>, s: &str| {
        if !s.is_empty() {
            out.push(Part::Prose(s.to_owned()));
        }
    };
    while at < line.len() {
        let rest = &line[at..];
        if rest.starts_with('`')
            && let Some(len) = rest[1..].find('`')
        {
            let inner = &rest[1..1 + len];
            if starts_with_program(inner) {
                push_prose(out, &line[prose_from..at]);
                out.push(Part::Command(inner.trim().to_owned()));
                prose_from = at + len + 2;
            }
            at += len + 2;
            continue;
        }
        let boundary = at == 0 || line[..at].ends_with([' ', '(']);
        if boundary && starts_with_program(rest) {
            let end = at + clause_end(rest);
            let cmd = line[at..end].trim_end();
            if has_argument(cmd) {
                push_prose(out, &line[prose_from..at]);
                out.push(Part::Command(cmd.to_owned()));
                prose_from = end;
                at = end;
                continue;
            }
        }
        at += rest.chars().next().map_or(1, char::len_utf8);
    }
    push_prose(out, &line[prose_from..]);
}

/// `kubectl -n …`: a program name followed by a space.
fn starts_with_program(s: &str) -> bool {
    PROGRAMS.iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|rest| rest.starts_with(' ') && rest.len() > 1)
    })
}

/// What only a command has: an argument with a flag, a path, a dotted name, `key=value`, a
/// quote or a placeholder in it (`curl it` has none), or a kubectl verb and its object.
fn has_argument(cmd: &str) -> bool {
    let mut words = cmd.split(' ');
    let program = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    let verb = program == "kubectl" && args.len() >= 2 && KUBECTL_VERBS.contains(&args[0]);
    verb || args
        .iter()
        .any(|w| w.starts_with('+') || w.contains(['-', '/', '.', '=', ':', '\'', '"', '<']))
}

/// `kubectl <verb> <object>` is a command even without flags.
const KUBECTL_VERBS: &[&str] = &[
    "get", "describe", "delete", "edit", "patch", "logs", "annotate", "label", "rollout", "apply",
    "run", "expose", "set", "exec", "create",
];

/// Where the command at the start of `s` ends (byte offset): the end of its clause outside
/// quotes and brackets.
fn clause_end(s: &str) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let next = iter.peek().map(|&(_, n)| n);
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            // A quote opens only when it closes somewhere (an apostrophe in prose does not).
            '\'' | '"' if s[i + 1..].contains(c) => quote = Some(c),
            '(' | '[' | '{' if i > 0 && !s[..i].ends_with(' ') => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ')' | ';' | '`' => return i,
            ',' | '.' if next.is_none_or(|n| n == ' ') => return i,
            ' ' if depth == 0 => {
                let after = &s[i + 1..];
                if after.starts_with('(') || after.starts_with("— ") {
                    return i;
                }
                let word = after.split(' ').next().unwrap_or("");
                if STOP_WORDS.contains(&word) && after.len() > word.len() {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Part::*;

    fn p(s: &str) -> Part {
        Prose(s.to_owned())
    }
    fn c(s: &str) -> Part {
        Command(s.to_owned())
    }

    #[test]
    fn a_command_runs_to_the_end_of_its_clause() {
        let url = "http://shop.example.test/.well-known/acme-challenge/GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk";
        assert_eq!(
            parts(&format!(
                "the probe findings show why; to see it by hand, from a pod in the cluster: curl -sv {url}"
            )),
            [
                p("the probe findings show why; to see it by hand, from a pod in the cluster: "),
                c(&format!("curl -sv {url}"))
            ]
        );
        assert_eq!(
            parts(
                "fix the cause, then retry now: cmctl renew web -n shop (or kubectl cert-manager renew)"
            ),
            [
                p("fix the cause, then retry now: "),
                c("cmctl renew web -n shop"),
                p(" (or "),
                c("kubectl cert-manager renew"),
                p(")")
            ]
        );
        assert_eq!(
            commands(
                "check DNSSEC: dig +trace a.test A; dig +dnssec a.test AAAA; dig a.test CAA — fix or remove"
            ),
            [
                "dig +trace a.test A",
                "dig +dnssec a.test AAAA",
                "dig a.test CAA"
            ]
        );
        assert_eq!(
            commands(
                "kubectl describe gateway public -n infra and the logs of its implementation's pods"
            ),
            ["kubectl describe gateway public -n infra"]
        );
        assert_eq!(
            commands(
                "kubectl logs deploy/x -n y --all-containers | grep -iE 'error|reload' (an unrelated bad object), fix it, then kubectl rollout restart deployment x -n y"
            ),
            [
                "kubectl logs deploy/x -n y --all-containers | grep -iE 'error|reload'",
                "kubectl rollout restart deployment x -n y"
            ]
        );
    }

    /// Quotes and brackets hold what would end a clause: a JSON patch, a jsonpath, a grep
    /// pattern, a NO_PROXY list.
    #[test]
    fn quotes_and_brackets_keep_a_command_whole() {
        let patch = r#"kubectl -n cert-manager patch deployment cert-manager --type json -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--acme-http01-solver-nameservers=1.1.1.1:53,8.8.8.8:53"}]'"#;
        assert_eq!(
            commands(&format!(
                "let the self check resolve with public resolvers (only the self check, not other lookups): {patch} (Helm: extraArgs); or DNS-01"
            )),
            [patch]
        );
        let jsonpath = "kubectl -n ingress-nginx get svc ingress-nginx-controller -o jsonpath='{.status.loadBalancer.ingress}'";
        assert_eq!(
            commands(&format!("point it at x (see {jsonpath}); or y")),
            [jsonpath]
        );
        let events = "kubectl get events -n shop --sort-by=.lastTimestamp | grep -E 'cm-acme-http-solver|web'";
        assert_eq!(
            commands(&format!(
                "compare the times: {events}; if the solver went away"
            )),
            [events]
        );
        let env = "kubectl -n cert-manager set env deployment/cert-manager NO_PROXY=.cluster.local,.svc,198.51.100.0/24,127.0.0.1,shop.example.test";
        assert_eq!(
            commands(&format!(
                "exclude the name from the proxy for the self check: {env} (and no_proxy if set; Helm: the chart's no_proxy value)"
            )),
            [env]
        );
        // `(` inside a word is a bracket, not the start of a remark.
        assert_eq!(
            commands(
                "run kubectl get pods -o custom-columns=N:.metadata.name,S:.status.phase(x) now"
            ),
            ["kubectl get pods -o custom-columns=N:.metadata.name,S:.status.phase(x) now"]
        );
    }

    /// CA_REJECTED's stand-in: `--` inside a command is an argument, not a dash of prose; a
    /// key with `_` and `-` in it stays in its command.
    #[test]
    fn a_stand_in_by_hand_is_two_commands() {
        let run = "kubectl -n shop run acme-standin --image=quay.io/jetstack/cert-manager-acmesolver:v1.19.1 -- --listen-port=8089 --domain=shop.example.com --token=GyBCgvtZQEY1 --key=GyBCgvtZQEY1.9jg46WB3rR_AHD-EBXk";
        let expose = "kubectl -n shop expose pod acme-standin --port=8089";
        let fix = format!(
            "to reproduce it before then, stand in for the solver by hand: {run}; {expose}; route http://shop.example.com/.well-known/acme-challenge/GyBCgvtZQEY1 to that Service through the solver's Ingress class or Gateway; curl it from outside the cluster; then delete both"
        );
        assert_eq!(commands(&fix), [run, expose]);
        assert_eq!(
            commands("then compare by hand: curl -sv http://a.test/x from outside and from a pod"),
            ["curl -sv http://a.test/x"]
        );
        assert_eq!(
            commands(
                "every 10 s: kubectl -n cert-manager get challenge web-1 -w; if its reason stays"
            ),
            ["kubectl -n cert-manager get challenge web-1 -w"]
        );
    }

    #[test]
    fn backticks_mark_code() {
        let cmd = "kubectl -n kube-system get cm kube-proxy -o yaml";
        assert_eq!(
            parts(&format!("check `{cmd}`: ipvs needs `masqueradeAll: true`")),
            [p("check "), c(cmd), p(": ipvs needs `masqueradeAll: true`")]
        );
        // Not a command: stays in the prose, as one unit for the wrapping.
        assert_eq!(
            commands(
                "HAProxy: `acl acme path_beg /.well-known/acme-challenge/` + `use_backend <nginx backend> if acme`"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn prose_that_names_a_program_stays_prose() {
        assert_eq!(
            commands("use kubectl describe certificaterequest to see this issuer's own errors"),
            ["kubectl describe certificaterequest"]
        );
        for text in [
            "curl it from outside the cluster; then delete both",
            "a sequential curl loop",
            "the kubectl plugin",
        ] {
            assert_eq!(commands(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn indented_lines_are_preformatted() {
        let fix = "add a DNS-01 solver to the clusterissuer x:\n  solvers:\n  - selector: {dnsNames: [\"a\"]}\nfor split-horizon zones also set --dns01-recursive-nameservers-only";
        assert_eq!(
            parts(fix),
            [
                p("add a DNS-01 solver to the clusterissuer x:"),
                Break,
                Block("  solvers:".into()),
                Break,
                Block("  - selector: {dnsNames: [\"a\"]}".into()),
                Break,
                p("for split-horizon zones also set --dns01-recursive-nameservers-only"),
            ]
        );
    }
}
