//! Time: the one place the server reads the wall clock ([`Clock`]), and the timer worker that
//! lets time pass for cases whose deadlines or dispatches are due ([`Service::tick`]).
//!
//! The engine never reads a clock; requests and the timer pass `now` in. Tests use a manual
//! clock to move time forward and tick by hand.
//!
//! [`Service::tick`]: reglament_store::Service::tick

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reglament_runtime::{DeadlineTarget, EventKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Where `now` comes from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock moved by hand (tests, demonstrations).
    Manual(Arc<Mutex<DateTime<Utc>>>),
    /// The system clock shifted by a fixed amount: time passes, from another date
    /// (`reglament serve --fake-now`, for tests of a running binary only).
    Shifted(chrono::Duration),
}

impl Clock {
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(at)))
    }

    /// The system clock, shifted so that it reads `at` now.
    pub fn shifted_to(at: DateTime<Utc>) -> Clock {
        Clock::Shifted(at - Utc::now())
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            // To the microsecond, as the store keeps instants: an event's `at` in its body
            // and in its row are then the same instant.
            Clock::System => micros(Utc::now()),
            Clock::Shifted(by) => micros(Utc::now() + *by),
            Clock::Manual(t) => t.lock().map(|t| *t).unwrap_or_else(|e| *e.into_inner()),
        }
    }

    /// Sets a manual clock (a system clock cannot be set).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Clock::Manual(t) = self
            && let Ok(mut t) = t.lock()
        {
            *t = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// What one round of the timer did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Cases that changed.
    pub cases: usize,
    pub events: usize,
    pub breaches: usize,
    pub failed: usize,
}

/// Lets time pass to `now` for every due case; counts breaches into the metrics.
pub async fn tick(state: &AppState) -> Round {
    let now = state.now();
    let mut round = Round::default();
    match state.service.tick(now).await {
        Ok(report) => {
            round.cases = report.fired.len();
            for (case, events) in &report.fired {
                round.events += events.len();
                for e in events {
                    if let EventKind::DeadlineWarned { task, percent, .. } = &e.event.kind {
                        state.metrics.count_warning();
                        tracing::info!(case = %case, task = task.0, percent, "deadline warning");
                    }
                    if let EventKind::DeadlineBreached { target, .. } = &e.event.kind {
                        round.breaches += 1;
                        state
                            .metrics
                            .count_breach(matches!(target, DeadlineTarget::Case));
                        tracing::info!(case = %case, ?target, "deadline breached");
                    }
                }
            }
            round.failed = report.failed.len();
            for (case, error) in &report.failed {
                tracing::error!(case = %case, %error, "a case's deadlines could not be processed; it will be retried");
            }
        }
        Err(error) => {
            round.failed += 1;
            tracing::error!(%error, "the timer could not read due cases");
        }
    }
    state.metrics.count_tick(round.failed == 0);
    round
}

/// Deploys the loaded calendars to open cases counting on other versions (a decree issued
/// since they started, new office hours): see [`reglament_store::Service::follow_calendars`].
/// Runs once as the timer starts, before its first round, so that no deadline is breached on
/// an instant the new calendar moved; requests are served meanwhile.
pub async fn follow_calendars(state: &AppState) {
    let started = std::time::Instant::now();
    match state
        .service
        .follow_calendars(state.now(), false, false)
        .await
    {
        Ok(report) => {
            for a in &report.adoptions {
                tracing::info!(
                    office = %a.office,
                    from = %a.from_version,
                    to = %a.to_version,
                    cases = a.cases,
                    rescheduled = a.rescheduled,
                    "open cases moved onto the loaded calendar"
                );
            }
            for (case, error) in &report.failed {
                tracing::warn!(case = %case, %error, "a case could not be moved onto the loaded calendar; it follows on its next command");
            }
            if !report.adoptions.is_empty() {
                tracing::info!(
                    cases = report.cases,
                    rescheduled = report.rescheduled,
                    deadlines = report.deadlines,
                    seconds = started.elapsed().as_secs_f64(),
                    "calendar deployed"
                );
            }
        }
        Err(error) => {
            tracing::error!(%error, "the loaded calendar could not be deployed to open cases; each case follows on its next command")
        }
    }
}

/// The running timer worker.
pub struct Timer {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Timer {
    /// Ticks every `interval`, and purges expired idempotency keys, login attempts and sessions
    /// about once an hour.
    pub fn spawn(state: AppState, interval: Duration) -> Timer {
        let (stop, mut stopped) = watch::channel(false);
        let handle = tokio::spawn(async move {
            follow_calendars(&state).await;
            let purge_every = (3600 / interval.as_secs().max(1)).max(1);
            let mut rounds: u64 = 0;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.changed() => break,
                }
                let round = tick(&state).await;
                if round.cases > 0 {
                    tracing::debug!(?round, "timer round");
                }
                rounds += 1;
                if rounds % purge_every == 1 {
                    purge(&state).await;
                }
            }
            tracing::info!("timer stopped");
        });
        Timer { stop, handle }
    }

    /// Stops after the round in progress, if any.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

/// Deletes what has outlived its use.
pub async fn purge(state: &AppState) {
    let now = state.now();
    let before = now - chrono::Duration::from_std(state.config.idempotency_ttl).unwrap_or_default();
    let devices_before =
        now - chrono::Duration::from_std(crate::auth::login::DEVICE_TTL).unwrap_or_default();
    match state
        .accounts
        .purge_accounts(before, devices_before, now)
        .await
    {
        Ok(n) if n > 0 => tracing::debug!(
            rows = n,
            "purged expired keys, attempts, sessions and devices"
        ),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "purging expired keys failed"),
    }
}
