//! Build a kube `Client` the way kubectl would from its flags, with errors a user can act on.
//!
//! Kubeconfig lookup follows kubectl: `--kubeconfig` names one file; otherwise `$KUBECONFIG` is a
//! PATH-style list merged "first file wins" (missing files are skipped, as client-go does);
//! otherwise `~/.kube/config`. `--context/--cluster/--user` pick entries, `--as/--as-group`
//! impersonate and `--request-timeout` bounds every request (`0` = no limit).

use crate::cli::KubeFlags;
use crate::error::UserError;
use kube::config::{Config, KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::path::{Path, PathBuf};

/// The error a request fails with when the API server cannot be reached (or the transport
/// failed): it carries the server URL, which a kube `Client` does not expose.
#[derive(Debug)]
pub struct Transport {
    pub server: String,
    pub source: tower::BoxError,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", error_chain(self.source.as_ref()))
    }
}

impl std::error::Error for Transport {}

/// `a: b: c` from an error and its sources, without repeating a cause that is already part of
/// its parent's message.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}

/// Connect as kubectl would with these flags. Returns the client and the namespace to use
/// (`-n`, else the context's namespace, else `default`). Makes no API request.
pub async fn connect(flags: &KubeFlags) -> Result<(kube::Client, String), UserError> {
    let (kubeconfig, sources) = load_kubeconfig(flags)?;
    check_selection(&kubeconfig, flags, &sources)?;
    let opts = KubeConfigOptions {
        context: flags.context.clone(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
    };
    let mut cfg = Config::from_custom_kubeconfig(kubeconfig, &opts)
        .await
        .map_err(|e| kubeconfig_error(e, &sources))?;
    apply_flags(&mut cfg, flags);
    let namespace = flags
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cfg.default_namespace.clone());
    let server = cfg.cluster_url.to_string();
    let builder = kube::client::ClientBuilder::try_from(cfg).map_err(|e| {
        UserError::new(format!("cannot set up a client for the API server at {server}"))
            .why(error_chain(&e))
            .hint("check the cluster's certificate-authority and the user's credentials in the kubeconfig")
    })?;
    let tag = server.trim_end_matches('/').to_string();
    let client = builder
        .with_layer(&tower::util::MapErrLayer::new(
            move |e: tower::BoxError| -> tower::BoxError {
                Box::new(Transport {
                    server: tag.clone(),
                    source: e,
                })
            },
        ))
        .build();
    Ok((client, namespace))
}

/// Impersonation and timeouts from the flags.
fn apply_flags(cfg: &mut Config, flags: &KubeFlags) {
    if let Some(user) = &flags.as_user {
        cfg.auth_info.impersonate = Some(user.clone());
    }
    if !flags.as_groups.is_empty() {
        cfg.auth_info.impersonate_groups = Some(flags.as_groups.clone());
    }
    match flags.request_timeout {
        Some(t) if t.is_zero() => {
            cfg.connect_timeout = None;
            cfg.read_timeout = None;
            cfg.write_timeout = None;
        }
        Some(t) => {
            cfg.connect_timeout = Some(t);
            cfg.read_timeout = Some(t);
            cfg.write_timeout = Some(t);
            cfg.reset_reader_on_write = true;
        }
        None => {}
    }
}

/// Where the kubeconfig came from, for messages.
#[derive(Debug, Clone)]
struct Sources {
    files: Vec<PathBuf>,
}

impl Sources {
    fn describe(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        names.join(", ")
    }
}

