//! Sending due notices and recording each attempt.

use std::sync::OnceLock;

use futures_util::StreamExt as _;
use reglament_store::rows::micros;

use super::email::Mailer;
use super::tables::{self, Notice};
use super::{NotifyConfig, NotifyError, webhook};
use crate::state::AppState;

/// Notices sent per channel per round, and at once.
const BATCH: i64 = 200;
const CONCURRENT: usize = 8;

/// Sends what is due; returns (delivered, failed attempts).
pub async fn run(state: &AppState, config: &NotifyConfig) -> Result<(usize, usize), NotifyError> {
    let mut delivered = 0;
    let mut failed = 0;
    if let Some(url) = &config.smtp_url {
        let mailer = Mailer::new(url, &config.from, config.timeout)?;
        let (d, f) = channel(state, config, "email", &Sender::Email(&mailer)).await?;
        delivered += d;
        failed += f;
    }
    let (d, f) = channel(state, config, "webhook", &Sender::Webhook(client(config))).await?;
    Ok((delivered + d, failed + f))
}

/// The HTTP client of webhooks, made once (it keeps connections).
fn client(config: &NotifyConfig) -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("reglament/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

enum Sender<'a> {
    Email(&'a Mailer),
    Webhook(&'a reqwest::Client),
}

async fn channel(
    state: &AppState,
    config: &NotifyConfig,
    name: &str,
    sender: &Sender<'_>,
) -> Result<(usize, usize), NotifyError> {
    let now = micros(state.now());
    let due = tables::due(&state.store, name, now, BATCH).await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let hooks = match sender {
        Sender::Webhook(_) => tables::webhooks(&state.store).await?,
        Sender::Email(_) => Vec::new(),
    };
    let outcomes: Vec<Result<bool, NotifyError>> = futures_util::stream::iter(due)
        .map(|n| {
            let hooks = &hooks;
            async move { attempt(state, config, sender, hooks, &n).await }
        })
        .buffer_unordered(CONCURRENT)
        .collect()
        .await;
    let mut delivered = 0;
    let mut failed = 0;
    for o in outcomes {
        match o? {
            true => delivered += 1,
            false => failed += 1,
        }
    }
    Ok((delivered, failed))
}

/// One attempt at one notice: claim, send, record. `Ok(true)`: delivered.
async fn attempt(
    state: &AppState,
    config: &NotifyConfig,
    sender: &Sender<'_>,
    hooks: &[tables::Webhook],
    n: &Notice,
) -> Result<bool, NotifyError> {
    let now = state.now();
    let lease = micros(now) + config.lease.as_micros() as i64;
    if !tables::claim(&state.store, n, lease).await? {
        return Ok(false);
    }
    let result = match sender {
        Sender::Email(m) => m.send(n).await,
        Sender::Webhook(client) => match hooks.iter().find(|h| h.id == n.recipient) {
            Some(h) => {
                webhook::send(client, &h.url, &h.secret, &n.id, &n.body, now.timestamp()).await
            }
            None => Err("the subscriber was removed".to_string()),
        },
    };
    let after = micros(state.now());
    match result {
        Ok(()) => {
            tables::delivered(&state.store, &n.id, after).await?;
            Ok(true)
        }
        Err(error) => {
            let attempts = u32::try_from(n.attempts)
                .unwrap_or(u32::MAX)
                .saturating_add(1);
            let next = (attempts < config.max_attempts)
                .then(|| after + config.backoff(attempts).as_micros() as i64);
            tracing::warn!(notice = %n.id, channel = %n.channel, attempts, %error, "notification not delivered");
            tables::attempt_failed(&state.store, &n.id, &error, next).await?;
            Ok(false)
        }
    }
}
