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

  # Probe from this machine only (no probe pod in the cluster)
  kubectl acmecheck web-tls -n shop --local-only

  # Probe pod from a mirror, in a namespace of your choice
  kubectl acmecheck web-tls --probe-image registry.example/acmecheck-probe:v0.1.0 \\
      --image-pull-secret regcred --probe-namespace shop

  # Issuance failed and cert-manager removed its solver: replay it with a stand-in
  kubectl acmecheck web-tls -n shop --replay
  kubectl acmecheck web-tls -n shop --replay --dry-run     # the manifests, nothing created

  # Will HTTP-01 work for this Ingress's names, before cert-manager tries?
  kubectl acmecheck preflight ingress/web -n shop

  # Remove probe pods and replay stand-ins left behind (after a kill -9)
  kubectl acmecheck cleanup -A

  # Run a probe plan (the probe engine on its own) and print the report
  kubectl acmecheck probe --plan plan.json

Exit codes:
  0  the checks ran and found no problem
  1  the checks found a problem (at least one finding of severity error)
  2  could not diagnose: usage error, no kubeconfig, API unreachable or forbidden,
     certificate not found, cert-manager not installed
  130, 143  interrupted by SIGINT (Ctrl-C) or SIGTERM; the probe pod and any replay
            stand-ins were deleted first

The probe pod needs create, get, watch, delete on pods and get on pods/log in its namespace
(cert-manager's by default); without them the run goes on with the local vantage only.
--replay needs create, get, delete on pods, services, ingresses and httproutes and watch on
pods in the Certificate's namespace; without them the run goes on without replay.";

/// Shown after `preflight --help`.
pub const PREFLIGHT_AFTER_HELP: &str = "\
Examples:
  # The names and issuer of an Ingress (spec.tls hosts, cert-manager.io/cluster-issuer, ...)
  kubectl acmecheck preflight ingress/web -n shop

  # A Gateway's HTTPS listeners with certificateRefs (the solver's parentRef is the Gateway)
  kubectl acmecheck preflight gateway/public -n infra

  # Names and an issuer given directly
  kubectl acmecheck preflight --issuer letsencrypt-prod --cluster-issuer \\
      --host shop.example.com --host www.example.com -n shop

For each name without a live cert-manager challenge it creates what cert-manager would create
(the solver pod with the controller's acmesolver image, its Service, the Ingress or HTTPRoute)
under the tool's labels, waits until it is served, probes it from this machine and from a
probe pod, and deletes it on every exit path. --dry-run prints the manifests instead.
Exit codes as for a diagnosis: 0 no problem, 1 a problem, 2 could not check.";

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

    /// Probe from this machine only: do not start the in-cluster probe pod
    #[arg(long)]
    pub local_only: bool,

    #[command(flatten)]
    pub pod: PodFlags,

    /// Do not probe at all: read the cluster objects only
    #[arg(long)]
    pub no_probe: bool,

    /// Fresh connections per resolved address (default: adaptive, at least 66)
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,

    /// Create a stand-in of cert-manager's HTTP-01 solver for every name whose challenge is
    /// not live (failed, backed off, renewal), probe it like a live challenge, then delete it.
    /// Writes to the cluster
    #[arg(long)]
    pub replay: bool,

    #[command(flatten)]
    pub replay_flags: ReplayFlags,
    #[command(flatten)]
    pub ca: CaFlags,
}

/// How a replay (`--replay`, `preflight`) runs.
#[derive(Args, Debug, Clone)]
pub struct ReplayFlags {
    /// Print the manifests the replay would create and create nothing (no probe pod either)
    #[arg(long)]
    pub dry_run: bool,
    /// The stand-in pods' acmesolver image (default: the controller's
    /// --acme-http01-solver-image, else cert-manager's image for the controller's version)
    #[arg(long, value_name = "IMAGE")]
    pub solver_image: Option<String>,
    /// How long the stand-in pods may take to be ready (image pull included)
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub replay_timeout: Duration,
    /// How long to wait for the ingress controller or Gateway to serve the stand-in's path
    /// before probing
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration)]
    pub replay_wait: Duration,
}