fn load_kubeconfig(flags: &KubeFlags) -> Result<(Kubeconfig, Sources), UserError> {
    if let Some(path) = &flags.kubeconfig {
        if !path.exists() {
            return Err(UserError::new(format!(
                "the kubeconfig file {} (--kubeconfig) does not exist",
                path.display()
            ))
            .hint(
                "check the path, or leave out --kubeconfig to use $KUBECONFIG or ~/.kube/config",
            ));
        }
        let kc = read_file(path)?;
        return Ok((
            kc,
            Sources {
                files: vec![path.clone()],
            },
        ));
    }
    let env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let home_config = home_dir().map(|h| h.join(".kube").join("config"));
    if let Some(value) = env {
        let listed: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = listed.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            let names: Vec<String> = listed.iter().map(|p| p.display().to_string()).collect();
            return Err(UserError::new("no kubeconfig found")
                .why(format!(
                    "$KUBECONFIG names {}, and none of these files exists",
                    names.join(", ")
                ))
                .hint("fix $KUBECONFIG or pass --kubeconfig PATH"));
        }
        let mut merged = Kubeconfig::default();
        for p in &existing {
            let kc = read_file(p)?;
            merged = merged.merge(kc).map_err(|e| {
                UserError::new(format!("cannot merge the kubeconfig file {}", p.display()))
                    .why(e.to_string())
            })?;
        }
        return Ok((merged, Sources { files: existing }));
    }
    match home_config {
        Some(p) if p.exists() => {
            let kc = read_file(&p)?;
            Ok((kc, Sources { files: vec![p] }))
        }
        other => {
            let looked = other
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "~/.kube/config ($HOME is not set)".into());
            Err(UserError::new("no kubeconfig found")
                .why(format!(
                    "$KUBECONFIG is not set and {looked} does not exist"
                ))
                .hint("pass --kubeconfig PATH, or set KUBECONFIG to your cluster's kubeconfig"))
        }
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn read_file(path: &Path) -> Result<Kubeconfig, UserError> {
    Kubeconfig::read_from(path).map_err(|e| {
        UserError::new(format!(
            "cannot read the kubeconfig file {}",
            path.display()
        ))
        .why(error_chain(&e))
        .hint("check that the file is a valid kubeconfig (kubectl config view --kubeconfig PATH)")
    })
}

/// Check `--context/--cluster/--user` (and the current context) against what exists, so the
/// message can list the choices. kube would silently use an empty user for an unknown `--user`.
fn check_selection(kc: &Kubeconfig, flags: &KubeFlags, src: &Sources) -> Result<(), UserError> {
    let contexts: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    let list = |names: &[&str]| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let context_name = match (&flags.context, &kc.current_context) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) if !c.is_empty() => c.clone(),
        _ => {
            return Err(UserError::new(format!(
                "the kubeconfig ({}) has no current context",
                src.describe()
            ))
            .hint(format!(
                "pick one with --context NAME (contexts: {}) or run: kubectl config use-context NAME",
                list(&contexts)
            )));
        }
    };
    let Some(context) = kc
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
    else {
        return Err(UserError::new(format!(
            "context \"{context_name}\" is not in the kubeconfig ({})",
            src.describe()
        ))
        .hint(format!("contexts that exist: {}", list(&contexts))));
    };
    let clusters: Vec<&str> = kc.clusters.iter().map(|c| c.name.as_str()).collect();
    let cluster_name = flags
        .cluster
        .clone()
        .unwrap_or_else(|| context.cluster.clone());
    if !clusters.contains(&cluster_name.as_str()) {
        let via = if flags.cluster.is_some() {
            "--cluster".to_string()
        } else {
            format!("context \"{context_name}\"")
        };
        return Err(UserError::new(format!(
            "cluster \"{cluster_name}\" (from {via}) is not in the kubeconfig ({})",
            src.describe()
        ))
        .hint(format!("clusters that exist: {}", list(&clusters))));
    }
    if let Some(user) = &flags.user {
        let users: Vec<&str> = kc.auth_infos.iter().map(|u| u.name.as_str()).collect();
        if !users.contains(&user.as_str()) {
            return Err(UserError::new(format!(
                "user \"{user}\" (--user) is not in the kubeconfig ({})",
                src.describe()
            ))
            .hint(format!("users that exist: {}", list(&users))));
        }
    }
    Ok(())
}

