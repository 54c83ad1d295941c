//! After the stand-in pods are ready, the ingress controller or Gateway still has to program
//! the route: wait, for a bounded time, until the challenge path serves the stand-in's key from
//! this machine (one request per resolved address per round, every 500 ms), so the probes that
//! follow measure the data plane and not a route that is not there yet.
//!
//! The wait ends early when the name does not resolve from this machine (DNS does not change by
//! waiting for a route) and otherwise at the bound: then [`Propagation::finished`] is false and
//! the report says so, with what the last round saw. A data plane that never serves the key
//! (the wrong one answers) also ends here, after the whole wait.

use super::live::LiveSolver;
use crate::evidence::replay::Propagation;
use crate::probe::dns::{self, Source};
use crate::probe::http::{self, Settings, Url};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Pause between rounds.
const ROUND: Duration = Duration::from_millis(500);
/// Time limit of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// What one round saw for one name.
enum Round {
    Served,
    /// Not served yet: what answered instead.
    Not(String),
    /// The name does not resolve here: waiting does not help.
    NoDns(String),
}

/// One round for `s`; each address it sent a request to is added to `asked`.
async fn round(s: &LiveSolver, settings: &Settings, asked: &mut Vec<IpAddr>) -> Round {
    let url_text = format!(
        "http://{}{}/{}",
        if s.dns_name.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{}]", s.dns_name)
        } else {
            s.dns_name.clone()
        },
        super::CHALLENGE_PATH,
        s.token
    );
    let Ok(url) = Url::parse(&url_text) else {
        return Round::NoDns(format!("{url_text} is not a valid URL"));
    };
    let addrs: Vec<IpAddr> = match s.dns_name.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let answer = dns::resolve(&s.dns_name, &Source::System, "primary").await;
            let ips: Vec<IpAddr> = answer
                .a
                .iter()
                .chain(&answer.aaaa)
                .filter_map(|a| a.parse().ok())
                .collect();
            if ips.is_empty() {
                return Round::NoDns(format!(
                    "{} does not resolve from this machine ({})",
                    s.dns_name,
                    answer.error.map_or_else(
                        || "no A or AAAA record".to_owned(),
                        |e| e.as_str().to_owned()
                    )
                ));
            }
            ips
        }
    };
    let mut seen = Vec::new();
    for ip in addrs {
        asked.push(ip);
        let ex = http::attempt(&url, SocketAddr::new(ip, url.port), settings).await;
        if ex.status == Some(200) && ex.body.trim_ascii() == s.key.as_bytes() {
            return Round::Served;
        }
        seen.push(match (ex.status, &ex.error) {
            (Some(code), _) => format!(
                "{ip}: {code}{}",
                if ex.responder.is_empty() || ex.responder == "-" {
                    String::new()
                } else {
                    format!(" from {}", ex.responder)
                }
            ),
            (None, Some(e)) => format!("{ip}: {e}"),
            (None, None) => format!("{ip}: no answer"),
        });
    }
    Round::Not(seen.join(", "))
}

/// Names asked at once in a round (a shared stand-in serves hundreds).
const AT_ONCE: usize = 16;

/// What the wait saw: per stand-in (in the order given), `None` when its path served the key,
/// else what the last round saw (or why waiting could not help); and the requests it sent.
#[derive(Debug, Clone, Default)]
pub struct Waited {
    pub elapsed: Duration,
    pub bound: Duration,
    pub outcomes: Vec<Option<String>>,
    /// Requests (each a fresh connection) per address, as the probe reports count theirs.
    pub requests: std::collections::BTreeMap<String, u32>,
}

