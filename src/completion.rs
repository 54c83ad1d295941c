//! Shell completion, two ways:
//!
//! * `kubectl acmecheck completion bash|zsh|fish` prints a static script (clap_complete) that
//!   completes subcommands, flags and fixed flag values for the `kubectl-acmecheck` command.
//! * kubectl ≥ 1.26 completes `kubectl acmecheck …` itself by running an executable named
//!   `kubectl_complete-acmecheck` from PATH with the words typed after `acmecheck` plus the word
//!   being completed (empty for a new word). It prints one candidate per line (`value<TAB>help`
//!   allowed) and a last line `:<directive>` (a Cobra `ShellCompDirective`). The helper is a
//!   one-line shim, [`SHIM`], that runs the hidden `__complete` subcommand here, which completes
//!   flags, flag values, namespaces, kubeconfig contexts and Certificate names from the cluster.
//!   `kubectl acmecheck completion kubectl` prints the shim.
//!
//! Completion never fails loudly: any error (no kubeconfig, cluster unreachable, forbidden,
//! timeout) gives fewer candidates, never an error message among them or on stderr.

use crate::cli::{Cli, KubeFlags, parse_duration};
use clap::{Arg, ArgAction, Args, CommandFactory, ValueEnum, ValueHint};
use std::io::Write;
use std::time::Duration;

/// The `kubectl_complete-acmecheck` helper kubectl ≥ 1.26 runs to complete `kubectl acmecheck`.
pub const SHIM: &str = "#!/bin/sh\n\
# kubectl (>= 1.26) runs this to complete `kubectl acmecheck ...` (see docs/install.md).\n\
exec kubectl-acmecheck __complete \"$@\"\n";

/// The file name kubectl looks for on PATH.
pub const SHIM_NAME: &str = "kubectl_complete-acmecheck";

/// Cobra's `ShellCompDirective` bits that we use.
pub mod directive {
    /// Let the shell complete file names when there is no candidate.
    pub const DEFAULT: u32 = 0;
    /// Do not complete file names.
    pub const NO_FILE_COMP: u32 = 4;
    /// Do not add a space after the candidate (used for `--flag=` prefixes).
    pub const NO_SPACE: u32 = 2;
}

/// How long cluster lookups may take before completion gives up on them (unless
/// `--request-timeout` was typed on the command line).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell, or `kubectl` for the kubectl_complete-acmecheck helper script (kubectl >= 1.26)
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    /// The kubectl_complete-acmecheck helper (put it on PATH next to kubectl-acmecheck)
    Kubectl,
}

#[derive(Args, Debug, Clone)]
pub struct CompleteArgs {
    /// The words after `kubectl acmecheck`, the last one being the word to complete
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
    pub words: Vec<String>,
}

/// `completion <shell>`: print the script on stdout.
pub fn completion_main(args: &CompletionArgs) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut cmd = Cli::command();
    let name = "kubectl-acmecheck";
    let result = match args.shell {
        CompletionShell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, name, &mut out);
            Ok(())
        }
        CompletionShell::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, name, &mut out);
            Ok(())
        }
        CompletionShell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, name, &mut out);
            Ok(())
        }
        CompletionShell::Kubectl => out.write_all(SHIM.as_bytes()),
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => crate::error::exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => crate::error::exit::OK,
        Err(e) => {
            eprintln!("error: cannot write the completion script: {e}");
            crate::error::exit::CANNOT_DIAGNOSE
        }
    }
}

/// The `__complete` words when the process was started as `kubectl-acmecheck __complete …`,
/// taken from argv before clap sees them: the words are whatever the user typed, so clap must
/// not read `-n`, `--help` or `--version` among them as our own flags (a `--` among them is
/// the user's too). `main` runs [`complete_main`] with them and exits.
pub fn raw_complete_args() -> Option<CompleteArgs> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != "__complete" {
        return None;
    }
    let words = args.map(|a| a.to_string_lossy().into_owned()).collect();
    Some(CompleteArgs { words })
}

/// `__complete <words…> <word>`: kubectl's plugin completion protocol. Always exits 0.
pub fn complete_main(args: &CompleteArgs) -> i32 {
    let result = complete(&args.words, &ClusterLookup);
    // A closed pipe or any write error: nothing useful to report to a completion engine.
    let _ = write_candidates(&mut std::io::stdout().lock(), &result);
    crate::error::exit::OK
}

