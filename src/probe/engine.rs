//! Runs a [`ProbePlan`]: resolve every target with every resolver, then many fresh connections
//! to every address, bounded in concurrency; aggregate outcomes; emulate the verdicts.

use super::addrsel;
use super::budget::Ledger;
use super::dns;
use super::http::{self, Exchange, Settings, Url};
use super::judge::CaRules;
use super::perspectives::Day;
use super::plan::*;
use super::verdict::{self, CaContext};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Run a plan to completion. Never fails: what could not be done is recorded in the report.
pub async fn run_plan(plan: &ProbePlan) -> ProbeReport {
    run_plan_observed(plan, &|_: &TargetReport| {}).await
}

/// What [`run_plan_observed`] calls as each target is finished.
pub type Observer<'a> = &'a (dyn Fn(&TargetReport) + Sync);

/// [`run_plan`], calling `observe` with each target's report as soon as that target is
/// finished (for a progress line): its verdicts are final then, qualified by the vantage's
/// own check (`health::qualify`) as in the returned report, so an observer judges exactly what
/// the report will hold. Only the egress witness (`TargetReport::egress`, shared by every
/// target of an ACME server) is attached after all targets. Each target waits for the
/// vantage's check, which runs beside the targets from the start.
pub async fn run_plan_observed(plan: &ProbePlan, observe: Observer<'_>) -> ProbeReport {
    use futures::FutureExt;
    let started = Instant::now();
    let started_at = crate::time::rfc3339(crate::time::now_unix());
    let opts = &plan.options;
    let permits = Arc::new(Semaphore::new(opts.concurrency.clamp(1, 1024) as usize));
    let ledger = Ledger::new(opts.budget);
    // Many names at once (a budgeted plan) must not flood the resolver they are asked of (the
    // cluster DNS from the probe pod): a few names resolve at a time.
    let lookups = Semaphore::new(if opts.budget.is_some() {
        super::budget::NAMES_RESOLVED_AT_ONCE
    } else {
        Semaphore::MAX_PERMITS
    });
    // The vantage's own check, awaited by every target (and once more below, so that it
    // completes with no target too).
    let health = super::health::check(opts, &started_at).shared();
    let (mut targets, witnesses, _) = futures::future::join3(
        futures::future::join_all(plan.targets.iter().map(|t| {
            let health = health.clone();
            let (permits, ledger, lookups) = (permits.clone(), &ledger, &lookups);
            async move {
                let mut r = run_target(t, opts, permits, ledger, lookups).await;
                if let Some(h) = health.await {
                    super::health::qualify(&mut r, &h);
                    r.health = Some(h);
                }
                observe(&r);
                r
            }
        })),
        // The egress witness runs beside the challenge probes (see `egress`).
        super::egress::run_all(&plan.targets, opts),
        health,
    )
    .await;
    super::egress::attach(&mut targets, &plan.targets, &witnesses);
    let vantage = opts.vantage.clone().unwrap_or_else(|| "local".to_owned());
    ProbeReport {
        api_version: API_VERSION.to_owned(),
        vantage,
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        targets,
    }
}

fn target_url(t: &Target) -> String {
    if !t.url.is_empty() {
        return t.url.clone();
    }
    let host = if t.dns_name.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{}]", t.dns_name)
    } else {
        t.dns_name.clone()
    };
    format!("http://{host}/.well-known/acme-challenge/{}", t.token)
}

/// How long the CA waits for an answer once connected: Pebble 15 s (`va/va.go`
/// `validationTimeout`); Boulder about 20 s (its RPC deadline in its own configuration,
/// `test/config/ra.json`; production's is not public); private servers as cert-manager. Only
/// with cert-manager's own 10 s: a plan that shortens `timeoutMs` shortens every deadline.
fn ca_timeout(ca: CaProfile, cm: Duration) -> Duration {
    if cm < Duration::from_millis(DEFAULT_TIMEOUT_MS) {
        return cm;
    }
    let own = match ca {
        CaProfile::Letsencrypt => Duration::from_secs(20),
        CaProfile::Pebble => Duration::from_secs(15),
        CaProfile::Private | CaProfile::Public => cm,
    };
    own.max(cm)
}

/// The CA's port for the first request when it is not the URL's (Pebble's `httpPort`).
fn ca_port(ca: CaProfile, opts: &ProbeOptions, url: &Url) -> Option<u16> {
    let pebble = opts.pebble.as_ref()?;
    (ca == CaProfile::Pebble && pebble.http_port != url.port && !pebble.always_valid)
        .then_some(pebble.http_port)
}

