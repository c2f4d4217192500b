//! `reglament outbox [--db URL] [--stale 15m] [--format json]`: what is stuck on its way to
//! people: outbox rows no dispatcher has taken, and notices not delivered — given up, failed
//! at least once, or due for longer than `--stale` — each with its attempts and last error.
//! Exit status 1 when anything is stuck (for monitoring), 0 otherwise.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use reglament_server::accounts;
use reglament_server::notify::tables;
use reglament_store::StoreOptions;
use reglament_store::rows::{instant, micros};

use super::db::Format;

#[derive(clap::Args)]
pub struct OutboxArgs {
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`.
    /// Default: `sqlite:<data>/reglament.db`, as `reglament serve` uses.
    #[arg(long, env = "REGLAMENT_DB")]
    pub db: Option<String>,
    /// The data folder of the default SQLite database.
    #[arg(long, env = "REGLAMENT_DATA", default_value = "data")]
    pub data: std::path::PathBuf,
    /// A pending notice due longer ago than this is stuck even before a failed attempt, e.g.
    /// `15m`; outbox rows waiting longer are too.
    #[arg(long, default_value = "15m", value_parser = super::serve::parse_duration)]
    pub stale: Duration,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: OutboxArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(list(args))
}

async fn list(args: OutboxArgs) -> anyhow::Result<ExitCode> {
    let url = args
        .db
        .clone()
        .unwrap_or_else(|| super::serve::default_db(&args.data));
    if let Some(path) = url.strip_prefix("sqlite:")
        && !std::path::Path::new(path.split('?').next().unwrap_or(path)).is_file()
    {
        bail!("no database at {path} (give --db or --data)");
    }
    let store = accounts::open_store(
        &url,
        StoreOptions {
            pool_size: 1,
            migrate: false,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let stale_at = micros(chrono::Utc::now()) - args.stale.as_micros() as i64;
    let counts = store.outbox_counts().await?;
    let notices = tables::stuck(&store, stale_at).await?;
    store.close().await;
    let outbox_stuck = counts.oldest_waiting_at.is_some_and(|t| t < stale_at);
    match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "outbox": {
                    "waiting": counts.waiting,
                    "taken": counts.taken,
                    "oldest_waiting_at": counts.oldest_waiting_at.map(instant),
                },
                "stuck": notices.iter().map(|n| serde_json::json!({
                    "id": n.id,
                    "case": (!n.case_id.is_empty()).then_some(&n.case_id),
                    "office": n.digest_office,
                    "day": n.digest_day,
                    "kind": n.kind,
                    "channel": n.channel,
                    "recipient": n.recipient,
                    "status": n.status,
                    "attempts": n.attempts,
                    "last_error": n.last_error,
                    "not_before": instant(n.not_before),
                    "next_attempt_at": (n.status == "pending").then(|| instant(n.next_at)),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Format::Text => {
            println!(
                "outbox: {} waiting{}, {} taken",
                counts.waiting,
                counts
                    .oldest_waiting_at
                    .map(|t| format!(
                        " (the oldest from {})",
                        instant(t).format("%Y-%m-%d %H:%M:%S UTC")
                    ))
                    .unwrap_or_default(),
                counts.taken
            );
            if notices.is_empty() {
                println!("no notice is stuck");
            } else {
                println!("{} notice(s) stuck:", notices.len());
                for n in &notices {
                    // A digest is of an office-day, not of a case.
                    let about = match (&n.digest_office, &n.digest_day) {
                        (Some(office), Some(day)) => format!("office {office} {day}"),
                        _ => format!("case {}", n.case_id),
                    };
                    println!(
                        "  {}  {}  {} by {} to {}  {}  attempts {}{}",
                        n.id,
                        about,
                        n.kind,
                        n.channel,
                        n.recipient,
                        n.status,
                        n.attempts,
                        n.last_error
                            .as_deref()
                            .map(|e| format!("  last error: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(if notices.is_empty() && !outbox_stuck {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