/// Candidates for the word being completed, and the directive for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// `value` or `value<TAB>description`.
    pub candidates: Vec<String>,
    pub directive: u32,
}

/// One candidate per line, then `:<directive>`. Values cannot contain newlines.
pub fn write_candidates(out: &mut dyn Write, c: &Completions) -> std::io::Result<()> {
    for cand in &c.candidates {
        if !cand.contains(['\n', '\r']) {
            writeln!(out, "{cand}")?;
        }
    }
    writeln!(out, ":{}", c.directive)?;
    out.flush()
}

/// What completion may look up outside the command line. Every method returns an empty list
/// when it cannot answer.
pub trait Lookup {
    /// Namespace names.
    fn namespaces(&self, flags: &KubeFlags) -> Vec<String>;
    /// Certificates in `flags.namespace` (or the context's namespace), or in every namespace
    /// with `-A`: `(name, namespace, ready)`.
    fn certificates(&self, flags: &KubeFlags) -> Vec<(String, String, Option<bool>)>;
    /// Context, cluster or user names (`what`) of the kubeconfig in use.
    fn kubeconfig_names(&self, flags: &KubeFlags, what: KubeconfigEntry) -> Vec<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeconfigEntry {
    Context,
    Cluster,
    User,
}

/// What the words before the current one say.
#[derive(Default)]
struct Parsed {
    /// The subcommand, if one was typed.
    subcommand: Option<String>,
    /// Values of flags by clap id, in order (for KubeFlags and "already given").
    values: Vec<(String, String)>,
    /// Flags given (clap ids), for not offering non-repeatable flags twice.
    given: Vec<String>,
    /// Positional words.
    positionals: Vec<String>,
    /// A flag that still waits for its value (the current word is that value).
    pending: Option<Arg>,
    /// `--` was typed: everything after is positional.
    dashdash: bool,
}

fn find_long<'a>(cmd: &'a clap::Command, long: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long_and_visible_aliases()
            .is_some_and(|l| l.contains(&long))
    })
}

fn find_short(cmd: &clap::Command, short: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| {
        a.get_short_and_visible_aliases()
            .is_some_and(|s| s.contains(&short))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// The root command with global flags propagated to every subcommand.
fn built_command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

fn parse_words(root: &clap::Command, words: &[String]) -> Parsed {
    let mut p = Parsed::default();
    let mut cmd = root;
    for word in words {
        if let Some(arg) = p.pending.take() {
            p.values.push((arg.get_id().to_string(), word.clone()));
            continue;
        }
        if p.dashdash {
            p.positionals.push(word.clone());
        } else if word == "--" {
            p.dashdash = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            if let Some(arg) = find_long(cmd, name) {
                p.given.push(arg.get_id().to_string());
                match inline {
                    Some(v) => p.values.push((arg.get_id().to_string(), v.to_string())),
                    None if takes_value(arg) => p.pending = Some(arg.clone()),
                    None => {}
                }
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                let Some(arg) = find_short(cmd, c) else { break };
                p.given.push(arg.get_id().to_string());
                if takes_value(arg) {
                    let rest = shorts[i + c.len_utf8()..].trim_start_matches('=');
                    if rest.is_empty() {
                        p.pending = Some(arg.clone());
                    } else {
                        p.values.push((arg.get_id().to_string(), rest.to_string()));
                    }
                    break;
                }
            }
        } else if p.subcommand.is_none()
            && p.positionals.is_empty()
            && let Some(sub) = root.find_subcommand(word)
        {
            p.subcommand = Some(sub.get_name().to_string());
            cmd = sub;
        } else {
            p.positionals.push(word.clone());
        }
    }
    p
}

impl Parsed {
    fn last(&self, id: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_str())
    }

    fn kube_flags(&self) -> KubeFlags {
        KubeFlags {
            kubeconfig: self.last("kubeconfig").map(Into::into),
            context: self.last("context").map(Into::into),
            cluster: self.last("cluster").map(Into::into),
            user: self.last("user").map(Into::into),
            namespace: self.last("namespace").map(Into::into),
            all_namespaces: self.given.iter().any(|g| g == "all_namespaces"),
            request_timeout: self
                .last("request_timeout")
                .and_then(|t| parse_duration(t).ok()),
            as_user: self.last("as_user").map(Into::into),
            as_groups: self
                .values
                .iter()
                .filter(|(k, _)| k == "as_groups")
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }
}

/// Complete `words` (the words after `kubectl acmecheck`; the last one is being completed).
pub fn complete(words: &[String], lookup: &dyn Lookup) -> Completions {
    let root = built_command();
    let (current, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let parsed = parse_words(&root, before);
    let cmd = parsed
        .subcommand
        .as_deref()
        .and_then(|s| root.find_subcommand(s))
        .unwrap_or(&root);

    if let Some(arg) = &parsed.pending {
        return flag_values(arg, current, "", &parsed, lookup);
    }
    if !parsed.dashdash
        && let Some((flag, value)) = current.strip_prefix("--").and_then(|l| l.split_once('='))
        && let Some(arg) = find_long(cmd, flag)
    {
        let prefix = format!("--{flag}=");
        return flag_values(arg, value, &prefix, &parsed, lookup);
    }
    if !parsed.dashdash && current.starts_with('-') {
        return flag_names(cmd, current, &parsed);
    }
    positionals(&root, cmd, current, &parsed, lookup)
}

fn filtered(values: impl IntoIterator<Item = String>, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let value = v.split('\t').next().unwrap_or_default();
        if value.starts_with(prefix) && !out.iter().any(|o| o.split('\t').next() == Some(value)) {
            out.push(v);
        }
    }
    out
}

fn with_help(value: String, help: Option<String>) -> String {
    match help {
        Some(h) if !h.is_empty() => format!("{value}\t{}", h.lines().next().unwrap_or_default()),
        _ => value,
    }
}

/// The visible fixed values of an argument (`ValueEnum`s), with their help.
fn possible_values(arg: &Arg) -> Vec<String> {
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            with_help(
                v.get_name().to_string(),
                v.get_help().map(|h| h.to_string()),
            )
        })
        .collect()
}

