//! What the cert-manager controller's flags say about the solver pods it creates (pure).
//!
//! cert-manager reads these in `cmd/controller/app/options/options.go` (flag names) with the
//! defaults of `internal/apis/config/controller/v1alpha1/defaults.go`
//! (`SetDefaults_ACMEHTTP01Config`) and passes them to `pkg/issuer/acme/http/pod.go`
//! (`buildDefaultPod`) and to every solver object (`filterACMEIdentityLabels` on the extra labels).
//! The Ingress path type depends on the version and the `ACMEHTTP01IngressPathTypeExact` feature
//! gate (`pkg/issuer/acme/http/ingress.go`, `ingressPath`: `ImplementationSpecific` up to v1.17,
//! `Exact` in v1.18.0, the gate — on by default — from v1.18.1).
//!
//! Only the command line is read: a controller configured through `--config` (a
//! `ControllerConfiguration` file) is read with the defaults, and the plan says so.

use crate::evidence::CertManagerEvidence;
use std::collections::BTreeMap;

/// The image cert-manager uses when `--acme-http01-solver-image` is not given, for a version.
pub fn default_image(version: &str) -> String {
    format!("quay.io/jetstack/cert-manager-acmesolver:{version}")
}

/// Where the solver image came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ImageSource {
    /// The controller's `--acme-http01-solver-image`.
    ControllerFlag,
    /// cert-manager's default for the controller's version (image tag).
    VersionDefault,
    /// Given by the user (the CLI's override).
    Override,
    /// Not known: no flag, no version, no override.
    Unknown,
}

/// The controller settings that shape the solver objects.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SolverSettings {
    pub image: Option<String>,
    pub image_source: ImageSource,
    pub request_cpu: String,
    pub request_memory: String,
    pub limits_cpu: String,
    pub limits_memory: String,
    pub run_as_non_root: bool,
    pub runtime_class_name: Option<String>,
    /// `--acme-http01-solver-extra-labels`, without cert-manager's identity labels.
    pub extra_labels: BTreeMap<String, String>,
    /// `Exact` or `ImplementationSpecific`.
    pub ingress_path_type: String,
    /// `--enable-gateway-api` (or the old feature gate); None when the controller is unknown.
    pub gateway_api_enabled: Option<bool>,
    /// The controller's version (image tag), when known.
    pub version: Option<String>,
    /// What the reader should know about how these were found.
    pub notes: Vec<String>,
}

/// Every value of a flag (`--flag=v`, `--flag v`, `-flag=v`), in order; `Some("")` for a bare
/// flag. pflag keeps the last value of a repeated scalar flag and merges map flags.
fn flag_values<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        if !a.starts_with('-') {
            continue;
        }
        let Some(rest) = a.trim_start_matches('-').strip_prefix(flag) else {
            continue;
        };
        if let Some(v) = rest.strip_prefix('=') {
            out.push(v);
        } else if rest.is_empty() {
            match it.peek() {
                Some(next) if !next.starts_with('-') => {
                    out.push(next.as_str());
                    it.next();
                }
                _ => out.push(""),
            }
        }
    }
    out
}

fn last<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    flag_values(args, flag).last().copied()
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A bool flag: bare means true.
fn bool_flag(args: &[String], flag: &str) -> Option<bool> {
    last(args, flag).and_then(|v| {
        if v.is_empty() {
            Some(true)
        } else {
            parse_bool(v)
        }
    })
}

/// `v1.18.1` → (1, 18, 1); a suffix after the patch number (`-beta.0`, `-fips`) is ignored.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.strip_prefix('v')?;
    let mut parts = v.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch_text = parts.next()?;
    let digits: String = patch_text
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor, digits.parse().ok()?))
}

/// A feature gate's value in `--feature-gates=A=true,B=false`.
fn gate(args: &[String], name: &str) -> Option<bool> {
    flag_values(args, "feature-gates")
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, _)| k.trim() == name)
        .filter_map(|(_, v)| parse_bool(v.trim()))
        .next_back()
}

