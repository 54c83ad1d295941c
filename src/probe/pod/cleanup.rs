//! `kubectl acmecheck cleanup [-n NS | -A]`: delete probe pods left behind (by a `kill -9`, a
//! lost connection) by their label, and say what was removed.

use super::MANAGED_SELECTOR;
use super::lifecycle::delete_pod;
use crate::cli::Cli;
use crate::error::{UserError, exit};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

/// Delete every probe pod in the namespace (or all namespaces with `-A`). Returns the exit code.
pub fn cleanup_main(cli: &Cli) -> i32 {
    match crate::run::block_on(cleanup(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) | Err(e) => {
            eprintln!("{e}");
            exit::CANNOT_DIAGNOSE
        }
    }
}

async fn cleanup(cli: &Cli) -> Result<i32, UserError> {
    let (client, namespace) = crate::gather::connect(&cli.kube).await?;
    let all = cli.kube.all_namespaces;
    let api: Api<Pod> = if all {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), &namespace)
    };
    let where_ = if all {
        "in any namespace".to_owned()
    } else {
        format!("in namespace {namespace:?}")
    };
    let pods = api
        .list(&ListParams::default().labels(MANAGED_SELECTOR))
        .await
        .map_err(|e| {
            let err = UserError::new(format!("cannot list probe pods {where_}"));
            match e {
                kube::Error::Api(s) if s.code == 403 => err.why(s.message.clone()).hint(
                    "cleanup needs list and delete on pods in that namespace (kubectl auth can-i delete pods -n NS)",
                ),
                other => err.why(other.to_string()),
            }
        })?;
    if pods.items.is_empty() {
        println!("no probe pods {where_}");
        return Ok(exit::OK);
    }
    let mut failed = 0;
    for pod in &pods.items {
        let ns = pod.metadata.namespace.as_deref().unwrap_or(&namespace);
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Unknown");
        match delete_pod(&client, ns, name).await {
            Ok(_) => println!("deleted pod {ns}/{name} ({phase})"),
            Err(e) => {
                failed += 1;
                eprintln!("error: cannot delete pod {ns}/{name}: {e}");
            }
        }
    }
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::CANNOT_DIAGNOSE
    })
}