fn flag_names(cmd: &clap::Command, current: &str, parsed: &Parsed) -> Completions {
    let mut names = Vec::new();
    for arg in cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
    {
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if !repeatable && parsed.given.iter().any(|g| g == arg.get_id().as_str()) {
            continue;
        }
        let help = arg.get_help().map(|h| h.to_string());
        for long in arg.get_long_and_visible_aliases().unwrap_or_default() {
            names.push(with_help(format!("--{long}"), help.clone()));
        }
        if current.len() <= 2 && !current.starts_with("--") {
            for short in arg.get_short_and_visible_aliases().unwrap_or_default() {
                names.push(with_help(format!("-{short}"), help.clone()));
            }
        }
    }
    Completions {
        candidates: filtered(names, current),
        directive: directive::NO_FILE_COMP,
    }
}

fn flag_values(
    arg: &Arg,
    current: &str,
    prefix: &str,
    parsed: &Parsed,
    lookup: &dyn Lookup,
) -> Completions {
    let flags = parsed.kube_flags();
    let possible = possible_values(arg);
    let values = if !possible.is_empty() {
        possible
    } else {
        match arg.get_id().as_str() {
            "namespace" | "probe_namespace" => lookup.namespaces(&flags),
            "context" => lookup.kubeconfig_names(&flags, KubeconfigEntry::Context),
            "cluster" => lookup.kubeconfig_names(&flags, KubeconfigEntry::Cluster),
            "user" => lookup.kubeconfig_names(&flags, KubeconfigEntry::User),
            _ if matches!(
                arg.get_value_hint(),
                ValueHint::FilePath | ValueHint::AnyPath | ValueHint::DirPath
            ) || matches!(arg.get_id().as_str(), "kubeconfig" | "plan") =>
            {
                // Let the shell complete file names (only without a `--flag=` prefix, which
                // the shell would not know to keep).
                return Completions {
                    candidates: Vec::new(),
                    directive: if prefix.is_empty() {
                        directive::DEFAULT
                    } else {
                        directive::NO_FILE_COMP
                    },
                };
            }
            _ => Vec::new(),
        }
    };
    let candidates = filtered(values, current)
        .into_iter()
        .map(|v| format!("{prefix}{v}"))
        .collect();
    Completions {
        candidates,
        directive: directive::NO_FILE_COMP,
    }
}

