//! `reglament calendar ...`: due instants, elapsed working time, the list of days, and a
//! check of the calendar files.
//!
//! Errors an analyst can make on the command line (a malformed term or instant, an unknown
//! office, a date outside the covered years) are one line on stderr and exit code 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
use reglament_calendar::{Calendars, OfficeClock};
use reglament_model::diagnostic::Diagnostic;
use reglament_model::duration::Term;
use reglament_model::model::Counting;
use reglament_model::text::Lang;
use serde_json::json;

#[derive(clap::Subcommand)]
pub enum CalendarCommand {
    /// Print the due instant of a term (RFC 3339, in the office's time zone).
    Due(DueArgs),
    /// Print the working time between two instants.
    Elapsed(ElapsedArgs),
    /// Print every date of a range: working or not, why, and the open hours.
    List(ListArgs),
    /// Check the calendar and offices files and print every problem.
    Check(CheckArgs),
    /// Dry run of a new national calendar (a decree moved or added a day off): which open
    /// cases and tasks of the database it moves, by how much, and which it puts past due.
    /// Nothing is written; `reglament serve` deploys it when it starts with the new file.
    Impact(ImpactArgs),
}

#[derive(clap::Args)]
pub struct ImpactArgs {
    /// The new national calendar file (e.g. an edited copy of regulations/calendars/kz.yaml).
    new: PathBuf,
    #[command(flatten)]
    db: super::audit::DbArgs,
    /// The regulations folder (with `calendars/` and `offices/`): the offices' hours.
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    root: PathBuf,
    /// The instant to judge "past due" at (default: now), RFC 3339.
    #[arg(long)]
    now: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Common {
    /// The regulations folder (with `calendars/` and `offices/`).
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    root: PathBuf,
    /// The office whose hours and time zone apply (default: the standard schedule,
    /// Mon–Fri 09:00–18:00 with lunch 13:00–14:00, Asia/Almaty).
    #[arg(long)]
    office: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::Args)]
pub struct DueArgs {
    /// When the application arrived, RFC 3339 with an offset, e.g. 2026-03-20T17:45:00+05:00.
    #[arg(long)]
    from: String,
    /// The term, e.g. "5 working days", "2 hours", "30 calendar days", "10 рабочих дней".
    #[arg(long)]
    term: String,
    /// «День приема и выдачи не входит в срок»: the day of issue is not counted either.
    #[arg(long)]
    receipt_and_issue_days_excluded: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct ElapsedArgs {
    /// Start instant, RFC 3339 with an offset.
    #[arg(long)]
    from: String,
    /// End instant, RFC 3339 with an offset.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// First date, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// Last date, YYYY-MM-DD.
    #[arg(long)]
    to: String,
    /// Language of the reasons: kk, ru or en.
    #[arg(long, default_value = "en")]
    lang: String,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The regulations folder (with `calendars/` and `offices/`).
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    root: PathBuf,
}

pub fn run(cmd: CalendarCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CalendarCommand::Due(args) => due(args),
        CalendarCommand::Elapsed(args) => elapsed(args),
        CalendarCommand::List(args) => list(args),
        CalendarCommand::Check(args) => check(&args.root),
        CalendarCommand::Impact(args) => impact(args),
    }
}

