//! `reglament db migrate|rebuild|verify|status [--db URL]`: the database without the server.
//!
//! The default database is the one `reglament serve` uses: `sqlite:<data>/reglament.db`, with
//! `--data` (or `REGLAMENT_DATA`, default `data`). `migrate` creates a missing SQLite file;
//! the other commands refuse to run on a database that is not there.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use reglament_server::accounts;
use reglament_store::{Store, StoreError, StoreOptions};

#[derive(clap::Subcommand)]
pub enum DbCommand {
    /// Apply the migrations this build has and the database lacks (a missing SQLite file is
    /// created). `reglament serve` does the same at start-up.
    Migrate(DbArgs),
    /// Recompute the projections (cases, tasks, wake-ups) from the event log, in one
    /// transaction, after checking every hash chain; a log that does not verify is reported
    /// and nothing is rebuilt (exit status 1).
    Rebuild(DbArgs),
    /// Check every case's hash chain and name the first bad event of each broken case
    /// (exit status 1 if any); the same check as `reglament audit verify`.
    Verify(DbArgs),
    /// Counts: events, cases, open tasks, wake-ups, the schema version.
    Status(DbArgs),
}

/// Which database, and how to print.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`.
    /// Default: `sqlite:<data>/reglament.db`, as `reglament serve` uses.
    #[arg(long, env = "REGLAMENT_DB")]
    pub db: Option<String>,
    /// The data folder of the default SQLite database.
    #[arg(long, env = "REGLAMENT_DATA", default_value = "data")]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

impl DbArgs {
    fn url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| super::serve::default_db(&self.data))
    }

    /// Opens without migrating. Unless `create`, a SQLite file must exist and the database
    /// must have a schema.
    async fn open(&self, create: bool) -> anyhow::Result<Store> {
        let url = self.url();
        if !create
            && let Some(path) = sqlite_path(&url)
            && !path.is_file()
        {
            bail!(
                "no database at {} (give --db or --data, or run `reglament db migrate` first)",
                path.display()
            );
        }
        // With the server's migrations too: `db migrate` applies them all.
        let store = accounts::open_store(
            &url,
            StoreOptions {
                pool_size: 2,
                migrate: false,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !create && store.schema_version().await? == 0 {
            let url = store.url().to_string();
            store.close().await;
            bail!("{url} is not a Reglament database (no schema; run `reglament db migrate`)");
        }
        Ok(store)
    }
}

fn sqlite_path(url: &str) -> Option<&Path> {
    let path = url.strip_prefix("sqlite:")?;
    let path = path.strip_prefix("//").unwrap_or(path);
    Some(Path::new(path.split('?').next().unwrap_or(path)))
}

pub fn run(cmd: DbCommand) -> anyhow::Result<ExitCode> {
    if let DbCommand::Verify(args) = cmd {
        use super::audit::{AuditCommand, DbArgs as AuditDb, Format as AuditFormat, VerifyArgs};
        // One check, one output: the audit command's, on this command's database.
        if let Some(path) = sqlite_path(&args.url())
            && !path.is_file()
        {
            bail!("no database at {} (give --db or --data)", path.display());
        }
        return super::audit::run(AuditCommand::Verify(VerifyArgs {
            db: AuditDb {
                db: Some(args.url()),
            },
            format: match args.format {
                Format::Text => AuditFormat::Text,
                Format::Json => AuditFormat::Json,
            },
            quiet: false,
            checkpoints: None,
            public_key: None,
        }));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cmd {
            DbCommand::Migrate(args) => migrate(&args).await,
            DbCommand::Rebuild(args) => rebuild(&args).await,
            DbCommand::Status(args) => status(&args).await,
            DbCommand::Verify(_) => unreachable!("handled above"),
        }
    })
}

async fn migrate(args: &DbArgs) -> anyhow::Result<ExitCode> {
    let store = args.open(true).await?;
    let before = store.schema_version().await?;
    let after = store.migrate().await;
    let url = store.url().to_string();
    store.close().await;
    let after = after.with_context(|| format!("migrating {url}"))?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({"db": url, "schema_version_before": before, "schema_version": after})
        ),
        Format::Text if before == after => {
            println!("{url}: already at schema version {after}; nothing to do.")
        }
        Format::Text => println!("{url}: migrated from schema version {before} to {after}."),
    }
    Ok(ExitCode::SUCCESS)
}

async fn rebuild(args: &DbArgs) -> anyhow::Result<ExitCode> {
    let store = args.open(false).await?;
    let started = Instant::now();
    let result = store.rebuild().await;
    let url = store.url().to_string();
    store.close().await;
    let report = match result {
        Ok(r) => r,
        Err(StoreError::Tampered { problems, first }) => {
            let first = first.map(|t| t.to_string()).unwrap_or_default();
            eprintln!(
                "error: the log does not verify ({problems} case(s)); nothing was rebuilt. First problem: {first}"
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    let secs = started.elapsed().as_secs_f64();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "db": url,
                "cases": report.cases,
                "events": report.events,
                "tasks": report.tasks,
                "wakeups": report.wakeups,
                "seconds": (secs * 1000.0).round() / 1000.0,
            })
        ),
        Format::Text => println!(
            "{url}: every chain verifies; rebuilt {} case(s), {} task(s) and {} wake-up(s) from {} event(s) in {secs:.1} s.",
            report.cases, report.tasks, report.wakeups, report.events
        ),
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(args: &DbArgs) -> anyhow::Result<ExitCode> {
    let store = args.open(false).await?;
    let report = store.status().await;
    let url = store.url().to_string();
    store.close().await;
    let r = report?;
    let next = r
        .next_wakeup
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.to_rfc3339());
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&r)?;
            v["db"] = url.into();
            v["next_wakeup"] = next.into();
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Text => {
            let backend = r.backend.map(|b| b.to_string()).unwrap_or_default();
            println!("database           {url} ({backend})");
            println!("schema version     {}", r.schema_version);
            println!("events             {}", r.events);
            println!("cases              {} ({} open)", r.cases, r.open_cases);
            println!("open tasks         {}", r.open_tasks);
            match next {
                Some(n) => println!("wake-ups           {} (next {n})", r.wakeups),
                None => println!("wake-ups           {}", r.wakeups),
            }
            println!("regulations        {}", r.regulations);
            println!("calendar versions  {}", r.calendar_versions);
            println!("cases in incident  {}", r.incident_cases);
        }
    }
    Ok(ExitCode::SUCCESS)
}