async fn run_target(
    t: &Target,
    opts: &ProbeOptions,
    permits: Arc<Semaphore>,
    ledger: &Ledger,
    lookups: &Semaphore,
) -> TargetReport {
    let url_text = target_url(t);
    let ca = t.ca_profile.unwrap_or(opts.ca_profile);
    let mut report = TargetReport {
        id: t.id.clone(),
        url: url_text.clone(),
        dns_name: t.dns_name.clone(),
        expected_key: t.expected_key.clone(),
        ca_profile: ca,
        ..Default::default()
    };
    let url = match Url::parse(&url_text) {
        Ok(u) => u,
        Err(e) => {
            report.verdicts.self_check.reason = format!("invalid URL: {e}");
            report.verdicts.acme.reason = report.verdicts.self_check.reason.clone();
            return report;
        }
    };
    let timeout = Duration::from_millis(opts.timeout_ms.max(1));
    let mut settings = Settings::new(&opts.user_agent, timeout, &t.expected_key);
    settings.ca_timeout = ca_timeout(ca, timeout);
    settings.proxy = if opts.proxy_unknown.is_some() {
        None
    } else {
        opts.proxy.clone()
    };
    settings.nameservers = dns::parse_servers(&opts.nameservers).unwrap_or_default();
    let rules = CaRules {
        profile: ca,
        pebble_port: opts.pebble.as_ref().map_or(80, |p| p.http_port),
    };

    let addresses = {
        // A closed semaphore cannot happen (never closed); resolve unthrottled if it did.
        let _permit = lookups.acquire().await.ok();
        dns::resolve_target(&url, opts, &mut report.dns).await
    };
    let fixed = opts.attempts_per_address.map(|n| n.clamp(1, MAX_ATTEMPTS));
    let probe = |url: Url, addresses: Vec<(IpAddr, Vec<String>)>| {
        let (settings, permits) = (&settings, &permits);
        async move {
            let mut out = futures::future::join_all(addresses.iter().map(|(ip, by)| {
                probe_address(
                    &url,
                    *ip,
                    by.clone(),
                    settings,
                    rules,
                    permits,
                    fixed,
                    ledger,
                )
            }))
            .await;
            out.sort_by_key(|a| a.is_ipv6());
            out
        }
    };
    report.addresses = probe(url.clone(), addresses.clone()).await;
    if let Some(port) = ca_port(ca, opts, &url) {
        report.ca_addresses = probe(url.with_port(port), addresses).await;
    }

    for d in opts
        .direct_targets
        .iter()
        .filter(|d| d.id == t.id || d.id == EVERY_TARGET)
    {
        report
            .direct
            .push(run_direct(d, &url, &settings, rules, &permits, ledger).await);
    }
    let day = opts
        .validation_date
        .as_deref()
        .and_then(|d| Day::parse(d).ok())
        .unwrap_or_else(Day::today);
    let ctx = CaContext {
        profile: ca,
        day,
        remotes: opts.letsencrypt_remotes,
        pebble: opts.pebble.clone().unwrap_or_default(),
    };
    let in_cluster = opts.vantage.as_deref() == Some("in-cluster");
    let self_check = match &opts.proxy_unknown {
        Some(why) => Verdict {
            reason: format!("{why}: the self check's path is not known, not observable"),
            ..Default::default()
        },
        None => verdict::self_check(&report, in_cluster),
    };
    report.verdicts = Verdicts {
        self_check,
        acme: verdict::ca(&report, &ctx),
    };
    report
}

/// Every attempt on one address (adaptive or fixed), the arrival order when mixed, the PROXY
/// protocol follow-up when it looks like one, and where this vantage reaches it from; each
/// batch as the plan's connection budget grants it (`ledger`).
#[allow(clippy::too_many_arguments)]
async fn probe_address(
    url: &Url,
    ip: IpAddr,
    resolved_by: Vec<String>,
    settings: &Settings,
    rules: CaRules,
    permits: &Arc<Semaphore>,
    fixed: Option<u32>,
    ledger: &Ledger,
) -> AddressReport {
    let batch = Batch {
        url,
        addr: SocketAddr::new(ip, url.port),
        settings,
        ca: rules,
        permits,
    };
    let mut agg = Aggregate::default();
    let wanted = ledger.first(fixed);
    let first = ledger.grant(batch.addr, wanted);
    batch.run(&mut agg, 0, first).await;
    if agg.outcomes.len() > 1
        && let Some(total) = ledger.mixed_total(fixed)
    {
        let more = ledger.grant(batch.addr, total.saturating_sub(first));
        batch.run(&mut agg, first, first + more).await;
    }
    // Only a mix of passes and failures makes the order matter to a verdict.
    let mixed = |passes: u32| passes > 0 && passes < agg.attempts;
    let arrival_order = if (mixed(agg.cm_passes) || mixed(agg.acme_passes))
        && ledger.grant(batch.addr, ARRIVAL_ORDER_ATTEMPTS) == ARRIVAL_ORDER_ATTEMPTS
    {
        Some(batch.arrival_order().await)
    } else {
        None
    };
    let followup = if looks_like_proxy_protocol_listener(&agg)
        && ledger.grant(batch.addr, PROXY_FOLLOWUP_ATTEMPTS) == PROXY_FOLLOWUP_ATTEMPTS
    {
        proxy_protocol_followup(&batch, &agg).await
    } else {
        None
    };
    let mut report = agg.into_address(&ip, resolved_by);
    report.capped = first < wanted;
    match addrsel::source_for(ip) {
        Some(src) => report.source_address = src.to_string(),
        None => report.unroutable = true,
    }
    report.with_proxy_protocol = followup;
    report.arrival_order = arrival_order;
    report
}

