//! `reglament audit verify [--db URL]`: checks every hash chain in the database, with a
//! progress bar, and names the first bad event of each broken case (exit status 1 if any);
//! then checks the chains against the signed checkpoints (those stored, or an exported copy
//! with `--checkpoints`), under the public key the auditor pins with `--public-key`.
//! `reglament audit checkpoints` exports the checkpoints; `reglament audit public-key` prints
//! the public key of a signing key file.
//!
//! Also the helpers the other audit commands (`replay`, `report`, `export`) share: the
//! database URL, opening it for reading, dates on the command line, the calendars.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use reglament_audit::checkpoint;
use reglament_audit::verify::{Progress, verify_all};
use reglament_calendar::Calendars;
use reglament_store::{Store, StoreOptions};

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check every case's hash chain and name the first bad event of each broken case, then
    /// check the chains against the signed checkpoints.
    Verify(VerifyArgs),
    /// Export the signed checkpoints as JSON lines, for an auditor to keep elsewhere.
    Checkpoints(CheckpointsArgs),
    /// Print the public key of a checkpoint signing key file.
    PublicKey(PublicKeyArgs),
}

#[derive(clap::Args)]
pub struct CheckpointsArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct PublicKeyArgs {
    /// The signing key file. Default: `<REGLAMENT_DATA or data>/checkpoint.key`, as
    /// `reglament serve` uses.
    #[arg(long, env = "REGLAMENT_CHECKPOINT_KEY")]
    pub key: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// No progress bar (it is also left out when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
    /// Check against these checkpoints (JSON lines, as `reglament audit checkpoints` exports
    /// them) instead of those stored in the database.
    #[arg(long)]
    pub checkpoints: Option<PathBuf>,
    /// The public key the checkpoints must be signed with: 64 hex digits, or a file holding
    /// them. Without it the key the checkpoints name is used, which proves less (say so).
    #[arg(long, env = "REGLAMENT_CHECKPOINT_PUBLIC_KEY")]
    pub public_key: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `--db`: which database to read.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`.
    /// Default: `sqlite:<REGLAMENT_DATA or data>/reglament.db`, as `reglament serve` uses.
    #[arg(long, env = "REGLAMENT_DB")]
    pub db: Option<String>,
}

impl DbArgs {
    pub fn url(&self) -> String {
        match &self.db {
            Some(u) => u.clone(),
            None => {
                let data = std::env::var("REGLAMENT_DATA").unwrap_or_else(|_| "data".into());
                format!("sqlite:{}", Path::new(&data).join("reglament.db").display())
            }
        }
    }

    /// Opens the database to read it: an audit never creates or migrates one.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let url = self.url();
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            let path = path.split('?').next().unwrap_or(path);
            if !Path::new(path).is_file() {
                bail!("no database at {path} (give --db or set REGLAMENT_DB)");
            }
        }
        let store = Store::open_with(
            &url,
            StoreOptions {
                pool_size: 2,
                migrate: false,
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("opening {url}"))?;
        let schema = store
            .schema_version()
            .await
            .with_context(|| format!("reading {url}"))?;
        if schema == 0 {
            bail!("{} is not a Reglament database (no schema)", store.url());
        }
        Ok(store)
    }
}

/// A runtime for the async store: two worker threads are plenty for one reader.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The calendars under the regulations folder, used when the database lacks a case's
/// calendar version; `None` (with a note) when they do not load.
pub fn calendars(root: &Path) -> Option<Calendars> {
    match Calendars::load(root) {
        Ok(c) => Some(c),
        Err(diags) => {
            eprintln!(
                "note: the calendars under {} do not load ({} problem(s)); only the database's are used",
                root.display(),
                diags.len()
            );
            None
        }
    }
}

/// `--regulations`: where the calendar files are.
#[derive(clap::Args, Clone)]
pub struct RegulationsArg {
    /// The regulations folder (its `calendars/` and `offices/` are used when the database lacks
    /// a case's calendar version).
    #[arg(long, env = "REGLAMENT_REGULATIONS", default_value = "regulations")]
    pub regulations: PathBuf,
}

/// An instant on the command line: RFC 3339 (`2026-04-06T10:00:00+05:00`), or a date
/// (`2026-04-06`), which is its start in Kazakhstan time (UTC+05:00).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    reglament_audit::parse_instant(s).map_err(|e| e.to_string())
}

/// The end of a `--to` value: a date includes its whole day; an instant is taken as it is.
pub fn parse_until(s: &str) -> Result<DateTime<Utc>, String> {
    reglament_audit::parse_until(s).map_err(|e| e.to_string())
}

pub fn parse_lang(s: &str) -> Result<reglament_model::text::Lang, String> {
    reglament_model::text::Lang::parse(s).ok_or_else(|| format!("`{s}`: use kk, ru or en"))
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify(args) => verify(args),
        AuditCommand::Checkpoints(args) => export_checkpoints(args),
        AuditCommand::PublicKey(args) => public_key(args),
    }
}

fn print_anchored(anchored: Option<&checkpoint::CheckpointReport>) {
    let Some(a) = anchored else {
        println!(
            "No signed checkpoints to check against (`reglament serve` signs them; see --checkpoint-key)."
        );
        return;
    };
    let key = a.public_key.as_deref().unwrap_or("none");
    let whose = if a.key_pinned {
        "the key given"
    } else {
        "the key the checkpoints name (pass --public-key to pin the one you trust)"
    };
    println!(
        "Checked against {} signed checkpoint(s) covering {} case(s), under {whose}: {key}.",
        a.checkpoints, a.cases
    );
    if a.is_ok() {
        println!("Every covered event is as it was when it was signed.");
    } else {
        println!("{} problem(s) against the checkpoints:", a.problems.len());
        for p in &a.problems {
            println!("  {p}");
        }
    }
}

/// The default key file, as `reglament serve` uses it.
pub fn default_key_file() -> PathBuf {
    let data = std::env::var("REGLAMENT_DATA").unwrap_or_else(|_| "data".into());
    Path::new(&data).join("checkpoint.key")
}

fn public_key(args: PublicKeyArgs) -> anyhow::Result<ExitCode> {
    let path = args.key.unwrap_or_else(default_key_file);
    let key = reglament_server::checkpoints::read_key(&path)?;
    println!("{}", hex(key.verifying_key().as_bytes()));
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    reglament_server::auth::secret::hex(bytes)
}

fn export_checkpoints(args: CheckpointsArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let stored = store.checkpoints().await?;
        store.close().await;
        let mut text = String::new();
        for c in &stored {
            text.push_str(&c.body);
            text.push('\n');
        }
        match &args.out {
            Some(path) => {
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!(
                    "{} checkpoint(s) written to {}",
                    stored.len(),
                    path.display()
                );
            }
            None => {
                use std::io::Write as _;
                std::io::stdout().write_all(text.as_bytes())?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The checkpoints to check against: an exported file, or those stored.
async fn load_checkpoints(
    store: &Store,
    file: Option<&Path>,
) -> anyhow::Result<Vec<checkpoint::Checkpoint>> {
    match file {
        None => Ok(checkpoint::stored(store).await?),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    checkpoint::Checkpoint::parse(l)
                        .with_context(|| format!("{}:{}: not a checkpoint", path.display(), i + 1))
                })
                .collect()
        }
    }
}

/// `--public-key`: hex, or a file with the hex.
fn pinned_key(arg: Option<&str>) -> anyhow::Result<Option<ed25519_dalek::VerifyingKey>> {
    let Some(arg) = arg else { return Ok(None) };
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    match checkpoint::public_key(&text) {
        Some(k) => Ok(Some(k)),
        None => bail!(
            "--public-key: `{}` is not 64 hex digits of an Ed25519 public key",
            text.trim()
        ),
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let key = pinned_key(args.public_key.as_deref())?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let checkpoints = load_checkpoints(&store, args.checkpoints.as_deref()).await?;
        let started = Instant::now();
        let bar = if args.quiet {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} events ({per_sec}, {eta} left) {msg}",
                )?
                .progress_chars("=> "),
            );
            bar
        };
        let mut on_page = |p: Progress| {
            bar.set_length(p.total);
            bar.set_position(p.events);
            bar.set_message(if p.suspects > 0 {
                format!("{} cases, {} to look at", p.cases, p.suspects)
            } else {
                format!("{} cases", p.cases)
            });
        };
        let report = verify_all(&store, &mut on_page).await;
        bar.finish_and_clear();
        let report = report?;
        let secs = started.elapsed().as_secs_f64();
        let anchored = if checkpoints.is_empty() {
            None
        } else {
            Some(checkpoint::verify(&store, &checkpoints, key).await?)
        };
        store.close().await;
        let anchored_ok = anchored.as_ref().is_none_or(|a| a.is_ok());
        match args.format {
            Format::Json => {
                let out = serde_json::json!({
                    "ok": report.is_ok(),
                    "cases": report.cases,
                    "events": report.events,
                    "seconds": (secs * 1000.0).round() / 1000.0,
                    "problems": report.problems,
                    "checkpoints": anchored,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
            Format::Text => {
                let rate = if secs > 0.0 {
                    report.events as f64 / secs
                } else {
                    0.0
                };
                println!(
                    "Checked {} events of {} cases in {:.1} s ({:.0} events/s).",
                    report.events, report.cases, secs, rate
                );
                if report.is_ok() {
                    println!("Every chain is intact.");
                } else {
                    println!(
                        "{} case(s) do not verify; the first bad event of each:",
                        report.problems.len()
                    );
                    for p in &report.problems {
                        println!("  {p}");
                    }
                }
                print_anchored(anchored.as_ref());
            }
        }
        Ok(if report.is_ok() && anchored_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