impl SolverSettings {
    /// The settings of this controller (None: not found), with the user's image override.
    pub fn from_controller(
        cm: Option<&CertManagerEvidence>,
        image_override: Option<&str>,
    ) -> SolverSettings {
        let empty = Vec::new();
        let args = cm.map_or(&empty, |c| &c.args);
        let version = cm.and_then(|c| c.version.clone());
        let mut notes = Vec::new();
        if cm.is_none() {
            notes.push("the cert-manager controller was not found: its flags are unknown, cert-manager's defaults are used".to_owned());
        } else if last(args, "config").is_some_and(|v| !v.is_empty()) {
            notes.push("the controller reads a --config file, which is not read here: settings made only there (solver image, resources, extra labels) are taken at their defaults".to_owned());
        }
        let (image, image_source) = match (
            image_override,
            last(args, "acme-http01-solver-image").filter(|v| !v.is_empty()),
            version.as_deref(),
        ) {
            (Some(i), _, _) => (Some(i.to_owned()), ImageSource::Override),
            (None, Some(i), _) => (Some(i.to_owned()), ImageSource::ControllerFlag),
            (None, None, Some(v)) => (Some(default_image(v)), ImageSource::VersionDefault),
            (None, None, None) => (None, ImageSource::Unknown),
        };
        let text = |flag: &str, default: &str| {
            last(args, flag)
                .filter(|v| !v.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        let mut extra_labels = BTreeMap::new();
        for v in flag_values(args, "acme-http01-solver-extra-labels") {
            for kv in v.split(',').filter(|kv| !kv.trim().is_empty()) {
                if let Some((k, v)) = kv.split_once('=') {
                    extra_labels.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        extra_labels.retain(|k, _| !super::IDENTITY_LABELS.contains(&k.as_str()));
        let parsed = version.as_deref().and_then(parse_version);
        let exact = match parsed {
            Some((1, minor, _)) if minor < 18 => false,
            Some((1, 18, 0)) => true,
            _ => gate(args, "ACMEHTTP01IngressPathTypeExact").unwrap_or(true),
        };
        if parsed.is_none() {
            notes.push(format!(
                "the controller's version is unknown{}: rendered as cert-manager v1.21 renders it (Ingress pathType {})",
                version
                    .as_deref()
                    .map(|v| format!(" ({v:?} is not vX.Y.Z)"))
                    .unwrap_or_default(),
                if exact { "Exact" } else { "ImplementationSpecific" }
            ));
        }
        let gates_gateway = gate(args, "ExperimentalGatewayAPISupport").unwrap_or(false);
        SolverSettings {
            image,
            image_source,
            request_cpu: text("acme-http01-solver-resource-request-cpu", "10m"),
            request_memory: text("acme-http01-solver-resource-request-memory", "64Mi"),
            limits_cpu: text("acme-http01-solver-resource-limits-cpu", "100m"),
            limits_memory: text("acme-http01-solver-resource-limits-memory", "64Mi"),
            run_as_non_root: bool_flag(args, "acme-http01-solver-run-as-non-root").unwrap_or(true),
            runtime_class_name: last(args, "acme-http01-solver-runtime-class-name")
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            extra_labels,
            ingress_path_type: if exact {
                "Exact"
            } else {
                "ImplementationSpecific"
            }
            .to_owned(),
            gateway_api_enabled: cm.map(|c| {
                c.gateway_api_enabled
                    || bool_flag(args, "enable-gateway-api").unwrap_or(false)
                    || gates_gateway
            }),
            version,
            notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(version: Option<&str>, args: &[&str]) -> CertManagerEvidence {
        CertManagerEvidence {
            namespace: "cert-manager".into(),
            deployment: "cert-manager".into(),
            version: version.map(str::to_owned),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_cert_managers() {
        let s = SolverSettings::from_controller(Some(&cm(Some("v1.19.1"), &[])), None);
        assert_eq!(
            s.image.as_deref(),
            Some("quay.io/jetstack/cert-manager-acmesolver:v1.19.1")
        );
        assert_eq!(s.image_source, ImageSource::VersionDefault);
        assert_eq!(
            (
                s.request_cpu.as_str(),
                s.request_memory.as_str(),
                s.limits_cpu.as_str(),
                s.limits_memory.as_str()
            ),
            ("10m", "64Mi", "100m", "64Mi")
        );
        assert!(s.run_as_non_root);
        assert_eq!(s.runtime_class_name, None);
        assert_eq!(s.ingress_path_type, "Exact");
        assert_eq!(s.gateway_api_enabled, Some(false));
        assert!(s.notes.is_empty(), "{:?}", s.notes);
    }

    #[test]
    fn flags_in_both_spellings_and_the_last_one_wins() {
        let s = SolverSettings::from_controller(
            Some(&cm(
                Some("v1.20.2"),
                &[
                    "--v=2",
                    "--acme-http01-solver-image=mirror.example/acmesolver:v1.20.2",
                    "--acme-http01-solver-resource-request-cpu",
                    "20m",
                    "--acme-http01-solver-resource-limits-memory=128Mi",
                    "--acme-http01-solver-run-as-non-root=false",
                    "--acme-http01-solver-runtime-class-name=gvisor",
                    "--acme-http01-solver-extra-labels=team=web,acme.cert-manager.io/http01-solver=false",
                    "--acme-http01-solver-extra-labels=tier=edge",
                    "--enable-gateway-api",
                    "--feature-gates=ACMEHTTP01IngressPathTypeExact=false,Other=true",
                ],
            )),
            None,
        );
        assert_eq!(
            s.image.as_deref(),
            Some("mirror.example/acmesolver:v1.20.2")
        );
        assert_eq!(s.image_source, ImageSource::ControllerFlag);
        assert_eq!(s.request_cpu, "20m");
        assert_eq!(s.limits_memory, "128Mi");
        assert!(!s.run_as_non_root);
        assert_eq!(s.runtime_class_name.as_deref(), Some("gvisor"));
        assert_eq!(
            s.extra_labels,
            BTreeMap::from([
                ("team".to_owned(), "web".to_owned()),
                ("tier".to_owned(), "edge".to_owned())
            ]),
            "identity labels are filtered as filterACMEIdentityLabels does"
        );
        assert_eq!(s.ingress_path_type, "ImplementationSpecific");
        assert_eq!(s.gateway_api_enabled, Some(true));
    }

    #[test]
    fn path_type_follows_the_version_and_the_gate() {
        let path = |v: Option<&str>, args: &[&str]| {
            SolverSettings::from_controller(Some(&cm(v, args)), None).ingress_path_type
        };
        let off = ["--feature-gates=ACMEHTTP01IngressPathTypeExact=false"];
        assert_eq!(path(Some("v1.17.4"), &[]), "ImplementationSpecific");
        assert_eq!(path(Some("v1.18.0"), &off), "Exact", "no gate in v1.18.0");
        assert_eq!(path(Some("v1.18.1"), &off), "ImplementationSpecific");
        assert_eq!(path(Some("v1.18.1"), &[]), "Exact");
        assert_eq!(path(Some("v1.21.0-beta.0"), &[]), "Exact");
        let unknown = SolverSettings::from_controller(Some(&cm(Some("latest"), &[])), None);
        assert_eq!(unknown.ingress_path_type, "Exact");
        assert!(unknown.notes[0].contains("\"latest\" is not vX.Y.Z"));
    }

    #[test]
    fn image_override_unknown_controller_and_config_file() {
        let s = SolverSettings::from_controller(None, None);
        assert_eq!((s.image, s.image_source), (None, ImageSource::Unknown));
        assert_eq!(s.gateway_api_enabled, None);
        assert!(s.notes[0].contains("not found"));
        let s = SolverSettings::from_controller(
            Some(&cm(
                Some("v1.19.1"),
                &["--config=/var/cert-manager/config.yaml"],
            )),
            Some("registry.local/acmesolver:v1.19.1"),
        );
        assert_eq!(s.image_source, ImageSource::Override);
        assert!(s.notes[0].contains("--config file"));
        let gate = SolverSettings::from_controller(
            Some(&cm(
                Some("v1.14.0"),
                &["--feature-gates=ExperimentalGatewayAPISupport=true"],
            )),
            None,
        );
        assert_eq!(gate.gateway_api_enabled, Some(true));
    }
}