fn positionals(
    root: &clap::Command,
    cmd: &clap::Command,
    current: &str,
    parsed: &Parsed,
    lookup: &dyn Lookup,
) -> Completions {
    let mut values = Vec::new();
    if parsed.subcommand.is_none() {
        if parsed.positionals.is_empty() && !parsed.dashdash {
            let visible = root
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help");
            for sub in visible {
                let help = sub.get_about().map(|h| h.to_string());
                values.push(with_help(sub.get_name().to_string(), help));
            }
        }
        let flags = parsed.kube_flags();
        let mut certs = lookup.certificates(&flags);
        // Not Ready first: those are the ones worth diagnosing.
        certs.sort_by_key(|(name, ns, ready)| (*ready == Some(true), ns.clone(), name.clone()));
        for (name, ns, ready) in certs {
            if parsed.positionals.contains(&name) {
                continue;
            }
            let state = match ready {
                Some(true) => "Ready",
                Some(false) => "not Ready",
                None => "no Ready condition",
            };
            let help = if flags.all_namespaces {
                format!("Certificate in {ns}, {state}")
            } else {
                format!("Certificate, {state}")
            };
            values.push(format!("{name}\t{help}"));
        }
    } else if let Some(arg) = cmd
        .get_arguments()
        .filter(|a| a.is_positional())
        .nth(parsed.positionals.len())
    {
        values = possible_values(arg);
    }
    Completions {
        candidates: filtered(values, current),
        directive: directive::NO_FILE_COMP,
    }
}

// ---------------------------------------------------------------------------------------------
// The real lookups: the kubeconfig and the cluster, each bounded in time, errors swallowed.

/// Looks things up in the kubeconfig and the cluster the flags select.
pub struct ClusterLookup;

impl ClusterLookup {
    fn run<T: Default>(
        flags: &KubeFlags,
        f: impl AsyncFnOnce(kube::Client, String) -> Option<T>,
    ) -> T {
        let limit = flags
            .request_timeout
            .filter(|t| !t.is_zero())
            .unwrap_or(LOOKUP_TIMEOUT);
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return T::default();
        };
        rt.block_on(async {
            tokio::time::timeout(limit, async {
                let (client, namespace) = connect(flags).await?;
                f(client, namespace).await
            })
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
        })
    }
}

impl Lookup for ClusterLookup {
    fn namespaces(&self, flags: &KubeFlags) -> Vec<String> {
        use k8s_openapi::api::core::v1::Namespace;
        Self::run(flags, async |client, _| {
            let api: kube::Api<Namespace> = kube::Api::all(client);
            let list = api.list_metadata(&Default::default()).await.ok()?;
            Some(
                list.items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect(),
            )
        })
    }

    fn certificates(&self, flags: &KubeFlags) -> Vec<(String, String, Option<bool>)> {
        use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
        let all = flags.all_namespaces;
        Self::run(flags, async move |client, namespace| {
            let gvk = GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate");
            let ar = ApiResource::from_gvk(&gvk);
            let api: kube::Api<DynamicObject> = if all {
                kube::Api::all_with(client, &ar)
            } else {
                kube::Api::namespaced_with(client, &namespace, &ar)
            };
            let list = api.list(&Default::default()).await.ok()?;
            Some(
                list.items
                    .into_iter()
                    .filter_map(|c| {
                        let ready = c.data["status"]["conditions"].as_array().and_then(|conds| {
                            conds
                                .iter()
                                .find(|k| k["type"] == "Ready")
                                .map(|k| k["status"] == "True")
                        });
                        Some((
                            c.metadata.name?,
                            c.metadata.namespace.unwrap_or_default(),
                            ready,
                        ))
                    })
                    .collect(),
            )
        })
    }

    fn kubeconfig_names(&self, flags: &KubeFlags, what: KubeconfigEntry) -> Vec<String> {
        use kube::config::Kubeconfig;
        let kc = match &flags.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        };
        let Ok(kc) = kc else { return Vec::new() };
        match what {
            KubeconfigEntry::Context => kc.contexts.into_iter().map(|c| c.name).collect(),
            KubeconfigEntry::Cluster => kc.clusters.into_iter().map(|c| c.name).collect(),
            KubeconfigEntry::User => kc.auth_infos.into_iter().map(|u| u.name).collect(),
        }
    }
}

