//! `reglament simulate ID --channel C --start T [--decide step=outcome ...]`: one case in
//! memory with simulated time, printed step by step with its due instants and the office of
//! every task.
//!
//! With `--office` a service centre or a rural akim whose offices file names the provider
//! office it forwards to, the case is routed as registration routes it
//! ([`reglament_server::routing::route`]): each task opens at the office of its role's kind,
//! its due instant on that office's hours, and the hand-overs are printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use chrono::{DateTime, Utc};
use reglament_calendar::{Calendars, OfficeClock, OfficeKind};
use reglament_model::paths;
use reglament_model::validate;
use reglament_runtime::simulate::{self, Pace, Scenario};
use reglament_runtime::{Event, EventKind};

use super::find::find_regulation;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// The regulation's id (or a path to its file).
    pub id: String,
    /// The channel the application comes through.
    #[arg(long)]
    pub channel: String,
    /// When the application arrives (RFC 3339, e.g. 2026-03-20T17:45:00+05:00).
    #[arg(long, value_parser = parse_instant)]
    pub start: DateTime<Utc>,
    /// The outcome to choose at a step, e.g. `--decide review=refuse` (repeatable).
    #[arg(long = "decide", value_parser = parse_decision)]
    pub decisions: Vec<(String, String)>,
    /// The office where the application is received (default: the region's first office of
    /// the channel's kind: a service centre for a centre channel, a rural akim for an akim
    /// channel, else a provider office). A service centre or rural akim that forwards to a
    /// provider office routes the case: each task at the office of its role's kind.
    #[arg(long)]
    pub office: Option<String>,
    /// For an office that forwards to several provider offices (the regional service
    /// centre): the applicant's district's provider office.
    #[arg(long)]
    pub forward_to: Option<String>,
    /// Report documents missing right after registration (the extended term applies).
    #[arg(long)]
    pub documents_missing: bool,
    /// `due`: each task takes all its allowed time; `instant`: each is done at once.
    #[arg(long, value_enum, default_value_t = PaceArg::Due)]
    pub pace: PaceArg,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    pub root: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PaceArg {
    Due,
    Instant,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("`{s}` is not an RFC 3339 instant, e.g. 2026-03-20T17:45:00+05:00"))
}

