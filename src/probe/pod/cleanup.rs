//! `kubectl acmecheck cleanup [-n NS | -A]`: delete what runs left behind (after a `kill -9`, a
//! lost connection) by the tool's label `app.kubernetes.io/managed-by=kubectl-acmecheck`: probe
//! pods, and the replay's stand-in HTTPRoutes, Ingresses, Services and pods (in that order, so
//! nothing routes to a Service that is already gone). Objects past their deadline annotation
//! are marked as such.

use super::MANAGED_SELECTOR;
use super::lifecycle::{delete_object, delete_pod};
use crate::cli::Cli;
use crate::error::{UserError, exit};
use crate::replay::apply::{kinds, overdue};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};

/// Delete every leftover in the namespace (or all namespaces with `-A`). Returns the exit code.
pub fn cleanup_main(cli: &Cli) -> i32 {
    match crate::run::block_on(cleanup(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) | Err(e) => {
            eprintln!("{e}");
            exit::CANNOT_DIAGNOSE
        }
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// One line of the report for a deleted object.
fn describe(ar: &ApiResource, ns: &str, obj: &DynamicObject, now: i64) -> String {
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    let kind = ar.kind.to_lowercase();
    let mut extra = Vec::new();
    if ar.kind == "Pod" {
        extra.push(
            obj.data
                .pointer("/status/phase")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("Unknown")
                .to_owned(),
        );
    }
    if let Some(s) = overdue(obj.metadata.annotations.as_ref(), now) {
        extra.push(format!("{s}s past its deadline"));
    }
    if extra.is_empty() {
        format!("deleted {kind} {ns}/{name}")
    } else {
        format!("deleted {kind} {ns}/{name} ({})", extra.join(", "))
    }
}

async fn cleanup(cli: &Cli) -> Result<i32, UserError> {
    let (client, namespace) = crate::gather::connect(&cli.kube).await?;
    let all = cli.kube.all_namespaces;
    let where_ = if all {
        "in any namespace".to_owned()
    } else {
        format!("in namespace {namespace:?}")
    };
    let now = now_unix();
    let api = |ar: &ApiResource| -> Api<DynamicObject> {
        if all {
            Api::all_with(client.clone(), ar)
        } else {
            Api::namespaced_with(client.clone(), &namespace, ar)
        }
    };
    let lp = ListParams::default().labels(MANAGED_SELECTOR);
    // Pods first: without them there is nothing to do (and the error is the one it always was).
    let [routes, ingresses, services, pods] = kinds();
    let pod_list = api(&pods).list(&lp).await.map_err(|e| {
        let err = UserError::new(format!("cannot list probe pods {where_}"));
        match e {
            kube::Error::Api(s) if s.code == 403 => err.why(s.message.clone()).hint(
                "cleanup needs list and delete on pods in that namespace (kubectl auth can-i delete pods -n NS)",
            ),
            other => err.why(other.to_string()),
        }
    })?;
    // Replay's kinds exist only where a replay ran: one that cannot be listed is said, not fatal.
    let mut listed = Vec::new();
    for ar in [routes, ingresses, services] {
        match api(&ar).list(&lp).await {
            Ok(l) => listed.push((ar, l.items)),
            // No Gateway API: no HTTPRoutes.
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                let why = match e {
                    kube::Error::Api(s) => s.message.clone(),
                    other => other.to_string(),
                };
                eprintln!(
                    "warning: cannot list {} {where_}, so replay leftovers of that kind were not looked for: {why}\n  hint: cleanup of replay leftovers needs list and delete on {}",
                    ar.plural, ar.plural
                );
            }
        }
    }
    listed.push((pods, pod_list.items));
    let (mut found, mut failed) = (0, 0);
    for (ar, items) in &listed {
        for obj in items {
            found += 1;
            let ns = obj.metadata.namespace.as_deref().unwrap_or(&namespace);
            let name = obj.metadata.name.as_deref().unwrap_or_default();
            let result = if ar.kind == "Pod" {
                delete_pod(&client, ns, name).await
            } else {
                delete_object(&client, ar, ns, name).await
            };
            match result {
                Ok(_) => println!("{}", describe(ar, ns, obj, now)),
                Err(e) => {
                    failed += 1;
                    eprintln!(
                        "error: cannot delete {} {ns}/{name}: {e}",
                        ar.kind.to_lowercase()
                    );
                }
            }
        }
    }
    if found == 0 && failed == 0 {
        println!("no probe pods {where_}");
    }
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::CANNOT_DIAGNOSE
    })
}