fn impact(args: ImpactArgs) -> anyhow::Result<ExitCode> {
    if !args.new.is_file() {
        bail!("no calendar file at {}", args.new.display());
    }
    let now = match &args.now {
        Some(s) => instant("--now", s)?,
        None => Utc::now(),
    };
    let calendars = Calendars::load_with(&args.root, Some(&args.new)).map_err(|diags| {
        for d in diags.iter().skip(1) {
            eprint!("{}", rendered(d));
        }
        anyhow!(
            "{}",
            diags
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| "the calendar data did not load".to_string())
        )
    })?;
    let rt = super::audit::runtime()?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let zones: std::collections::HashMap<String, chrono_tz::Tz> = calendars
            .offices()
            .map(|o| (o.data.id.clone(), o.clock.zone()))
            .collect();
        let service = reglament_store::Service::new(store.clone(), std::sync::Arc::new(calendars));
        let started = std::time::Instant::now();
        let report = service.follow_calendars(now, true, true).await?;
        let seconds = started.elapsed().as_secs_f64();
        store.close().await;
        match args.format {
            Format::Json => print_json(&serde_json::to_value(&report)?)?,
            Format::Text => print_impact(&report, &zones, seconds),
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_impact(
    report: &reglament_store::CalendarFollowReport,
    zones: &std::collections::HashMap<String, chrono_tz::Tz>,
    seconds: f64,
) {
    let local = |office: &str, t: DateTime<Utc>| match zones.get(office) {
        Some(z) => t.with_timezone(z).format("%Y-%m-%d %H:%M %:z").to_string(),
        None => t.to_rfc3339(),
    };
    for m in &report.moves {
        let days: Vec<String> = m.days.iter().map(|d| d.to_string()).collect();
        println!(
            "{}  ({}){}",
            m.case,
            m.office,
            if days.is_empty() {
                String::new()
            } else {
                format!("  days changed: {}", days.join(", "))
            }
        );
        for d in &m.moved {
            let what = match d.target {
                reglament_runtime::DeadlineTarget::Case => "case".to_string(),
                reglament_runtime::DeadlineTarget::Task(t) => format!("task {t}"),
            };
            let shift = d.to - d.from;
            let sign = if shift < chrono::Duration::zero() {
                "-"
            } else {
                "+"
            };
            let abs = shift.abs();
            println!(
                "  {what:<8} {} → {}  ({sign}{}h{:02}m)",
                local(&m.office, d.from),
                local(&m.office, d.to),
                abs.num_hours(),
                abs.num_minutes() % 60,
            );
        }
        if m.breached_by_change {
            println!("  ! past due as soon as the new calendar is deployed");
        }
    }
    for (case, error) in &report.failed {
        println!("{case}: cannot be recomputed: {error}");
    }
    println!(
        "{} open case(s) looked at in {:.1} s; {} case(s) move, {} due instant(s); {} put past due by the change",
        report.cases, seconds, report.rescheduled, report.deadlines, report.breached_by_change
    );
}

/// Loads the calendars; on a data error prints every diagnostic and fails.
fn load(root: &Path) -> anyhow::Result<Calendars> {
    Calendars::load(root).map_err(|diags| {
        for d in diags.iter().skip(1) {
            eprint!("{}", rendered(d));
        }
        let first = diags
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "the calendar data did not load".to_string());
        anyhow!("{first}")
    })
}

/// A diagnostic as `reglament validate` shows one: the header, the line with a caret, help.
fn rendered(d: &Diagnostic) -> String {
    d.render(std::fs::read_to_string(&d.file).ok().as_deref())
}

fn clock(common: &Common) -> anyhow::Result<(Calendars, OfficeClock)> {
    let cals = load(&common.root)?;
    let clock = cals.clock(common.office.as_deref())?;
    Ok((cals, clock))
}

fn instant(flag: &str, s: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            anyhow!("--{flag} `{s}` is not an instant: write RFC 3339 with an offset, e.g. 2026-03-20T17:45:00+05:00")
        })
}

