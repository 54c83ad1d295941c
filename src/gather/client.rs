//! Build a kube Client from the kubectl flags, with errors a user can act on.

use crate::cli::KubeFlags;
use crate::error::UserError;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use std::path::{Path, PathBuf};

/// What to do when the kubeconfig user cannot authenticate.
pub const AUTH_HINT: &str = "check the kubeconfig user's credentials or auth plugin (log in again with your cloud CLI, or pick another --user/--context)";

/// A transport error on the way to the API server, tagged with the server URL so that
/// [`super::fetch()`] can say which server could not be reached.
#[derive(Debug)]
pub struct Unreachable {
    pub server: String,
    pub source: tower::BoxError,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot reach {}", self.server)
    }
}

impl std::error::Error for Unreachable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Where the kubeconfig comes from, kubectl's way: `--kubeconfig` (one file), else the
/// `$KUBECONFIG` list (missing files skipped, first wins), else `~/.kube/config`.
fn kubeconfig_files(flag: Option<&Path>) -> Result<Vec<PathBuf>, UserError> {
    find_kubeconfig(
        flag,
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn find_kubeconfig(
    flag: Option<&Path>,
    env: Option<std::ffi::OsString>,
    home: Option<PathBuf>,
) -> Result<Vec<PathBuf>, UserError> {
    if let Some(p) = flag {
        if !p.is_file() {
            return Err(
                UserError::new(format!("kubeconfig {} does not exist", p.display()))
                    .hint("pass an existing file with --kubeconfig"),
            );
        }
        return Ok(vec![p.to_owned()]);
    }
    if let Some(list) = env.filter(|v| !v.is_empty()) {
        let listed: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = listed.iter().filter(|p| p.is_file()).cloned().collect();
        if existing.is_empty() {
            let shown: Vec<String> = listed.iter().map(|p| p.display().to_string()).collect();
            return Err(UserError::new("no kubeconfig found")
                .why(format!(
                    "none of the files in $KUBECONFIG exist: {}",
                    shown.join(", ")
                ))
                .hint("fix $KUBECONFIG or pass --kubeconfig PATH"));
        }
        return Ok(existing);
    }
    let default = home.map(|h| h.join(".kube").join("config"));
    match default {
        Some(p) if p.is_file() => Ok(vec![p]),
        Some(p) => Err(UserError::new("no kubeconfig found")
            .why(format!(
                "$KUBECONFIG is not set and {} does not exist",
                p.display()
            ))
            .hint("pass --kubeconfig PATH, set $KUBECONFIG, or log in to your cluster first")),
        None => Err(UserError::new("no kubeconfig found")
            .why("$KUBECONFIG is not set and $HOME is unknown")
            .hint("pass --kubeconfig PATH or set $KUBECONFIG")),
    }
}

fn read_kubeconfig(files: &[PathBuf]) -> Result<Kubeconfig, UserError> {
    let mut merged = Kubeconfig::default();
    for f in files {
        let kc = Kubeconfig::read_from(f).map_err(|e| {
            UserError::new(format!("cannot read kubeconfig {}", f.display())).why(e.to_string())
        })?;
        merged = merged
            .merge(kc)
            .map_err(|e| UserError::new("cannot merge the kubeconfig files").why(e.to_string()))?;
    }
    Ok(merged)
}

/// A `--cluster`/`--user`/context name must exist in the kubeconfig.
fn require(
    wanted: Option<&str>,
    what: &str,
    names: &[&str],
    where_: &str,
    hint: &str,
) -> Result<(), UserError> {
    match wanted {
        Some(w) if !names.contains(&w) => Err(UserError::new(format!(
            "{what} {w:?} not found in {where_}"
        ))
        .why(if names.is_empty() {
            format!("the kubeconfig has no {what}s")
        } else {
            format!("{what}s: {}", names.join(", "))
        })
        .hint(hint.to_owned())),
        _ => Ok(()),
    }
}

/// Check the chosen context, cluster and user exist, listing what does when not.
fn check_names(kc: &Kubeconfig, flags: &KubeFlags, files: &[PathBuf]) -> Result<(), UserError> {
    let where_ = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let contexts: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    let clusters: Vec<&str> = kc.clusters.iter().map(|c| c.name.as_str()).collect();
    let users: Vec<&str> = kc.auth_infos.iter().map(|c| c.name.as_str()).collect();
    let context = flags.context.as_deref().or(kc.current_context.as_deref());
    if context.is_none() && flags.cluster.is_none() {
        return Err(UserError::new(format!("no current context in {where_}"))
            .why(format!("contexts: {}", contexts.join(", ")))
            .hint("pass --context NAME or run kubectl config use-context NAME"));
    }
    // Without --context, --cluster may stand in for a missing current context.
    if flags.context.is_some() || flags.cluster.is_none() {
        require(
            context,
            "context",
            &contexts,
            &where_,
            "pick one with --context NAME (kubectl config get-contexts)",
        )?;
    }
    require(
        flags.cluster.as_deref(),
        "cluster",
        &clusters,
        &where_,
        "pick one with --cluster NAME (kubectl config get-clusters)",
    )?;
    require(
        flags.user.as_deref(),
        "user",
        &users,
        &where_,
        "pick one with --user NAME (kubectl config get-users)",
    )
}

/// Inside a pod (a CronJob), as client-go's `rest.InClusterConfig` sees it.
fn in_a_pod() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some_and(|v| !v.is_empty())
}

/// The in-cluster config (the pod's ServiceAccount token, CA and namespace), used as kubectl
/// does when there is no kubeconfig and the process runs in a pod.
fn in_cluster(no_kubeconfig: UserError) -> Result<Config, UserError> {
    Config::incluster().map_err(|e| {
        UserError::new("no kubeconfig found, and the in-cluster config cannot be used")
            .why(format!("{no_kubeconfig}; in-cluster: {e}"))
            .hint("mount the pod's ServiceAccount token (automountServiceAccountToken), or pass --kubeconfig PATH")
    })
}

/// Build the client and pick the namespace (`-n`, else the context's, else `default`). Without
/// any kubeconfig (no `--kubeconfig`, `$KUBECONFIG` or `~/.kube/config`) inside a pod, the
/// in-cluster config (its ServiceAccount; the namespace is the pod's).
pub async fn connect(flags: &KubeFlags) -> Result<(kube::Client, String), UserError> {
    connect_with_server(flags).await.map(|(c, ns, _)| (c, ns))
}

/// [`connect`], and the API server's URL from the kubeconfig (this machine's resolver must
/// answer for its host when it is a name: `probe::health`).
pub async fn connect_with_server(
    flags: &KubeFlags,
) -> Result<(kube::Client, String, String), UserError> {
    let files = match kubeconfig_files(flags.kubeconfig.as_deref()) {
        Ok(files) => files,
        Err(e) if flags.kubeconfig.is_none() && in_a_pod() => {
            return client(in_cluster(e)?, flags);
        }
        Err(e) => return Err(e),
    };
    let kc = read_kubeconfig(&files)?;
    check_names(&kc, flags, &files)?;
    let opts = KubeConfigOptions {
        context: flags.context.clone(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| UserError::new("cannot use the kubeconfig").why(e.to_string()))?;
    client(cfg, flags)
}

/// The client for `cfg` with the flags' impersonation and timeouts, the namespace and the
/// API server's URL.
fn client(mut cfg: Config, flags: &KubeFlags) -> Result<(kube::Client, String, String), UserError> {
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
    let namespace = flags
        .namespace
        .clone()
        .unwrap_or_else(|| cfg.default_namespace.clone());
    let server = cfg.cluster_url.to_string().trim_end_matches('/').to_owned();
    let url = server.clone();
    let builder = kube::client::ClientBuilder::try_from(cfg).map_err(|e| match e {
        kube::Error::Auth(e) => UserError::new(format!(
            "cannot authenticate to the Kubernetes API server at {server}"
        ))
        .why(e.to_string())
        .hint(AUTH_HINT),
        e => UserError::new(format!("cannot set up a client for {server}")).why(e.to_string()),
    })?;
    let layer = tower::util::MapErrLayer::new(move |e: tower::BoxError| -> tower::BoxError {
        Box::new(Unreachable {
            server: server.clone(),
            source: e,
        })
    });
    Ok((builder.with_layer(&layer).build(), namespace, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("config");
        std::fs::write(&p, text).unwrap();
        p
    }

    const KC: &str = "apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster: {server: 'http://127.0.0.1:9'}
users:
- name: fake
  user: {token: abc}
contexts:
- name: fake
  context: {cluster: fake, user: fake, namespace: shop}
- name: prod
  context: {cluster: fake, user: fake}
";

    fn flags(path: &Path) -> KubeFlags {
        KubeFlags {
            kubeconfig: Some(path.to_owned()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn namespace_from_context_and_flag() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), KC);
        let (_, ns) = connect(&flags(&p)).await.unwrap();
        assert_eq!(ns, "shop");
        let mut f = flags(&p);
        f.context = Some("prod".into());
        let (_, ns) = connect(&f).await.unwrap();
        assert_eq!(ns, "default");
        f.namespace = Some("web".into());
        f.as_user = Some("jane".into());
        f.as_groups = vec!["ops".into()];
        f.request_timeout = Some(std::time::Duration::ZERO);
        let (_, ns) = connect(&f).await.unwrap();
        assert_eq!(ns, "web");
    }

    #[tokio::test]
    async fn unknown_context_lists_the_contexts() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), KC);
        let mut f = flags(&p);
        f.context = Some("staging".into());
        let err = connect(&f).await.err().unwrap().to_string();
        assert!(err.contains("context \"staging\" not found"), "{err}");
        assert!(err.contains("contexts: fake, prod"), "{err}");
        assert!(err.contains("--context"), "{err}");
        f.context = None;
        f.user = Some("nobody".into());
        let err = connect(&f).await.err().unwrap().to_string();
        assert!(err.contains("user \"nobody\" not found"), "{err}");
    }

    #[tokio::test]
    async fn missing_kubeconfig_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = connect(&flags(&missing)).await.err().unwrap().to_string();
        assert!(err.contains(&missing.display().to_string()), "{err}");
        assert!(err.contains("--kubeconfig"), "{err}");
    }

    #[test]
    fn kubeconfig_search_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), KC);
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&missing, &a]).unwrap();
        // $KUBECONFIG: missing files are skipped.
        assert_eq!(
            find_kubeconfig(None, Some(list), None).unwrap(),
            std::slice::from_ref(&a)
        );
        // None of them exist: say which were tried.
        let err = find_kubeconfig(None, Some(missing.clone().into()), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("none of the files in $KUBECONFIG exist"),
            "{err}"
        );
        assert!(err.contains(&missing.display().to_string()), "{err}");
        // No $KUBECONFIG: ~/.kube/config.
        let home = dir.path().join("home");
        let err = find_kubeconfig(None, None, Some(home.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&home.join(".kube/config").display().to_string()),
            "{err}"
        );
        assert!(err.contains("--kubeconfig"), "{err}");
        std::fs::create_dir_all(home.join(".kube")).unwrap();
        std::fs::copy(&a, home.join(".kube/config")).unwrap();
        assert_eq!(
            find_kubeconfig(None, None, Some(home.clone())).unwrap(),
            [home.join(".kube/config")]
        );
        // --kubeconfig wins over both.
        assert_eq!(
            find_kubeconfig(Some(&a), Some(missing.into()), Some(home)).unwrap(),
            [a]
        );
    }

    #[test]
    fn garbage_kubeconfig_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "clusters: [oops\n");
        let err = read_kubeconfig(&[p]).unwrap_err().to_string();
        assert!(err.contains("cannot read kubeconfig"), "{err}");
    }
}