fn parse_decision(s: &str) -> Result<(String, String), String> {
    let (step, outcome) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: write STEP=OUTCOME, e.g. review=refuse"))?;
    Ok((step.trim().to_string(), outcome.trim().to_string()))
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let path = find_regulation(&args.root, &args.id)?;
    let report = validate::check_file(&path, None);
    let Some(process) = report.process else {
        for d in &report.diagnostics {
            eprintln!("{}", d.render(report.source.as_deref()));
        }
        return Ok(ExitCode::from(1));
    };
    let process = Arc::new(process);
    process.channel(&args.channel).ok_or_else(|| {
        let names: Vec<&str> = process
            .regulation
            .channels
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        anyhow!(
            "regulation `{}` has no channel `{}`; its channels are: {}",
            process.id(),
            args.channel,
            names.join(", ")
        )
    })?;
    for (step, outcome) in &args.decisions {
        let Some(i) = process.step_index(step) else {
            bail!(
                "--decide {step}={outcome}: regulation `{}` has no step `{step}`",
                process.id()
            );
        };
        let ok = process
            .next_steps(i)
            .iter()
            .any(|(e, _)| e.label().as_deref() == Some(outcome));
        if !ok {
            bail!("--decide {step}={outcome}: step `{step}` has no outcome `{outcome}`");
        }
    }
    let calendars = Calendars::load(&args.root).map_err(|errors| {
        anyhow!(
            "the calendars under {} do not load: {}",
            args.root.display(),
            errors.first().map(ToString::to_string).unwrap_or_default()
        )
    })?;
    let office = match &args.office {
        Some(o) => o.clone(),
        None => {
            let kind = paths::channel_office(&process, &args.channel)
                .unwrap_or(OfficeKind::ProviderOffice);
            default_office(&calendars, &process.regulation.region, kind).with_context(|| {
                format!(
                    "region `{}` has no {} to receive channel `{}`; pass --office",
                    process.regulation.region,
                    kind.as_str(),
                    args.channel
                )
            })?
        }
    };
    let clock: OfficeClock = calendars.clock(Some(&office))?;
    // Routed as registration routes it.
    let route =
        reglament_server::routing::route(&calendars, &process, &office, args.forward_to.as_deref())
            .map_err(|e| anyhow!("--office {office}: {e}"))?;
    let scenario = Scenario {
        channel: args.channel.clone(),
        office: office.clone(),
        start: args.start,
        decisions: args.decisions.into_iter().collect::<BTreeMap<_, _>>(),
        data: None,
        documents_missing: args.documents_missing,
        pace: match args.pace {
            PaceArg::Due => Pace::Due,
            PaceArg::Instant => Pace::Instant,
        },
    };
    let sim = if route.is_empty() {
        simulate::run(&process, &clock, &scenario)?
    } else {
        simulate::run_routed(&process, Arc::new(calendars.clone()), &scenario, &route)?
    };
    match args.format {
        Format::Json => {
            let mut out = serde_json::json!({
                "regulation": process.id(),
                "version": process.version(),
                "channel": scenario.channel,
                "office": office,
                "events": sim.events,
            });
            if !route.is_empty() {
                out["route"] = serde_json::json!(route);
            }
            println!("{}", serde_json::to_string_pretty(&out)?)
        }
        Format::Text => {
            if !route.is_empty() {
                // Where the case is received first, then where it is forwarded.
                let mut stops: Vec<(&String, &String)> = route.iter().collect();
                stops.sort_by_key(|(_, o)| **o != office);
                let stops: Vec<String> = stops.iter().map(|(k, o)| format!("{o} ({k})")).collect();
                println!("route: {}", stops.join(" → "));
            }
            print!("{}", timeline(&sim.events, &clock, &calendars))
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The case belongs to the authority that decides it, so its deadlines run on the provider
/// office's hours even when the application came in through an akim or a centre.
/// The region's first office of `kind`; for a service centre or a rural akim, the first that
/// forwards to one provider office (so that the case is routed without a choice).
fn default_office(calendars: &Calendars, region: &str, kind: OfficeKind) -> Option<String> {
    calendars
        .offices()
        .filter(|o| o.region == region && o.data.kind == kind)
        .find(|o| {
            kind == OfficeKind::ProviderOffice
                || o.data
                    .forwards_to
                    .as_ref()
                    .is_some_and(|f| f.offices().len() == 1)
        })
        .map(|o| o.data.id.clone())
}

/// The case step by step, instants in the local time of the case's office (a task's due
/// instant in its own office's); each task names its office.
fn timeline(events: &[Event], clock: &OfficeClock, calendars: &Calendars) -> String {
    use std::fmt::Write as _;
    let local = |t: DateTime<Utc>| clock.to_local(t).format("%a %Y-%m-%d %H:%M").to_string();
    let registered = match events.first().map(|e| &e.kind) {
        Some(EventKind::CaseStarted { office, .. }) => office.as_str(),
        _ => "",
    };
    let local_at = |office: &str, t: DateTime<Utc>| match calendars.clock(Some(office)) {
        Ok(c) if office != registered => c.to_local(t).format("%a %Y-%m-%d %H:%M").to_string(),
        _ => local(t),
    };
    let mut out = String::new();
    for e in events {
        let what = match &e.kind {
            EventKind::CaseStarted {
                regulation,
                channel,
                registered_at,
                deadline,
                ..
            } => format!(
                "case started: {regulation} via {channel}; registered {}; statutory due {}",
                local(*registered_at),
                deadline
                    .as_ref()
                    .map_or("— (no term)".to_string(), |d| format!(
                        "{} ({})",
                        local(d.due),
                        d.term
                    ))
            ),
            EventKind::TaskOpened {
                task,
                step,
                role,
                deadline,
                office,
            } => {
                let office = office.as_deref().unwrap_or(registered);
                format!(
                    "task {task} opened: {step} [{role}] at {office}; due {}",
                    deadline.as_ref().map_or("—".to_string(), |d| format!(
                        "{} ({})",
                        local_at(office, d.due),
                        d.term
                    ))
                )
            }
            EventKind::CaseHandedOver { from, to, step } => {
                format!("handed over from {from} to {to}, for {step}")
            }
            EventKind::TaskCompleted { task, outcome, .. } => format!(
                "task {task} completed by {}{}",
                e.actor.user,
                outcome
                    .as_ref()
                    .map(|o| format!(" → {o}"))
                    .unwrap_or_default()
            ),
            EventKind::BranchTaken { step, next, .. } => format!("{step} → {next}"),
            EventKind::DispatchQueued { step, release_at } => {
                format!("{step}: waits for dispatch at {}", local(*release_at))
            }
            EventKind::DispatchReleased { step } => format!("{step}: dispatched"),
            EventKind::DocumentsMissing { deadline, .. } => format!(
                "documents missing: extended due {}",
                deadline.as_ref().map_or("—".to_string(), |d| format!(
                    "{} ({})",
                    local(d.due),
                    d.term
                ))
            ),
            EventKind::DeadlineBreached { target, due, .. } => {
                format!("BREACH {target:?}: due was {}", local(*due))
            }
            EventKind::CaseEnded { result, .. } => format!("case ended: {}", result.as_str()),
            EventKind::TaskClaimed { .. } => continue,
            other => other.name().replace('_', " "),
        };
        let _ = writeln!(out, "{}  {what}", local(e.at));
    }
    out
}