/// A client for the kubeconfig entries the flags select, and the namespace to use (`-n`, else
/// the context's, else `default`), from the gather stage's [`crate::gather::client::connect`].
/// `None` on any error: completion stays quiet.
async fn connect(flags: &KubeFlags) -> Option<(kube::Client, String)> {
    crate::gather::client::connect(flags).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster with two namespaces and three certificates, and a kubeconfig with two contexts.
    struct Fake;

    impl Lookup for Fake {
        fn namespaces(&self, _: &KubeFlags) -> Vec<String> {
            vec!["default".into(), "shop".into(), "staging".into()]
        }
        fn certificates(&self, f: &KubeFlags) -> Vec<(String, String, Option<bool>)> {
            let all = [
                ("web-tls", "shop", Some(true)),
                ("api-tls", "shop", Some(false)),
                ("www-tls", "default", None),
            ];
            all.iter()
                .filter(|(_, ns, _)| {
                    f.all_namespaces || *ns == f.namespace.as_deref().unwrap_or("default")
                })
                .map(|(n, ns, r)| (n.to_string(), ns.to_string(), *r))
                .collect()
        }
        fn kubeconfig_names(&self, f: &KubeFlags, what: KubeconfigEntry) -> Vec<String> {
            match (what, f.kubeconfig.as_deref()) {
                (KubeconfigEntry::Context, None) => vec!["prod".into(), "kind-dev".into()],
                (KubeconfigEntry::Context, Some(_)) => vec!["other".into()],
                _ => vec!["c1".into()],
            }
        }
    }

    /// Quiet about everything, like an unreachable cluster.
    struct Unreachable;

    impl Lookup for Unreachable {
        fn namespaces(&self, _: &KubeFlags) -> Vec<String> {
            Vec::new()
        }
        fn certificates(&self, _: &KubeFlags) -> Vec<(String, String, Option<bool>)> {
            Vec::new()
        }
        fn kubeconfig_names(&self, _: &KubeFlags, _: KubeconfigEntry) -> Vec<String> {
            Vec::new()
        }
    }

    fn values(words: &[&str]) -> (Vec<String>, u32) {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        let c = complete(&words, &Fake);
        let vals = c
            .candidates
            .iter()
            .map(|c| c.split('\t').next().unwrap().to_string())
            .collect();
        (vals, c.directive)
    }

    #[test]
    fn first_word_offers_subcommands_and_certificates_not_ready_first() {
        let (v, d) = values(&[""]);
        assert_eq!(
            v,
            ["preflight", "probe", "cleanup", "completion", "www-tls"]
        );
        assert_eq!(d, directive::NO_FILE_COMP);
        let (v, _) = values(&["-n", "shop", ""]);
        assert_eq!(
            v,
            [
                "preflight",
                "probe",
                "cleanup",
                "completion",
                "api-tls",
                "web-tls"
            ]
        );
        let (v, _) = values(&["-n", "shop", "w"]);
        assert_eq!(v, ["web-tls"]);
        // hidden __complete is never offered
        assert!(!values(&["__"]).0.iter().any(|s| s.starts_with("__")));
    }

    #[test]
    fn certificates_already_typed_are_not_offered_again_and_subcommands_stop() {
        let (v, _) = values(&["--namespace=shop", "web-tls", ""]);
        assert_eq!(v, ["api-tls"]);
        let (v, _) = values(&["-A", ""]);
        assert_eq!(
            v,
            [
                "preflight",
                "probe",
                "cleanup",
                "completion",
                "www-tls",
                "api-tls",
                "web-tls"
            ]
        );
    }

    #[test]
    fn descriptions_say_namespace_and_readiness() {
        let c = complete(&["-A".into(), "api".into()], &Fake);
        assert_eq!(c.candidates, ["api-tls\tCertificate in shop, not Ready"]);
        let c = complete(&["-nshop".into(), "web".into()], &Fake);
        assert_eq!(c.candidates, ["web-tls\tCertificate, Ready"]);
    }

    #[test]
    fn namespace_values_in_every_spelling() {
        for words in [
            &["-n", "s"][..],
            &["--namespace", "s"],
            &["web-tls", "-n", "s"],
            &["probe", "-n", "s"],
        ] {
            let (v, d) = values(words);
            assert_eq!(v, ["shop", "staging"], "{words:?}");
            assert_eq!(d, directive::NO_FILE_COMP);
        }
        let (v, _) = values(&["--namespace=st"]);
        assert_eq!(v, ["--namespace=staging"]);
    }

    #[test]
    fn flag_names_with_help_and_without_repeats() {
        let c = complete(&["--out".into()], &Fake);
        assert_eq!(c.candidates.len(), 1);
        assert!(
            c.candidates[0].starts_with("--output\t"),
            "{:?}",
            c.candidates
        );
        let (v, _) = values(&["--con"]);
        assert_eq!(v, ["--context"]);
        // a single-valued flag already given is not offered again; a repeatable one is
        let (v, _) = values(&["--context", "prod", "--con"]);
        assert!(v.is_empty(), "{v:?}");
        let (v, _) = values(&["--as-group", "ops", "--as-g"]);
        assert_eq!(v, ["--as-group"]);
        // "-" offers short flags too
        let (v, _) = values(&["-"]);
        assert!(v.contains(&"-n".to_string()) && v.contains(&"--namespace".to_string()));
        // subcommand flags
        let (v, _) = values(&["probe", "--pl"]);
        assert_eq!(v, ["--plan", "--plan-json"]);
        // the probe pod's flags
        let (v, _) = values(&["--probe-"]);
        assert_eq!(
            v,
            [
                "--probe-namespace",
                "--probe-node",
                "--probe-image",
                "--probe-timeout"
            ]
        );
        let (v, _) = values(&["--probe-namespace", "s"]);
        assert_eq!(v, ["shop", "staging"]);
        let (v, _) = values(&["--image-pull"]);
        assert_eq!(v, ["--image-pull-secret"]);
    }

    #[test]
    fn fixed_values_and_kubeconfig_entries() {
        let (v, _) = values(&["-o", ""]);
        assert_eq!(v, ["table", "wide", "json", "yaml"]);
        let (v, _) = values(&["--color=n"]);
        assert_eq!(v, ["--color=never"]);
        let (v, _) = values(&["--context", ""]);
        assert_eq!(v, ["prod", "kind-dev"]);
        let (v, _) = values(&["--kubeconfig", "/tmp/x", "--context", ""]);
        assert_eq!(v, ["other"]);
        let (v, _) = values(&["completion", ""]);
        assert_eq!(v, ["bash", "zsh", "fish", "kubectl"]);
        let (v, _) = values(&["completion", "z"]);
        assert_eq!(v, ["zsh"]);
    }

    #[test]
    fn file_flags_leave_completion_to_the_shell() {
        let c = complete(&["--kubeconfig".into(), "".into()], &Fake);
        assert_eq!(
            c,
            Completions {
                candidates: vec![],
                directive: directive::DEFAULT
            }
        );
        let c = complete(&["probe".into(), "--plan".into(), "pl".into()], &Fake);
        assert_eq!(
            c,
            Completions {
                candidates: vec![],
                directive: directive::DEFAULT
            }
        );
        // free-form values: nothing, and no file names either
        let c = complete(&["--as".into(), "".into()], &Fake);
        assert_eq!(
            c,
            Completions {
                candidates: vec![],
                directive: directive::NO_FILE_COMP
            }
        );
    }

    #[test]
    fn after_double_dash_everything_is_a_certificate() {
        let (v, _) = values(&["--", "-"]);
        assert!(v.is_empty());
        let (v, _) = values(&["--", ""]);
        assert_eq!(v, ["www-tls"]);
    }

    #[test]
    fn unreachable_cluster_gives_an_empty_list_and_a_directive() {
        let c = complete(&["-n".into(), "".into()], &Unreachable);
        assert_eq!(
            c,
            Completions {
                candidates: vec![],
                directive: directive::NO_FILE_COMP
            }
        );
        let mut out = Vec::new();
        write_candidates(&mut out, &c).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), ":4\n");
    }

    #[test]
    fn kube_flags_from_the_words() {
        let root = built_command();
        let words: Vec<String> = [
            "--kubeconfig=/k",
            "--context",
            "prod",
            "-nshop",
            "-A",
            "--as",
            "jane",
            "--as-group",
            "a",
            "--as-group=b",
            "--request-timeout",
            "2s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f = parse_words(&root, &words).kube_flags();
        assert_eq!(f.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(f.context.as_deref(), Some("prod"));
        assert_eq!(f.namespace.as_deref(), Some("shop"));
        assert!(f.all_namespaces);
        assert_eq!(f.as_user.as_deref(), Some("jane"));
        assert_eq!(f.as_groups, ["a", "b"]);
        assert_eq!(f.request_timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn candidates_never_contain_newlines() {
        let c = Completions {
            candidates: vec!["ok".into(), "bad\nline".into()],
            directive: directive::NO_FILE_COMP,
        };
        let mut out = Vec::new();
        write_candidates(&mut out, &c).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ok\n:4\n");
    }

    #[test]
    fn unreachable_kubeconfig_is_quiet() {
        let flags = KubeFlags {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..Default::default()
        };
        assert!(ClusterLookup.namespaces(&flags).is_empty());
        assert!(ClusterLookup.certificates(&flags).is_empty());
        assert!(
            ClusterLookup
                .kubeconfig_names(&flags, KubeconfigEntry::Context)
                .is_empty()
        );
    }
}
