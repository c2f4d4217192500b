//! `reglament db migrate|rebuild|verify|status|regulations|deploy [--db URL]`: the database
//! without the server.
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
    /// The deployed regulations, each version with the days it applies and where it stands
    /// today: in force, scheduled, superseded or ended.
    Regulations(RegulationsArgs),
    /// Deploy regulation files, as `reglament serve` does at start-up and the API does: a
    /// version whose `in_force_from` (else `valid_from`) is still to come is scheduled. A
    /// file that does not validate, or whose days do not follow the deployed versions', is
    /// refused with a one-line error (exit status 1) and nothing of it is written.
    Deploy(DeployArgs),
}

/// `reglament db regulations`.
#[derive(clap::Args, Clone)]
pub struct RegulationsArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The regulations folder, for each region's time zone (today is the date there).
    #[arg(long, env = "REGLAMENT_REGULATIONS", default_value = "regulations")]
    pub regulations: PathBuf,
    /// The statuses on this day instead of today (YYYY-MM-DD).
    #[arg(long)]
    pub on: Option<chrono::NaiveDate>,
}

/// `reglament db deploy FILE...`.
#[derive(clap::Args, Clone)]
pub struct DeployArgs {
    /// Regulation files (YAML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// The regulations folder: its `offices/` and `calendars/` are the regions and calendars
    /// a regulation may name, and give today's date in its region.
    #[arg(long, env = "REGLAMENT_REGULATIONS", default_value = "regulations")]
    pub regulations: PathBuf,
    /// Who deploys, as recorded with the version.
    #[arg(long, default_value = "reglament (command line)")]
    pub by: String,
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
            DbCommand::Regulations(args) => regulations(&args).await,
            DbCommand::Deploy(args) => deploy(&args).await,
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

/// Today in `region` (its offices' time zone), or in Kazakhstan's UTC+5 when the folder does
/// not say.
fn today_in(calendars: Option<&reglament_calendar::Calendars>, region: &str) -> chrono::NaiveDate {
    let now = chrono::Utc::now();
    match calendars.and_then(|c| c.regions().find(|r| r.id() == region)) {
        Some(r) => now.with_timezone(&r.zone).date_naive(),
        None => (now + chrono::TimeDelta::hours(5)).date_naive(),
    }
}

async fn regulations(args: &RegulationsArgs) -> anyhow::Result<ExitCode> {
    use reglament_server::api::regulations::{VersionStatus, version_dtos};
    let calendars = reglament_calendar::Calendars::load(&args.regulations).ok();
    let store = args.db.open(false).await?;
    let listed = list_regulations(&store, calendars.as_ref(), args.on).await;
    store.close().await;
    let listed = listed?;
    match args.db.format {
        Format::Json => {
            let out: Vec<serde_json::Value> = listed
                .iter()
                .map(|(id, today, versions)| {
                    let versions = version_dtos(versions, *today);
                    let in_force = versions
                        .iter()
                        .find(|v| v.status == VersionStatus::InForce)
                        .map(|v| v.version);
                    serde_json::json!({
                        "id": id,
                        "today": today,
                        "in_force_version": in_force,
                        "versions": versions,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => {
            for (id, today, versions) in &listed {
                println!("{id} (on {today})");
                for v in version_dtos(versions, *today) {
                    let until = v
                        .effective_until
                        .and_then(|u| u.pred_opt())
                        .map(|u| format!("to {u}"))
                        .unwrap_or_default();
                    let status = serde_json::to_value(v.status)?;
                    println!(
                        "  v{:<3} from {} {:<13} {:<11} deployed {} by {}",
                        v.version,
                        v.effective_from,
                        until,
                        status.as_str().unwrap_or_default(),
                        v.deployed_at.format("%Y-%m-%d %H:%M UTC"),
                        v.deployed_by
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Each regulation's id, the day its statuses are for, and its versions, oldest first.
async fn list_regulations(
    store: &Store,
    calendars: Option<&reglament_calendar::Calendars>,
    on: Option<chrono::NaiveDate>,
) -> anyhow::Result<
    Vec<(
        String,
        chrono::NaiveDate,
        Vec<reglament_store::RegulationInfo>,
    )>,
> {
    let mut by_id: std::collections::BTreeMap<String, Vec<reglament_store::RegulationInfo>> =
        Default::default();
    for r in store.regulations().await? {
        by_id.entry(r.id.clone()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (id, versions) in by_id {
        let today = match (on, versions.last()) {
            (Some(day), _) => day,
            (None, Some(latest)) => {
                let region = store
                    .process(&latest.digest)
                    .await?
                    .regulation
                    .region
                    .clone();
                today_in(calendars, &region)
            }
            (None, None) => continue,
        };
        out.push((id, today, versions));
    }
    Ok(out)
}

async fn deploy(args: &DeployArgs) -> anyhow::Result<ExitCode> {
    use reglament_model::validate;
    use reglament_server::api::regulations::version_dtos;
    let known = super::validate::known_from(&args.regulations);
    let calendars = reglament_calendar::Calendars::load(&args.regulations).ok();
    let store = args.db.open(false).await?;
    let mut failed = false;
    for path in &args.files {
        let file = path.display().to_string();
        let outcome: anyhow::Result<String> = async {
            let source = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let report = validate::check_str(&source, &file, known.as_ref());
            if let Some(first) = report.diagnostics.iter().find(|d| d.is_error()) {
                bail!(
                    "{} error(s), the first: {}",
                    report.errors(),
                    first.header()
                );
            }
            let (deployed, process) = store
                .deploy_validated(report, &args.by, chrono::Utc::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let today = today_in(calendars.as_ref(), &process.regulation.region);
            let versions: Vec<_> = store
                .regulations()
                .await?
                .into_iter()
                .filter(|r| r.id == deployed.id)
                .collect();
            let this = version_dtos(&versions, today)
                .into_iter()
                .find(|v| v.version == deployed.version);
            let status = this
                .as_ref()
                .and_then(|v| serde_json::to_value(v.status).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let from = this
                .map(|v| v.effective_from.to_string())
                .unwrap_or_default();
            Ok(if deployed.new {
                format!(
                    "{file}: deployed {} version {}, from {from} ({status})",
                    deployed.id, deployed.version
                )
            } else {
                format!(
                    "{file}: {} version {} was already deployed ({status})",
                    deployed.id, deployed.version
                )
            })
        }
        .await;
        match outcome {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("error: {file}: {e}");
                failed = true;
            }
        }
    }
    store.close().await;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