fn kubeconfig_error(e: KubeconfigError, src: &Sources) -> UserError {
    let hint = match &e {
        KubeconfigError::MissingClusterUrl | KubeconfigError::ParseClusterUrl(_) => {
            "set the cluster's server URL: kubectl config set-cluster NAME --server=https://HOST:PORT"
        }
        KubeconfigError::LoadCertificateAuthority(_)
        | KubeconfigError::LoadClientCertificate(_)
        | KubeconfigError::LoadClientKey(_)
        | KubeconfigError::ParseCertificates(_) => {
            "check the certificate and key files or data named in the kubeconfig"
        }
        _ => "check the kubeconfig with: kubectl config view",
    };
    UserError::new(format!("cannot use the kubeconfig ({})", src.describe()))
        .why(error_chain(&e))
        .hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const KC: &str = r#"
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster: {server: "http://127.0.0.1:1"}
contexts:
- name: fake
  context: {cluster: fake, user: me, namespace: shop}
- name: other
  context: {cluster: fake, user: me}
users:
- name: me
  user: {token: abc}
"#;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    async fn err(fl: &KubeFlags) -> String {
        match connect(fl).await {
            Ok(_) => panic!("connect succeeded"),
            Err(e) => e.to_string(),
        }
    }

    fn flags(path: &Path) -> KubeFlags {
        KubeFlags {
            kubeconfig: Some(path.to_path_buf()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn namespace_from_context_flag_and_default() {
        let f = file(KC);
        let (_, ns) = connect(&flags(f.path())).await.unwrap();
        assert_eq!(ns, "shop");
        let mut fl = flags(f.path());
        fl.namespace = Some("web".into());
        assert_eq!(connect(&fl).await.unwrap().1, "web");
        let mut fl = flags(f.path());
        fl.context = Some("other".into());
        assert_eq!(connect(&fl).await.unwrap().1, "default");
    }

    #[tokio::test]
    async fn unknown_context_lists_the_existing_ones() {
        let f = file(KC);
        let mut fl = flags(f.path());
        fl.context = Some("prod".into());
        let e = err(&fl).await;
        assert!(
            e.contains("context \"prod\" is not in the kubeconfig"),
            "{e}"
        );
        assert!(e.contains("contexts that exist: fake, other"), "{e}");
        let mut fl = flags(f.path());
        fl.user = Some("bob".into());
        let e = err(&fl).await;
        assert!(e.contains("users that exist: me"), "{e}");
        let mut fl = flags(f.path());
        fl.cluster = Some("nope".into());
        let e = err(&fl).await;
        assert!(e.contains("clusters that exist: fake"), "{e}");
    }

    #[tokio::test]
    async fn missing_kubeconfig_says_where_it_looked() {
        let fl = flags(Path::new("/nonexistent/kubeconfig"));
        let e = err(&fl).await;
        assert!(
            e.contains("/nonexistent/kubeconfig (--kubeconfig) does not exist"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn no_current_context() {
        let f = file(&KC.replace("current-context: fake", ""));
        let e = err(&flags(f.path())).await;
        assert!(e.contains("has no current context"), "{e}");
        assert!(e.contains("contexts: fake, other"), "{e}");
    }

    #[tokio::test]
    async fn garbage_kubeconfig() {
        let f = file("clusters: 5\n");
        let e = err(&flags(f.path())).await;
        assert!(e.contains("cannot read the kubeconfig file"), "{e}");
    }

    #[test]
    fn request_timeout_and_impersonation() {
        let mut cfg = Config::new("http://127.0.0.1:1".parse().unwrap());
        let fl = KubeFlags {
            request_timeout: Some(std::time::Duration::from_secs(5)),
            as_user: Some("jane".into()),
            as_groups: vec!["ops".into()],
            ..Default::default()
        };
        apply_flags(&mut cfg, &fl);
        assert_eq!(cfg.read_timeout, Some(std::time::Duration::from_secs(5)));
        assert_eq!(cfg.auth_info.impersonate.as_deref(), Some("jane"));
        assert_eq!(
            cfg.auth_info.impersonate_groups,
            Some(vec!["ops".to_string()])
        );
        let fl = KubeFlags {
            request_timeout: Some(std::time::Duration::ZERO),
            ..Default::default()
        };
        apply_flags(&mut cfg, &fl);
        assert_eq!((cfg.connect_timeout, cfg.read_timeout), (None, None));
    }
}
