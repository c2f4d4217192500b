//! Prometheus metrics, written by hand in the text exposition format (version 0.0.4):
//! requests by route and status, request latency histograms by route, the timer's rounds and
//! breaches, sign-ins; and, read from the database at each scrape, open, claimed and breached
//! tasks. Counters are per process (Prometheus sums them over processes); the task gauges are
//! the database's, so every process reports the same.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use reglament_store::TaskCounts;

use crate::auth::throttle::Reason;
use crate::state::AppState;

const REASONS: [Reason; 4] = [Reason::Pair, Reason::Login, Reason::Address, Reason::Device];

fn reason_index(r: Reason) -> usize {
    match r {
        Reason::Pair => 0,
        Reason::Login => 1,
        Reason::Address => 2,
        Reason::Device => 3,
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct RouteStats {
    /// Requests per status code.
    statuses: Mutex<BTreeMap<u16, u64>>,
    /// Cumulative counts are computed at exposition; these are per bucket (plus +Inf).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<(String, String), Arc<RouteStats>>>,
    breaches_case: AtomicU64,
    breaches_task: AtomicU64,
    warnings: AtomicU64,
    ticks: AtomicU64,
    tick_failures: AtomicU64,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    /// Sign-ins refused by throttling, by [`Reason`] (in its order).
    logins_throttled: [AtomicU64; 4],
}

impl Metrics {
    fn route(&self, method: &str, route: &str) -> Arc<RouteStats> {
        let key = (method.to_string(), route.to_string());
        if let Some(s) = self.routes.read().ok().and_then(|m| m.get(&key).cloned()) {
            return s;
        }
        let mut map = match self.routes.write() {
            Ok(m) => m,
            Err(e) => e.into_inner(),
        };
        map.entry(key).or_default().clone()
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let stats = self.route(method, route);
        if let Ok(mut s) = stats.statuses.lock() {
            *s.entry(status).or_default() += 1;
        }
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        stats.buckets[i].fetch_add(1, Ordering::Relaxed);
        stats
            .sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        stats.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_breach(&self, of_case: bool) {
        let c = if of_case {
            &self.breaches_case
        } else {
            &self.breaches_task
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_warning(&self) {
        self.warnings.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_tick(&self, ok: bool) {
        self.ticks.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.tick_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A sign-in whose password was checked.
    pub fn count_login(&self, ok: bool) {
        let c = if ok {
            &self.logins_ok
        } else {
            &self.logins_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A sign-in refused by throttling, before any password was checked.
    pub fn count_throttled(&self, reason: Reason) {
        self.logins_throttled[reason_index(reason)].fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text, with the task gauges read by the caller.
    pub fn render(&self, tasks: Option<TaskCounts>) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let routes: Vec<((String, String), Arc<RouteStats>)> = self
            .routes
            .read()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut routes = routes;
        routes.sort_by(|a, b| a.0.cmp(&b.0));

        out.push_str("# HELP reglament_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE reglament_http_requests_total counter\n");
        for ((method, route), stats) in &routes {
            if let Ok(s) = stats.statuses.lock() {
                for (status, n) in s.iter() {
                    let _ = writeln!(
                        out,
                        "reglament_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                        escape(route)
                    );
                }
            }
        }
        out.push_str("# HELP reglament_http_request_duration_seconds Time to answer a request, by method and route.\n");
        out.push_str("# TYPE reglament_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in &routes {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += stats.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "reglament_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += stats.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "reglament_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}"
            );
            let sum = stats.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "reglament_http_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "reglament_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count.load(Ordering::Relaxed)
            );
        }

        let counter = |out: &mut String, name: &str, help: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (labels, v) in rows {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut out,
            "reglament_deadline_breaches_total",
            "Deadlines breached, as fired by this process's timer, by what the deadline was of.",
            &[
                ("target=\"case\"", load(&self.breaches_case)),
                ("target=\"task\"", load(&self.breaches_task)),
            ],
        );
        counter(
            &mut out,
            "reglament_deadline_warnings_total",
            "Warnings that a task is running out of time (the regulation's `warnings`), as given by this process's timer.",
            &[("", load(&self.warnings))],
        );
        counter(
            &mut out,
            "reglament_timer_rounds_total",
            "Rounds of the timer worker.",
            &[("", load(&self.ticks))],
        );
        counter(
            &mut out,
            "reglament_timer_failures_total",
            "Timer rounds in which some case failed.",
            &[("", load(&self.tick_failures))],
        );
        let throttled: Vec<(String, u64)> = REASONS
            .iter()
            .map(|r| {
                (
                    format!("reason=\"{}\"", r.as_str()),
                    load(&self.logins_throttled[reason_index(*r)]),
                )
            })
            .collect();
        counter(
            &mut out,
            "reglament_logins_total",
            "Sign-ins with a password, by result (throttled: refused before the password was checked).",
            &[
                ("result=\"ok\"", load(&self.logins_ok)),
                ("result=\"failed\"", load(&self.logins_failed)),
                (
                    "result=\"throttled\"",
                    self.logins_throttled.iter().map(load).sum(),
                ),
            ],
        );
        counter(
            &mut out,
            "reglament_logins_throttled_total",
            "Sign-ins refused by throttling, by the count that refused them.",
            &throttled
                .iter()
                .map(|(l, v)| (l.as_str(), *v))
                .collect::<Vec<_>>(),
        );
        if let Some(t) = tasks {
            out.push_str("# HELP reglament_open_tasks Open tasks in the database, by status.\n");
            out.push_str("# TYPE reglament_open_tasks gauge\n");
            let _ = writeln!(out, "reglament_open_tasks{{status=\"open\"}} {}", t.open);
            let _ = writeln!(
                out,
                "reglament_open_tasks{{status=\"claimed\"}} {}",
                t.claimed
            );
            out.push_str(
                "# HELP reglament_breached_open_tasks Open tasks whose deadline has passed.\n",
            );
            out.push_str("# TYPE reglament_breached_open_tasks gauge\n");
            let _ = writeln!(out, "reglament_breached_open_tasks {}", t.breached);
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: times every request and counts it under its route template (so that
/// `/api/v1/cases/{id}` is one series, not one per case).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    state.metrics.observe(&method, &route, status, seconds);
    if status >= 500 {
        tracing::warn!(%method, %route, status, seconds, "request failed");
    } else {
        tracing::debug!(%method, %route, status, seconds, "request");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/inbox", 200, 0.003);
        m.observe("GET", "/api/v1/inbox", 200, 0.2);
        m.observe("GET", "/api/v1/inbox", 401, 0.0001);
        m.count_breach(true);
        let text = m.render(Some(TaskCounts {
            open: 3,
            claimed: 1,
            breached: 1,
        }));
        assert!(text.contains(
            "reglament_http_requests_total{method=\"GET\",route=\"/api/v1/inbox\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3"), "{text}");
        assert!(text.contains("reglament_deadline_breaches_total{target=\"case\"} 1"));
        assert!(text.contains("reglament_open_tasks{status=\"open\"} 3"));
    }
}
