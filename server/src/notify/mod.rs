//! Notifications outside the inbox: e-mail to staff and webhooks to subscribers such as the
//! e-gov portal, delivered reliably.
//!
//! The chain, each link durable before the next is tried:
//! 1. the store's outbox (`engine/store/src/outbox.rs`): a trigger writes a row per event of
//!    a notifying kind in the transaction that appends the event. Nothing is notified that
//!    did not happen, nothing that happened is lost when the server dies.
//! 2. [`dispatch`] turns each waiting row into notices, one per recipient and channel (the
//!    users who hold the task's role at its office, the task's holder, the webhook
//!    subscribers of the event), in the recipient's language and at the time they chose
//!    (at once, or at the next opening of the office), and marks the row taken — all in one
//!    side transaction. A notice's id is made of the row, the channel and the recipient, so
//!    dispatching a row twice (two nodes, a crash between) makes each notice once.
//! 3. [`deliver`] sends due notices (SMTP through lettre, HTTPS POST through reqwest), and
//!    records each attempt: delivered, or the error and the next attempt after an
//!    exponential backoff with a cap. A notice is claimed before it is sent (its next attempt
//!    moved a lease ahead), so two nodes do not send it at once.
//!
//! Besides events, [`digest`] makes once per office working day, at the office's opening, a
//! digest of its overdue tasks for those who chose it; its notices are delivered the same way.
//!
//! Delivery is at least once: a crash after the receiver accepted a notice and before the
//! server recorded it sends it again. The receiver recognises the repeat by the notice's id,
//! which is the same on every attempt: the webhook's `Idempotency-Key` header, the e-mail's
//! `Message-ID`.

pub mod api;
pub mod deliver;
pub mod digest;
pub mod dispatch;
pub mod email;
pub mod tables;
pub mod texts;
pub mod webhook;

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How notices are sent. `None` in [`crate::config::Config::notify`]: the worker does not
/// run, and the outbox waits.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The SMTP server (`smtp://host:port`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`); `None`: e-mail notices wait (and `reglament outbox` shows them).
    pub smtp_url: Option<String>,
    /// The sender of e-mails.
    pub from: String,
    /// How often the worker looks for work.
    pub interval: Duration,
    /// The wait after the first failed attempt; it doubles after each one, up to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// Attempts after which a notice is given up (`failed`; listed as stuck).
    pub max_attempts: u32,
    /// How long a claimed notice is kept from other senders.
    pub lease: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp_url: None,
            from: "Reglament <reglament@localhost>".to_string(),
            interval: Duration::from_secs(2),
            backoff_first: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            max_attempts: 20,
            lease: Duration::from_secs(60),
            timeout: Duration::from_secs(15),
        }
    }
}

impl NotifyConfig {
    /// The wait before attempt `attempts + 1`, after `attempts` failures (≥ 1).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.backoff_first
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_max)
    }
}

/// Why a notification step failed (the worker logs it and tries again next round).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] reglament_store::StoreError),
    #[error("the SMTP settings: {0}")]
    Smtp(String),
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Outbox rows taken.
    pub taken: usize,
    /// Notices made of them.
    pub notices: usize,
    /// Digest notices made (at an office's opening).
    pub digests: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// One round: dispatch what waits in the outbox, make the digests of the offices that just
/// opened, then send what is due.
pub async fn round(state: &AppState, config: &NotifyConfig) -> Result<Round, NotifyError> {
    let mut r = Round::default();
    let (taken, notices) = dispatch::run(state).await?;
    r.taken = taken;
    r.notices = notices;
    r.digests = digest::run(state).await?;
    let (delivered, failed) = deliver::run(state, config).await?;
    r.delivered = delivered;
    r.failed = failed;
    Ok(r)
}

/// The background worker.
pub struct Notifier {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Notifier {
    pub fn spawn(state: AppState, config: NotifyConfig) -> Notifier {
        let (stop, mut stopped) = watch::channel(false);
        let handle = tokio::spawn(async move {
            loop {
                match round(&state, &config).await {
                    Ok(r) if r != Round::default() => tracing::debug!(?r, "notifications"),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "notifications: round failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(config.interval) => {}
                    _ = stopped.wait_for(|s| *s) => break,
                }
            }
        });
        Notifier { stop, handle }
    }

    /// Stops after the current round.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_cap() {
        let c = NotifyConfig {
            backoff_first: Duration::from_secs(10),
            backoff_max: Duration::from_secs(60),
            ..NotifyConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| c.backoff(a).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60, 60]);
        assert_eq!(c.backoff(1000).as_secs(), 60);
    }
}
