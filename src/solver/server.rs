//! The HTTP/1 server around [`super::handler::answer`]: hyper 1, one task per connection, as
//! cert-manager's acmesolver runs Go's `http.Server` (`Listen` in solver.go, the shutdown in
//! cmd/acmesolver/app/app.go `NewACMESolverCommand`):
//!
//! * `Addr: ":8089"`: every address of the pod, IPv6 and IPv4 on one `[::]` socket (Linux
//!   maps IPv4 onto it unless `net.ipv6.bindv6only` is set), `0.0.0.0` when the pod has no
//!   IPv6;
//! * `ReadHeaderTimeout: 32s`;
//! * on SIGTERM or SIGINT: stop accepting, let requests in flight finish, close idle
//!   connections, and give up after 5 s (`Shutdown` with a 5 s context); exit 0 either way.

use super::Served;
use super::handler::{self, Request};
use super::klog::{self, Value};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The acmesolver's ReadHeaderTimeout.
pub const READ_HEADER_TIMEOUT: Duration = Duration::from_secs(32);
/// The acmesolver's shutdown grace.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn write_log(source: &str, msg: &str, fields: &[(&str, Value)]) {
    let line = klog::line(std::time::SystemTime::now(), source, msg, fields);
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `[::]:port`, else `0.0.0.0:port` when this host has no IPv6.
async fn bind(port: u16) -> Result<TcpListener, String> {
    let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    match TcpListener::bind(v6).await {
        Ok(l) => Ok(l),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            Err(listen_error(port, &e))
        }
        Err(e6) => {
            let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            TcpListener::bind(v4)
                .await
                .map_err(|e4| format!("{} (and on [::]:{port}: {e6})", listen_error(port, &e4)))
        }
    }
}

fn listen_error(port: u16, e: &std::io::Error) -> String {
    let hint = match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            ": another process listens there; choose another with --listen-port"
        }
        std::io::ErrorKind::PermissionDenied => {
            ": ports below 1024 need CAP_NET_BIND_SERVICE; choose another with --listen-port"
        }
        _ => "",
    };
    format!("cannot listen on port {port}: {e}{hint}")
}

/// The handler's view of a hyper request.
fn request_of(req: &hyper::Request<Incoming>) -> Request {
    let uri = req.uri();
    let target_host = uri.scheme().and(uri.authority()).map(|a| {
        let s = a.as_str();
        s.rsplit_once('@').map_or(s, |(_, h)| h).to_owned()
    });
    let hosts = req
        .headers()
        .get_all(hyper::header::HOST)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in req.headers() {
        if name == hyper::header::HOST {
            continue;
        }
        headers
            .entry(super::gosem::canonical_header_key(name.as_str()))
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    // net/http fixPragmaCacheControl: "Pragma: no-cache" alone implies Cache-Control.
    if headers
        .get("Pragma")
        .is_some_and(|v| v.first().is_some_and(|p| p == "no-cache"))
    {
        headers
            .entry("Cache-Control".into())
            .or_insert_with(|| vec!["no-cache".into()]);
    }
    Request {
        method: req.method().as_str().to_owned(),
        http11: req.version() >= hyper::Version::HTTP_11,
        raw_path: uri.path().to_owned(),
        target_host,
        hosts,
        headers: headers.into_iter().collect(),
    }
}

fn respond(served: &Served, req: &hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let answer = handler::answer(served, &request_of(req));
    for log in &answer.logs {
        write_log(&log.source, log.msg, &log.fields);
    }
    let mut resp = hyper::Response::new(Full::new(Bytes::from(answer.body)));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::NOT_FOUND);
    let headers = resp.headers_mut();
    for (name, value) in answer.headers {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if answer.close {
        headers.insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Install the SIGTERM and SIGINT handlers now; the future ends at the first of them.
fn stop_signal() -> Result<impl Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Serve `served` on `port` until SIGTERM or SIGINT. `Err` only when it cannot start.
pub async fn run(served: Served, port: u16) -> Result<(), String> {
    // Handlers first: a signal between bind and accept must not kill the process.
    let stop = stop_signal()?;
    tokio::pin!(stop);
    let listener = bind(port).await?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    write_log(
        &format!("server.rs:{}", line!()),
        "starting listener",
        &[
            ("names", Value::Int(served.domains.len() as u64)),
            ("tokens", Value::Int(served.token_count() as u64)),
            ("listen_port", Value::Int(u64::from(local.port()))),
            ("address", Value::Str(local.to_string())),
        ],
    );
    let served = Arc::new(served);
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => {
                // A failed accept (a reset before accept, out of descriptors) drops that one
                // connection, as Go's Serve retries with a pause.
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let served = Arc::clone(&served);
                let mut shutdown = shutdown_rx.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        let resp = respond(&served, &req);
                        async move { Ok::<_, std::convert::Infallible>(resp) }
                    });
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(READ_HEADER_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => return,
                        _ = shutdown.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
                    }
                    let _ = conn.await;
                });
                // Reap finished connections so the set does not grow with every request.
                while conns.try_join_next().is_some() {}
            }
        }
    }
    drop(listener);
    let _ = shutdown_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
        write_log(
            &format!("server.rs:{}", line!()),
            "error shutting down acmesolver server",
            &[(
                "err",
                Value::Str("connections still active after 5s".into()),
            )],
        );
    }
    Ok(())
}