fn date(flag: &str, s: &str) -> anyhow::Result<NaiveDate> {
    s.trim()
        .parse()
        .map_err(|_| anyhow!("--{flag} `{s}` is not a date: write YYYY-MM-DD, e.g. 2026-01-01"))
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn due(args: DueArgs) -> anyhow::Result<ExitCode> {
    let term: Term = args
        .term
        .parse()
        .map_err(|e| anyhow!("--term `{}`: {e}", args.term))?;
    let from = instant("from", &args.from)?;
    let (_, clock) = clock(&args.common)?;
    let counting = Counting {
        receipt_and_issue_days_excluded: args.receipt_and_issue_days_excluded,
    };
    let due = clock.due(from, term, &counting)?;
    let at = clock.to_local(due.at).to_rfc3339();
    if due.provisional {
        eprintln!(
            "note: counted into a provisional year of the calendar (decreed to the end of {}): the decreed calendar may move it",
            clock.national().decreed_until()
        );
    }
    match args.common.format {
        Format::Text => println!("{at}"),
        Format::Json => print_json(&json!({
            "due": at,
            "registered": clock.to_local(due.registered_at).to_rfc3339(),
            "term": term.to_string(),
            "receipt_and_issue_days_excluded": counting.receipt_and_issue_days_excluded,
            "office": args.common.office,
            "time_zone": clock.zone().name(),
            "calendar_version": due.calendar_version,
            "provisional": due.provisional,
        }))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `135` → `2 h 15 min`.
fn human_minutes(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    match (m / 60, m % 60) {
        (0, m) => format!("{sign}{m} min"),
        (h, 0) => format!("{sign}{h} h"),
        (h, m) => format!("{sign}{h} h {m} min"),
    }
}

fn elapsed(args: ElapsedArgs) -> anyhow::Result<ExitCode> {
    let from = instant("from", &args.from)?;
    let to = instant("to", &args.to)?;
    let (_, clock) = clock(&args.common)?;
    let minutes = clock.elapsed_minutes(from, to)?;
    match args.common.format {
        Format::Text => println!("{}", human_minutes(minutes)),
        Format::Json => print_json(&json!({
            "minutes": minutes,
            "text": human_minutes(minutes),
            "from": clock.to_local(from).to_rfc3339(),
            "to": clock.to_local(to).to_rfc3339(),
            "office": args.common.office,
            "calendar_version": clock.version(),
        }))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let from = date("from", &args.from)?;
    let to = date("to", &args.to)?;
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let lang = Lang::parse(&args.lang)
        .ok_or_else(|| anyhow!("--lang `{}`: use kk, ru or en", args.lang))?;
    let (_, clock) = clock(&args.common)?;
    let mut entries = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        entries.push(clock.day_info(day)?);
    }
    match args.common.format {
        Format::Text => {
            for e in &entries {
                let hours: Vec<String> = e.hours.iter().map(ToString::to_string).collect();
                println!(
                    "{}  {}  {:<8} {}{}{}",
                    e.date,
                    e.date.format("%a"),
                    if e.working { "working" } else { "day off" },
                    e.reason.get(lang),
                    if hours.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", hours.join(", "))
                    },
                    if e.provisional { "  (provisional)" } else { "" }
                );
            }
        }
        Format::Json => {
            let list: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "date": e.date.to_string(),
                        "working": e.working,
                        "kind": e.kind.as_str(),
                        "reason": e.reason.get(lang),
                        "hours": e.hours.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "provisional": e.provisional,
                    })
                })
                .collect();
            print_json(&serde_json::Value::Array(list))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(root: &Path) -> anyhow::Result<ExitCode> {
    match Calendars::load(root) {
        Ok(cals) => {
            for w in cals.warnings() {
                eprint!("{}", rendered(w));
            }
            println!(
                "ok: {} calendar(s), {} region(s), {} office(s) in {}",
                cals.nationals().count(),
                cals.regions().count(),
                cals.offices().count(),
                root.display()
            );
            for cal in cals.nationals() {
                let (first, _) = cal.range();
                let decreed = cal.decreed_until();
                if cal.horizon() > decreed {
                    println!(
                        "{}: decreed {}–{decreed}; provisional {}–{} (generated from the rules of the law)",
                        cal.id(),
                        chrono::Datelike::year(&first),
                        decreed + 1,
                        cal.horizon()
                    );
                } else {
                    println!(
                        "{}: decreed {}–{decreed}; no provisional years",
                        cal.id(),
                        chrono::Datelike::year(&first)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(diags) => {
            for d in &diags {
                eprint!("{}", rendered(d));
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            eprintln!("{errors} error(s)");
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::human_minutes;

    #[test]
    fn formats_working_time() {
        assert_eq!(human_minutes(135), "2 h 15 min");
        assert_eq!(human_minutes(45), "45 min");
        assert_eq!(human_minutes(120), "2 h");
        assert_eq!(human_minutes(-61), "-1 h 1 min");
    }
}