/// `kubectl acmecheck preflight`: will HTTP-01 work for these names, before a Certificate exists?
#[derive(Args, Debug)]
pub struct PreflightArgs {
    /// ingress/NAME or gateway/NAME: the names and the issuer come from its TLS section and
    /// cert-manager's annotations, as ingress-shim and gateway-shim read them
    #[arg(value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// The issuer the Certificate would name (an Issuer in the namespace, or a ClusterIssuer
    /// with --cluster-issuer)
    #[arg(long, value_name = "NAME")]
    pub issuer: Option<String>,
    /// --issuer names a ClusterIssuer
    #[arg(long)]
    pub cluster_issuer: bool,
    /// A name to check (repeatable)
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    #[command(flatten)]
    pub replay_flags: ReplayFlags,
    /// Probe from this machine only: do not start the in-cluster probe pod
    #[arg(long)]
    pub local_only: bool,
    #[command(flatten)]
    pub pod: PodFlags,
    /// Fresh connections per resolved address (default: adaptive, at least 66)
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,
    #[command(flatten)]
    pub ca: CaFlags,
}

/// What the CA forecast cannot read from the cluster: when, and how the CA is deployed.
#[derive(Args, Debug, Clone, Default)]
pub struct CaFlags {
    /// Day of the CA validation to forecast, YYYY-MM-DD (default: today, UTC): Let's Encrypt's
    /// number of remote perspectives depends on it
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub validation_date: Option<String>,
    /// Let's Encrypt's remote perspectives, instead of the dated table (4 until 2026-12-14,
    /// then at least 5)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=32))]
    pub letsencrypt_perspectives: Option<u32>,
    /// Pebble's httpPort (its config file): the port Pebble validates on (default 80)
    #[arg(long, value_name = "PORT")]
    pub pebble_http_port: Option<u16>,
    /// Pebble runs with PEBBLE_VA_ALWAYS_VALID=1 (it marks every challenge valid)
    #[arg(long)]
    pub pebble_always_valid: bool,
    /// Pebble runs without -dnsserver (it uses the system resolver's order, IPv4 first on a
    /// host without IPv6, instead of AAAA first)
    #[arg(long)]
    pub pebble_system_resolver: bool,
}

impl Cli {
    /// The settings of the probe plans from the flags.
    pub fn plan_settings(&self) -> crate::probe::targets::PlanSettings {
        self.ca.plan_settings(self.attempts)
    }
}

impl CaFlags {
    /// The settings of the probe plans from these flags and `--attempts`.
    pub fn plan_settings(&self, attempts: Option<u32>) -> crate::probe::targets::PlanSettings {
        let ca = self;
        let pebble =
            (ca.pebble_http_port.is_some() || ca.pebble_always_valid || ca.pebble_system_resolver)
                .then(|| crate::probe::plan::PebbleSettings {
                    http_port: ca.pebble_http_port.unwrap_or(80),
                    always_valid: ca.pebble_always_valid,
                    dns_server: !ca.pebble_system_resolver,
                });
        crate::probe::targets::PlanSettings {
            attempts,
            validation_date: ca.validation_date.clone(),
            letsencrypt_remotes: ca.letsencrypt_perspectives,
            pebble,
            budget: None,
        }
    }
}

/// `YYYY-MM-DD`.
fn parse_date(s: &str) -> Result<String, String> {
    crate::probe::perspectives::Day::parse(s).map(|d| d.to_string())
}

/// The in-cluster probe pod (the default vantage next to this machine's).
#[derive(Args, Debug, Clone)]
pub struct PodFlags {
    /// Namespace for the probe pod (default: cert-manager's, else the Certificate's)
    #[arg(long, value_name = "NAMESPACE")]
    pub probe_namespace: Option<String>,
    /// Node for the probe pod (default: preferably the cert-manager controller's node)
    #[arg(long, value_name = "NODE")]
    pub probe_node: Option<String>,
    /// Image of the probe pod (a mirror for air-gapped or private-registry clusters)
    #[arg(
        long,
        value_name = "IMAGE",
        env = "ACMECHECK_PROBE_IMAGE",
        default_value = crate::image::DEFAULT_PROBE_IMAGE
    )]
    pub probe_image: String,
    /// Image pull secret for the probe pod, in its namespace (repeatable)
    #[arg(long = "image-pull-secret", value_name = "SECRET")]
    pub image_pull_secrets: Vec<String>,
    /// Deadline of the probe pod (its activeDeadlineSeconds): 120s, 5m
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub probe_timeout: Duration,
}

