//! Command-line interface (clap derive). Reads as a kubectl subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Shown after `--help`: examples and the exit codes (also documented in the README).
pub const AFTER_HELP: &str = "\
Examples:
  # Why is the certificate 'web-tls' in the current namespace not issued?
  kubectl acmecheck web-tls

  # Every certificate that is not Ready, in every namespace, as JSON for a script
  kubectl acmecheck --all -A -o json

  # Look at the cluster objects and probe from this machine only
  kubectl acmecheck web-tls -n shop --local-only

  # Run a probe plan (the probe engine on its own) and print the report
  kubectl acmecheck probe --plan plan.json

Exit codes:
  0  the checks ran and found no problem
  1  the checks found a problem (at least one finding of severity error)
  2  could not diagnose: usage error, no kubeconfig, API unreachable or forbidden,
     certificate not found, cert-manager not installed";

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-acmecheck",
    bin_name = "kubectl acmecheck",
    version,
    about = "Find out why a cert-manager HTTP-01 challenge is stuck",
    long_about = "Find out why a cert-manager HTTP-01 challenge is stuck.\n\n\
Walks Certificate -> CertificateRequest -> Order -> Challenge and the solver's Pod, Service,\n\
Ingress or HTTPRoute, probes the challenge URL the way cert-manager's self check and the ACME\n\
server do, and prints root-cause findings with evidence and the fix.",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Certificate names (in the namespace of -n, or the context's namespace)
    #[arg(value_name = "CERTIFICATE")]
    pub certificates: Vec<String>,

    /// Check every Certificate that is not Ready (in the namespace, or all with -A)
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub kube: KubeFlags,

    #[command(flatten)]
    pub output: OutputFlags,

    /// Probe from this machine only (this version has no in-cluster probe pod yet, so this is
    /// also the default)
    #[arg(long)]
    pub local_only: bool,

    /// Do not probe at all: read the cluster objects only
    #[arg(long)]
    pub no_probe: bool,

    /// Fresh connections per resolved address (default: adaptive, at least 66)
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a probe plan and print the report as JSON (the probe engine on its own)
    Probe(ProbeArgs),
    /// Print a shell completion script (bash, zsh, fish) or the kubectl completion helper
    Completion(crate::completion::CompletionArgs),
    /// kubectl's plugin completion protocol, run by the kubectl_complete-acmecheck helper
    #[command(name = "__complete", hide = true)]
    Complete(crate::completion::CompleteArgs),
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The plan as JSON: a file, or - for standard input
    #[arg(long, value_name = "FILE|-")]
    pub plan: String,
}

/// The kubectl flags a plugin must parse itself (kubectl passes none of its own).
#[derive(Args, Debug, Clone, Default)]
pub struct KubeFlags {
    /// Path to the kubeconfig file to use (replaces $KUBECONFIG)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace of the certificates (default: the context's namespace, else "default")
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Look in every namespace (with --all)
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Time limit for each API request, kubectl style: 0 (none), 30s, 2m, 1m30s
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<Duration>,
    /// Username to impersonate
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_groups: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct OutputFlags {
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// When to use colour (NO_COLOR is honoured; never when stdout is not a terminal in auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Debug logs on stderr (-v, -vv)
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Yaml,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parse a kubectl-style duration: `0`, `5` (seconds), `30s`, `2m`, `1h`, `1m30s`, `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(|| format!("invalid duration {s:?}: missing unit (s, m, h, ms)"))?;
        if digits == 0 {
            return Err(format!("invalid duration {s:?}"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("invalid duration {s:?}: unknown unit {unit:?}")),
        };
        total += Duration::from_secs_f64(value * factor);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn parses_kubectl_flags() {
        let cli = Cli::try_parse_from([
            "kubectl-acmecheck",
            "web",
            "-n",
            "shop",
            "--context",
            "prod",
            "-o",
            "json",
            "--as",
            "jane",
            "--as-group",
            "ops",
            "--as-group",
            "dev",
        ])
        .unwrap();
        assert_eq!(cli.certificates, vec!["web"]);
        assert_eq!(cli.kube.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.kube.as_groups, vec!["ops", "dev"]);
        assert_eq!(cli.output.output, OutputFormat::Json);
    }
}