async fn run_direct(
    d: &DirectTarget,
    url: &Url,
    settings: &Settings,
    ca: CaRules,
    permits: &Arc<Semaphore>,
    ledger: &Ledger,
) -> DirectResult {
    let mut result = DirectResult {
        address: d.address.clone(),
        host: if d.host.is_empty() {
            url.host.clone()
        } else {
            d.host.clone()
        },
        path: if d.path.is_empty() {
            url.path.clone()
        } else {
            d.path.clone()
        },
        label: d.label.clone(),
        ..Default::default()
    };
    let Ok(addr) = d.address.parse::<SocketAddr>() else {
        result.samples.push(Attempt {
            error_class: Some(ErrorClass::Io),
            error: Some(format!("invalid address {:?}", d.address)),
            ..Default::default()
        });
        return result;
    };
    // The Host header carries the name only (as the data plane sees it behind port 80).
    let direct_url = Url {
        scheme: "http".into(),
        host: result.host.clone(),
        port: addr.port(),
        explicit_port: false,
        path: result.path.clone(),
    };
    let mut agg = Aggregate::default();
    let mut direct_settings = settings.clone();
    direct_settings.proxy_protocol = d.proxy_protocol;
    // A direct probe asks the data plane itself: never through the controller's HTTP proxy.
    direct_settings.proxy = None;
    let batch = Batch {
        url: &direct_url,
        addr,
        settings: &direct_settings,
        ca,
        permits,
    };
    let n = ledger.grant(addr, ledger.direct());
    result.capped = n < ledger.direct();
    batch.run(&mut agg, 0, n).await;
    result.with_proxy_protocol = if looks_like_proxy_protocol_listener(&agg)
        && ledger.grant(addr, PROXY_FOLLOWUP_ATTEMPTS) == PROXY_FOLLOWUP_ATTEMPTS
    {
        proxy_protocol_followup(&batch, &agg).await
    } else {
        None
    };
    result.attempts = agg.attempts;
    result.cert_manager_passes = agg.cm_passes;
    result.proxy_protocol = d.proxy_protocol;
    result.outcomes = agg.sorted_outcomes();
    result.samples = agg.samples;
    result
}

/// Whether plain attempts ended the way a PROXY-protocol listener answers a request without
/// the preamble: none passed, and at least half were closed or reset before a response, were
/// not HTTP, or got 400 (nginx logs `broken header` and closes; some answer 400).
fn looks_like_proxy_protocol_listener(agg: &Aggregate) -> bool {
    if agg.attempts == 0 || agg.cm_passes > 0 {
        return false;
    }
    let suspicious: u32 = agg
        .outcomes
        .values()
        .filter(|o| {
            o.status == Some(400)
                || matches!(
                    o.error_class,
                    Some(ErrorClass::Eof | ErrorClass::ConnectionReset | ErrorClass::HttpProtocol)
                )
        })
        .map(|o| o.count)
        .sum();
    suspicious * 2 >= agg.attempts
}

/// The adaptive PROXY protocol follow-up: when plain attempts look like a PROXY-protocol
/// listener, [`PROXY_FOLLOWUP_ATTEMPTS`] more with the preamble (never when the preamble was
/// already sent, or the attempts went through an HTTP proxy).
async fn proxy_protocol_followup(
    batch: &Batch<'_>,
    plain: &Aggregate,
) -> Option<ProxyProtocolProbe> {
    if batch.settings.proxy_protocol
        || batch.settings.proxy_for(batch.url).is_some()
        || !looks_like_proxy_protocol_listener(plain)
    {
        return None;
    }
    let mut settings = batch.settings.clone();
    settings.proxy_protocol = true;
    let with = Batch {
        settings: &settings,
        ..*batch
    };
    let mut agg = Aggregate::default();
    with.run(&mut agg, 0, PROXY_FOLLOWUP_ATTEMPTS).await;
    let responses = agg
        .outcomes
        .values()
        .filter(|o| o.status.is_some())
        .map(|o| o.count)
        .sum();
    Some(ProxyProtocolProbe {
        attempts: agg.attempts,
        cert_manager_passes: agg.cm_passes,
        responses,
        outcomes: agg.sorted_outcomes(),
    })
}