impl Waited {
    /// The propagation of the stand-ins `which` selects (by index).
    pub fn summary(&self, which: impl Fn(usize) -> bool) -> Propagation {
        let detail: Vec<&str> = self
            .outcomes
            .iter()
            .enumerate()
            .filter(|(i, _)| which(*i))
            .filter_map(|(_, o)| o.as_deref())
            .collect();
        Propagation {
            finished: detail.is_empty(),
            waited_ms: u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
            detail: if detail.is_empty() {
                format!(
                    "the path served the key from this machine after {:.1}s",
                    self.elapsed.as_secs_f64()
                )
            } else {
                detail.join("; ")
            },
        }
    }
}

/// Wait until every stand-in's path serves its key from this machine, at most `bound`.
/// `progress` is told what is being waited for.
pub async fn wait(
    solvers: &[LiveSolver],
    bound: Duration,
    user_agent: &str,
    progress: impl FnMut(&str),
) -> Propagation {
    let solvers: Vec<&LiveSolver> = solvers.iter().collect();
    wait_each(&solvers, bound, user_agent, progress)
        .await
        .summary(|_| true)
}

/// [`wait`], with what each stand-in saw. Kind to the load balancers a shared stand-in's
/// hundreds of names sit behind: at most [`AT_ONCE`] names are asked at a time, a name that
/// served its key is not asked again, and the wait pauses [`ROUND`] only after a batch in which
/// nothing new was served — so every name is asked once when the route is there, and only the
/// names still not served are asked again.
pub async fn wait_each(
    solvers: &[&LiveSolver],
    bound: Duration,
    user_agent: &str,
    mut progress: impl FnMut(&str),
) -> Waited {
    use futures::StreamExt;
    let started = Instant::now();
    let not_asked = |s: &LiveSolver| {
        Some(format!(
            "{} not served within {}s: not asked before the wait ended",
            s.dns_name,
            bound.as_secs()
        ))
    };
    let mut outcomes: Vec<Option<String>> = solvers.iter().map(|s| not_asked(s)).collect();
    let mut requests = std::collections::BTreeMap::new();
    let mut pending: std::collections::VecDeque<usize> = (0..solvers.len()).collect();
    while !pending.is_empty() {
        let batch: Vec<usize> = (0..AT_ONCE.min(pending.len()))
            .filter_map(|_| pending.pop_front())
            .collect();
        let seen: Vec<(usize, Round, Vec<IpAddr>)> = futures::stream::iter(batch)
            .map(|i| async move {
                let s = solvers[i];
                let settings = Settings::new(user_agent, REQUEST_TIMEOUT, &s.key);
                let mut asked = Vec::new();
                let r = round(s, &settings, &mut asked).await;
                (i, r, asked)
            })
            .buffer_unordered(AT_ONCE)
            .collect()
            .await;
        let mut served_now = false;
        let mut again = Vec::new();
        for (i, r, asked) in seen {
            for ip in asked {
                *requests.entry(ip.to_string()).or_insert(0u32) += 1;
            }
            outcomes[i] = match r {
                Round::Served => {
                    served_now = true;
                    None
                }
                Round::Not(what) => {
                    again.push(i);
                    Some(format!(
                        "{} not served within {}s: {what}",
                        solvers[i].dns_name,
                        bound.as_secs()
                    ))
                }
                Round::NoDns(why) => Some(why),
            };
        }
        again.sort_unstable();
        pending.extend(again);
        if pending.is_empty() || started.elapsed() + ROUND >= bound {
            break;
        }
        if served_now {
            continue;
        }
        let names: Vec<&str> = pending
            .iter()
            .take(3)
            .map(|&i| solvers[i].dns_name.as_str())
            .collect();
        progress(&format!(
            "replay: waiting for the data plane to serve the stand-in's path for {}{} ({}s of {}s)",
            names.join(", "),
            if pending.len() > names.len() {
                format!(" and {} more", pending.len() - names.len())
            } else {
                String::new()
            },
            started.elapsed().as_secs(),
            bound.as_secs()
        ));
        tokio::time::sleep(ROUND).await;
    }
    Waited {
        elapsed: started.elapsed(),
        bound,
        outcomes,
        requests,
    }
}
