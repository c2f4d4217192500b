//! `reglament migrate PLAN`: moves the open cases of a regulation version onto another by a
//! migration plan, each with one `case_migrated` event in its chain; `--dry-run` writes
//! nothing and shows, case by case, where each task is and goes and its due instants before
//! and after (office time), with the moves that would put a case past due and the claimed
//! tasks whose holder would lose the role.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reglament_calendar::Calendars;
use reglament_model::migration_plan::load_plan_file;
use reglament_server::accounts::Accounts;
use reglament_server::migration_requests::{Warning, local, warnings};
use reglament_store::Service;
use reglament_store::case_migration::{CaseMigrationError, CaseMove, MigrationReport};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Html,
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The migration plan (YAML; see regulations/README.md, "Moving running cases").
    plan: PathBuf,
    #[command(flatten)]
    db: super::audit::DbArgs,
    /// Change nothing: show what would move, case by case.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The migration instant, RFC 3339 with an offset (default: now). `restart` counts from
    /// it, and a due instant at or before it is past due.
    #[arg(long)]
    now: Option<String>,
    /// The regulations folder (with `calendars/` and `offices/`): the calendars the cases'
    /// new due instants are counted on.
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    root: PathBuf,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let now = match &args.now {
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                anyhow!("--now `{s}` is not an instant: write RFC 3339 with an offset, e.g. 2026-03-20T17:45:00+05:00")
            })?,
        None => Utc::now(),
    };
    let plan = load_plan_file(&args.plan).map_err(|diags| {
        for d in diags.iter().skip(1) {
            eprint!(
                "{}",
                d.render(std::fs::read_to_string(&d.file).ok().as_deref())
            );
        }
        anyhow!(
            "{}",
            diags
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| "the plan did not load".into())
        )
    })?;
    let calendars = Calendars::load(&args.root).map_err(|diags| {
        anyhow!(
            "{}",
            diags
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| "the calendar data did not load".into())
        )
    })?;
    let zones: HashMap<String, Tz> = calendars
        .offices()
        .map(|o| (o.data.id.clone(), o.clock.zone()))
        .collect();
    let rt = super::audit::runtime()?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let service = Service::new(store.clone(), Arc::new(calendars));
        let started = std::time::Instant::now();
        let keep = args.dry_run || !matches!(args.format, Format::Text);
        let result = service.migrate_cases(&plan, now, args.dry_run, keep).await;
        let seconds = started.elapsed().as_secs_f64();
        let report = match result {
            Ok(r) => r,
            Err(CaseMigrationError::Plan(diags)) => {
                store.close().await;
                for d in diags.iter().skip(1) {
                    eprint!("{}", d.render(Some(&plan.source)));
                }
                return Err(anyhow!(
                    "{}",
                    diags.first().map(ToString::to_string).unwrap_or_default()
                ));
            }
            Err(e) => {
                store.close().await;
                return Err(e).context("migrating");
            }
        };
        let users = if args.dry_run {
            // A database without accounts (a bare store) has no one to lose a role.
            Accounts::new(store.clone()).users().await.ok()
        } else {
            None
        };
        store.close().await;
        let warnings = warnings(&report, now, users.as_deref(), &zones);
        match args.format {
            Format::Json => println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "report": report,
                    "warnings": warnings,
                }))?
            ),
            Format::Text => print!("{}", text(&report, &warnings, &zones, seconds)),
            Format::Html => print!("{}", html(&report, &warnings, &zones)),
        }
        Ok(if report.refused.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

fn step(t: &reglament_store::case_migration::TaskMove) -> String {
    if t.from_step == t.to_step {
        t.to_step.clone()
    } else {
        format!("{} → {}", t.from_step, t.to_step)
    }
}

fn text(
    report: &MigrationReport,
    warnings: &[Warning],
    zones: &HashMap<String, Tz>,
    seconds: f64,
) -> String {
    let mut out = String::new();
    for c in &report.cases {
        let _ = writeln!(out, "{}  ({})", c.case, c.office);
        for t in &c.tasks {
            let _ = writeln!(
                out,
                "  task {:<3} {}  [{}]  due {} → {}  ({})",
                t.task,
                step(t),
                t.role,
                local(zones, &t.office, t.due_before),
                local(zones, &t.office, t.due_after),
                t.policy.as_str()
            );
        }
        let _ = writeln!(
            out,
            "  case     statutory due {} → {}",
            local(zones, &c.office, c.case_due_before),
            local(zones, &c.office, c.case_due_after)
        );
        for w in warnings.iter().filter(|w| w.case == c.case) {
            let _ = writeln!(out, "  ! {}", w.message);
        }
    }
    for (case, why) in &report.refused {
        let _ = writeln!(out, "{case}: not moved: {why}");
    }
    let verb = if report.dry_run {
        "would move"
    } else {
        "moved"
    };
    let _ = writeln!(
        out,
        "{} v{} → v{}: {} open case(s) selected, {} {verb}, {} not moved, {} put past due by the move ({:.1} s){}",
        report.regulation,
        report.from_version,
        report.to_version,
        report.selected,
        report.migrated,
        report.refused.len(),
        report.into_breach,
        seconds,
        if report.dry_run {
            "; nothing was written"
        } else {
            ""
        }
    );
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(report: &MigrationReport, warnings: &[Warning], zones: &HashMap<String, Tz>) -> String {
    let mut out = String::new();
    let title = format!(
        "{} v{} → v{}",
        esc(&report.regulation),
        report.from_version,
        report.to_version
    );
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Migration {title}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}.warn{{color:#a00}}</style>\
         </head><body><h1>Migration {title}</h1><p>{} {} case(s) of {} selected; {} not moved; {} put past due. Plan digest <code>{}</code>.</p>\
         <table><thead><tr><th>Case</th><th>Office</th><th>Task</th><th>Step</th><th>Role</th><th>Due before</th><th>Due after</th><th>Policy</th></tr></thead><tbody>",
        if report.dry_run {
            "Would move"
        } else {
            "Moved"
        },
        report.migrated,
        report.selected,
        report.refused.len(),
        report.into_breach,
        esc(&report.plan_digest)
    );
    let row = |out: &mut String, c: &CaseMove, cells: [String; 6]| {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td>{}</tr>",
            esc(&c.case),
            esc(&c.office),
            cells
                .iter()
                .map(|x| format!("<td>{}</td>", esc(x)))
                .collect::<String>()
        );
    };
    for c in &report.cases {
        for t in &c.tasks {
            row(
                &mut out,
                c,
                [
                    t.task.to_string(),
                    step(t),
                    t.role.clone(),
                    local(zones, &t.office, t.due_before),
                    local(zones, &t.office, t.due_after),
                    t.policy.as_str().to_string(),
                ],
            );
        }
        row(
            &mut out,
            c,
            [
                "case".into(),
                String::new(),
                String::new(),
                local(zones, &c.office, c.case_due_before),
                local(zones, &c.office, c.case_due_after),
                String::new(),
            ],
        );
    }
    out.push_str("</tbody></table>");
    if !warnings.is_empty() || !report.refused.is_empty() {
        out.push_str("<h2>Warnings</h2><ul>");
        for w in warnings {
            let _ = write!(
                out,
                "<li class=\"warn\">{}: {}</li>",
                esc(&w.case),
                esc(&w.message)
            );
        }
        for (case, why) in &report.refused {
            let _ = write!(
                out,
                "<li class=\"warn\">{}: not moved: {}</li>",
                esc(case),
                esc(why)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</body></html>\n");
    out
}