#[derive(Default)]
struct Aggregate {
    attempts: u32,
    outcomes: BTreeMap<String, OutcomeCount>,
    samples: Vec<Attempt>,
    times: Vec<u64>,
    cm_passes: u32,
    acme_passes: u32,
}

impl Aggregate {
    fn add(&mut self, index: u32, ex: Exchange, url: &str, key: &str, ca: CaRules) {
        let j = http::judge(&ex, url, key, ca);
        let redirect_chain: Vec<String> = ex
            .hops
            .iter()
            .take(ex.hops.len().saturating_sub(1))
            .map(|h| {
                format!(
                    "{} {}",
                    h.status.map_or("-".to_owned(), |s| s.to_string()),
                    h.url
                )
            })
            .collect();
        let responder = if ex.responder.is_empty() {
            "-".to_owned()
        } else {
            ex.responder.clone()
        };
        let outcome_key = format!(
            "{:?}|{:?}|{}|{:?}|{}|{}|{}",
            ex.status,
            ex.error_class,
            responder,
            j.key_match,
            redirect_chain.join(" > "),
            j.cert_manager_pass,
            j.acme_pass
        );
        self.attempts += 1;
        self.cm_passes += u32::from(j.cert_manager_pass);
        self.acme_passes += u32::from(j.acme_pass);
        self.times.push(ex.total_ms);
        let entry = self
            .outcomes
            .entry(outcome_key)
            .or_insert_with(|| OutcomeCount {
                status: ex.status,
                error_class: ex.error_class,
                responder: responder.clone(),
                key_match: j.key_match,
                redirect_chain,
                cert_manager_pass: j.cert_manager_pass,
                acme_pass: j.acme_pass,
                cert_manager_error: j.cert_manager_error.clone(),
                acme_error: j.acme_error.clone(),
                count: 0,
            });
        entry.count += 1;
        if entry.count == 1 && self.samples.len() < MAX_SAMPLES_PER_ADDRESS {
            self.samples.push(sample(index, &ex, &responder, &j));
        }
    }

    fn sorted_outcomes(&self) -> Vec<OutcomeCount> {
        let mut v: Vec<OutcomeCount> = self.outcomes.values().cloned().collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.status.cmp(&b.status)));
        v
    }

    fn into_address(mut self, ip: &IpAddr, resolved_by: Vec<String>) -> AddressReport {
        self.times.sort_unstable();
        AddressReport {
            address: ip.to_string(),
            family: if ip.is_ipv6() { "ipv6" } else { "ipv4" }.to_owned(),
            resolved_by,
            attempts: self.attempts,
            outcomes: self.sorted_outcomes(),
            cert_manager_passes: self.cm_passes,
            acme_passes: self.acme_passes,
            median_ms: self.times.get(self.times.len() / 2).copied().unwrap_or(0),
            max_ms: self.times.last().copied().unwrap_or(0),
            samples: self.samples,
            ..Default::default()
        }
    }
}

/// Attempts against one address, sharing the plan-wide concurrency limit.
struct Batch<'a> {
    url: &'a Url,
    addr: SocketAddr,
    settings: &'a Settings,
    ca: CaRules,
    permits: &'a Arc<Semaphore>,
}

impl Batch<'_> {
    /// Run attempts `from..to` and add them to `agg`.
    async fn run(&self, agg: &mut Aggregate, from: u32, to: u32) {
        let url_text = self.url.to_string();
        let results = futures::future::join_all((from..to).map(|i| async move {
            // A closed semaphore cannot happen (we never close it); run unthrottled if it did.
            let _permit = self.permits.clone().acquire_owned().await.ok();
            (i, http::attempt(self.url, self.addr, self.settings).await)
        }))
        .await;
        for (i, ex) in results {
            agg.add(i, ex, &url_text, &self.settings.expected_key, self.ca);
        }
    }
}

/// Stop sending attempts one at a time after this long (a slow backend in the mix).
const ARRIVAL_ORDER_BUDGET: Duration = Duration::from_secs(5);