impl PodFlags {
    pub fn options(&self) -> crate::probe::pod::PodOptions {
        crate::probe::pod::PodOptions {
            namespace: self.probe_namespace.clone(),
            node: self.probe_node.clone(),
            image: self.probe_image.clone(),
            image_pull_secrets: self.image_pull_secrets.clone(),
            timeout: self.probe_timeout,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check HTTP-01 for names before a Certificate exists: a stand-in solver through an
    /// issuer's solver, probed from both vantages (writes to the cluster, then deletes)
    #[command(after_help = PREFLIGHT_AFTER_HELP)]
    Preflight(Box<PreflightArgs>),
    /// Run a probe plan and print the report as JSON (what the probe pod runs)
    Probe(ProbeArgs),
    /// Delete what runs left behind (by label): probe pods and replay stand-ins (pods,
    /// Services, Ingresses, HTTPRoutes), in the namespace or everywhere with -A
    Cleanup,
    /// Print a shell completion script (bash, zsh, fish) or the kubectl completion helper
    Completion(crate::completion::CompletionArgs),
    /// kubectl's plugin completion protocol, run by the kubectl_complete-acmecheck helper
    #[command(name = "__complete", hide = true)]
    Complete(crate::completion::CompleteArgs),
    /// Will every HTTP-01 Certificate still renew? Every one (Ready or not) in the namespace,
    /// or everywhere with -A: live challenges probed, the other names screened (read-only) or
    /// replayed with --replay; one table sorted by renewal time; exit 1 when one is at risk
    #[command(after_help = RENEWALS_AFTER_HELP)]
    Renewals(Box<RenewalsArgs>),
    /// A stand-in for cert-manager's HTTP-01 solver serving many names and tokens (what a
    /// `renewals --replay` stand-in pod runs; see the `solver` module)
    #[command(hide = true)]
    Solver(SolverArgs),
}

/// `kubectl-acmecheck solver`: the multi-name stand-in solver.
#[derive(Args, Debug)]
pub struct SolverArgs {
    /// The port to listen on, on every address (cert-manager's solver port by default)
    #[arg(long, value_name = "PORT", default_value_t = 8089)]
    pub listen_port: u16,
    /// A name, a challenge token and its key authorization to serve (repeatable); the key is
    /// TOKEN.<thumbprint>
    #[arg(long = "serve", value_name = "DOMAIN/TOKEN/KEY", required = true,
        value_parser = crate::solver::parse_serve)]
    pub serve: Vec<crate::solver::Triple>,
}

/// Shown after `renewals --help`.
pub const RENEWALS_AFTER_HELP: &str = "\
Examples:
  # Every HTTP-01 Certificate in every namespace, read-only (a CronJob, a CI gate)
  kubectl acmecheck renewals -A

  # Prove it with stand-in solvers (writes, then deletes), as JSON
  kubectl acmecheck renewals -n shop --replay -o json

Without --replay, a name with no live challenge is screened: its challenge path is asked for a
random token that no solver serves, from this machine and from a probe pod, and every data
plane is asked directly from inside; a name is `ok` when every answer is the data plane's that
would carry the solver's route, `at risk` when another data plane answers (or nothing does, or
the name does not resolve), `unknown` when the screen cannot tell (replay to be sure).