impl Batch<'_> {
    /// Up to [`ARRIVAL_ORDER_ATTEMPTS`] attempts, each after the previous one finished: the order
    /// in which a balancer hands out its backends (see [`ArrivalOrder`]).
    async fn arrival_order(&self) -> ArrivalOrder {
        let url_text = self.url.to_string();
        let started = Instant::now();
        let mut sequence = Vec::new();
        while sequence.len() < ARRIVAL_ORDER_ATTEMPTS as usize
            && started.elapsed() < ARRIVAL_ORDER_BUDGET
        {
            let _permit = self.permits.clone().acquire_owned().await.ok();
            let ex = http::attempt(self.url, self.addr, self.settings).await;
            let j = http::judge(&ex, &url_text, &self.settings.expected_key, self.ca);
            sequence.push(Slot {
                status: ex.status,
                error_class: ex.error_class,
                responder: if ex.responder.is_empty() {
                    "-".to_owned()
                } else {
                    ex.responder
                },
                cert_manager_pass: j.cert_manager_pass,
                acme_pass: j.acme_pass,
            });
        }
        ArrivalOrder {
            period: verdict::rotation_period(&sequence).map(|p| p as u32),
            sequence,
        }
    }
}

fn sample(index: u32, ex: &Exchange, responder: &str, j: &http::Judgement) -> Attempt {
    Attempt {
        index,
        status: ex.status,
        error_class: ex.error_class,
        error: ex.error.clone(),
        responder: responder.to_owned(),
        key_match: j.key_match,
        body_len: ex.body_len,
        body_sha256: Sha256::digest(&ex.body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        body_prefix: sanitize(&ex.body[..ex.body.len().min(64)]),
        hops: ex.hops.clone(),
        connect_ms: ex.connect_ms,
        total_ms: ex.total_ms,
        cert_manager_pass: j.cert_manager_pass,
        acme_pass: j.acme_pass,
        cert_manager_error: j.cert_manager_error.clone(),
        acme_error: j.acme_error.clone(),
    }
}

/// Printable text: control characters escaped, invalid UTF-8 replaced.
fn sanitize(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .flat_map(char::escape_default)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// D13 — Pebble `va/va.go` `validationTimeout` (15 s), Boulder's ~20 s RPC deadline: the
    /// CA waits longer than cert-manager's 10 s `Client.Timeout`, unless the plan is shorter.
    #[test]
    fn ca_deadlines() {
        let ten = Duration::from_secs(10);
        assert_eq!(ca_timeout(CaProfile::Pebble, ten), Duration::from_secs(15));
        assert_eq!(
            ca_timeout(CaProfile::Letsencrypt, ten),
            Duration::from_secs(20)
        );
        assert_eq!(ca_timeout(CaProfile::Private, ten), ten);
        let short = Duration::from_millis(1500);
        assert_eq!(ca_timeout(CaProfile::Letsencrypt, short), short);
    }

    /// The observer sees each target once, as the report will hold it: verdicts and the
    /// vantage's check included. (Invalid URLs and a check with no names: nothing is sent.)
    #[tokio::test]
    async fn the_observer_sees_each_target_as_the_report_holds_it() {
        let targets = ["shop/web-1", "shop/web-2", "blog/blog-1"]
            .map(|id| Target {
                id: id.into(),
                url: "http//not a url".into(),
                ..Default::default()
            })
            .to_vec();
        let options = ProbeOptions {
            health: Some(HealthPlan { names: vec![] }),
            ..Default::default()
        };
        let seen = std::sync::Mutex::new(Vec::new());
        let report = run_plan_observed(&ProbePlan::new(targets, options), &|t: &TargetReport| {
            seen.lock().unwrap().push(t.clone());
        })
        .await;
        let mut seen = seen.into_inner().unwrap();
        seen.sort_by(|a, b| a.id.cmp(&b.id));
        let mut held = report.targets.clone();
        held.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(seen, held);
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter()
                .all(|t| t.health.is_some() && t.verdicts.acme.reason.starts_with("invalid URL"))
        );
        // run_plan: the same report, nobody told.
        let plain = run_plan(&ProbePlan::new(
            report
                .targets
                .iter()
                .map(|t| Target {
                    id: t.id.clone(),
                    url: t.url.clone(),
                    ..Default::default()
                })
                .collect(),
            ProbeOptions::default(),
        ))
        .await;
        assert_eq!(plain.targets.len(), 3);
        assert!(plain.targets.iter().all(|t| t.health.is_none()));
    }

    #[test]
    fn sanitized_prefix() {
        assert_eq!(sanitize(b"ok\n\x01"), "ok\\n\\u{1}");
    }
}