With --replay, names share stand-ins: one pod (the plugin's own image, --probe-image, in its
solver mode), Service and Ingress or HTTPRoute for each namespace and solver configuration.
Ingress solvers' stand-ins go to the run's namespace (-n, or the kubeconfig's); HTTPRoute and
edit-in-place solvers' stay in the Certificate's. --solver-image does not apply here.

Exit codes: 0 no certificate at risk (unknown ones included, unless --strict), 1 at least one
at risk (or unknown with --strict), 2 could not check; 130/143 interrupted.";

/// `kubectl acmecheck renewals`: will every HTTP-01 Certificate still renew?
#[derive(Args, Debug)]
pub struct RenewalsArgs {
    /// Check names without a live challenge with stand-in solvers (writes to the cluster, then
    /// deletes) instead of the read-only screen
    #[arg(long)]
    pub replay: bool,
    #[command(flatten)]
    pub replay_flags: ReplayFlags,
    /// Exit 1 when a certificate's verdict is unknown too (not only at risk)
    #[arg(long)]
    pub strict: bool,
    /// With --replay: stop before creating anything when more shared stand-ins than this would
    /// be created (each a pod, a Service and an Ingress or HTTPRoute, serving the names of one
    /// namespace and solver configuration)
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub max_stand_ins: u32,
    /// Hard cap of fresh connections per address (ip:port) over the whole run, for each vantage
    /// (this machine, the probe pod): names on the same load balancer share it
    #[arg(long, value_name = "N", default_value_t = 1000,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_address: u32,
    /// Probe from this machine only: do not start the in-cluster probe pod
    #[arg(long)]
    pub local_only: bool,
    #[command(flatten)]
    pub pod: PodFlags,
    /// Fresh connections per name and address first (default 4; up to 16 more where the
    /// answers differ)
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,
    #[command(flatten)]
    pub ca: CaFlags,
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ProbeArgs {
    /// The plan as JSON: a file, or - for standard input
    #[arg(long, value_name = "FILE|-")]
    pub plan: Option<String>,
    /// The plan as JSON given inline (the probe pod's entry point); several values are joined,
    /// so a plan larger than one argument may be (128 KiB on Linux) can be passed in parts
    #[arg(long, value_name = "JSON", num_args = 1..)]
    pub plan_json: Vec<String>,
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
    /// Table output: do not draw the path picture under the probes
    #[arg(long, global = true)]
    pub no_picture: bool,
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
    fn ca_flags_become_plan_settings() {
        let cli = Cli::try_parse_from([
            "kubectl-acmecheck",
            "web",
            "--validation-date",
            "2026-12-15",
            "--letsencrypt-perspectives=6",
            "--pebble-http-port",
            "5002",
            "--pebble-system-resolver",
        ])
        .unwrap();
        let s = cli.plan_settings();
        assert_eq!(s.validation_date.as_deref(), Some("2026-12-15"));
        assert_eq!(s.letsencrypt_remotes, Some(6));
        let pebble = s.pebble.unwrap();
        assert_eq!(
            (pebble.http_port, pebble.always_valid, pebble.dns_server),
            (5002, false, false)
        );
        // Without Pebble flags, the plan says nothing about Pebble (its defaults apply).
        let plain = Cli::try_parse_from(["kubectl-acmecheck", "web"]).unwrap();
        assert_eq!(plain.plan_settings().pebble, None);
        assert!(
            Cli::try_parse_from(["kubectl-acmecheck", "--validation-date", "tomorrow"]).is_err()
        );
    }

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
        assert_eq!(cli.pod.probe_timeout, Duration::from_secs(120));
        assert!(!cli.local_only);
    }

    #[test]
    fn probe_pod_flags() {
        let cli = Cli::try_parse_from([
            "kubectl-acmecheck",
            "web",
            "--probe-namespace",
            "probes",
            "--probe-node",
            "n1",
            "--probe-image",
            "mirror/p:v1",
            "--image-pull-secret",
            "a",
            "--image-pull-secret",
            "b",
            "--probe-timeout",
            "2m",
        ])
        .unwrap();
        let o = cli.pod.options();
        assert_eq!(o.namespace.as_deref(), Some("probes"));
        assert_eq!(o.node.as_deref(), Some("n1"));
        assert_eq!(o.image, "mirror/p:v1");
        assert_eq!(o.image_pull_secrets, ["a", "b"]);
        assert_eq!(o.timeout, Duration::from_secs(120));
        let cli =
            Cli::try_parse_from(["kubectl-acmecheck", "probe", "--plan-json", "{", "}"]).unwrap();
        match cli.command {
            Some(Command::Probe(ProbeArgs { plan_json, plan })) => {
                assert_eq!(plan_json, ["{", "}"]);
                assert_eq!(plan, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["kubectl-acmecheck", "probe"]).is_err());
        assert!(
            Cli::try_parse_from([
                "kubectl-acmecheck",
                "probe",
                "--plan",
                "-",
                "--plan-json",
                "{}"
            ])
            .is_err()
        );
        let cli = Cli::try_parse_from(["kubectl-acmecheck", "cleanup", "-A"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Cleanup)) && cli.kube.all_namespaces);
    }
}
