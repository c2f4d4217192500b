//! `reglament inspect ID`: roles, channels, steps and, per channel, every path with its time.
//! Each role and each step names the kind of office that does it (the role's `office`; `—`
//! where the regulation leaves it to the office where the case was registered).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use reglament_model::compile::Process;
use reglament_model::model::{RoleKind, Step};
use reglament_model::paths::{self, DayLengths, WorkingDay, format_minutes};
use reglament_model::text::Lang;
use reglament_model::validate;

use super::find::find_regulation;

#[derive(clap::Args)]
pub struct InspectArgs {
    /// The regulation's id (or a path to its file).
    pub id: String,
    /// Language of names.
    #[arg(long, value_parser = parse_lang, default_value = "ru")]
    pub lang: Lang,
    /// How many paths to list per channel at most.
    #[arg(long, default_value_t = 50)]
    pub max_paths: usize,
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    pub root: PathBuf,
}

pub fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("`{s}` is not a language: use kk, ru or en"))
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let path = find_regulation(&args.root, &args.id)?;
    let report = validate::check_file(&path, None);
    let Some(process) = report.process else {
        for d in &report.diagnostics {
            eprintln!("{}", d.render(report.source.as_deref()));
        }
        return Ok(ExitCode::from(1));
    };
    // Path times count each step on the working day of the office where it is done; without
    // the region's offices every day is the default eight hours.
    let days = reglament_calendar::Calendars::load(&args.root)
        .ok()
        .and_then(|c| {
            c.regions()
                .find(|r| r.id() == process.regulation.region)
                .map(|r| r.day_lengths())
        })
        .unwrap_or_default();
    print!("{}", describe(&process, args.lang, args.max_paths, &days));
    Ok(ExitCode::SUCCESS)
}

/// The whole description as text.
pub fn describe(p: &Process, lang: Lang, max_paths: usize, days: &DayLengths) -> String {
    let reg = &p.regulation;
    let mut out = String::new();
    let _ = writeln!(out, "{} v{} — {}", reg.id, reg.version, reg.title.get(lang));
    let _ = writeln!(
        out,
        "source: {}{}",
        reg.source.act,
        reg.source
            .appendix
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "valid from {}; region {}; calendar {}",
        reg.valid_from, reg.region, reg.calendar
    );
    let _ = writeln!(out, "\nroles:");
    for r in &reg.roles {
        let kind = match r.kind {
            RoleKind::Person => "person",
            RoleKind::System => "system",
        };
        let _ = writeln!(
            out,
            "  {:<20} {:<7} {:<16} {}",
            r.id,
            kind,
            r.office.map_or("—", |o| o.as_str()),
            r.name.get(lang)
        );
    }
    let _ = writeln!(out, "\nchannels:");
    for c in &reg.channels {
        let term = c
            .term
            .as_ref()
            .map(|t| format!("{} («{}»)", t.duration, t.text))
            .unwrap_or_else(|| "no statutory term".to_string());
        let _ = writeln!(
            out,
            "  {:<12} {:<16} starts at {:<18} term {}",
            c.id,
            c.kind.as_str(),
            c.start,
            term
        );
        if let Some(ext) = &c.extended_term {
            let _ = writeln!(
                out,
                "  {:<12} extended term {} («{}»)",
                "", ext.duration, ext.text
            );
        }
        if c.counting.receipt_and_issue_days_excluded {
            let _ = writeln!(
                out,
                "  {:<12} the days of receipt and issue are not counted",
                ""
            );
        }
    }
    let _ = writeln!(
        out,
        "\nsteps (id, kind, role, office where it is done, time, name):"
    );
    for (i, s) in reg.steps.iter().enumerate() {
        let role = s.role().unwrap_or("-");
        // Steps without a role (gateways, ends) are done nowhere in particular.
        let office = match s.role() {
            None => "",
            Some(id) => reg
                .roles
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.office)
                .map_or("—", |o| o.as_str()),
        };
        let name = s.name().map(|n| n.get(lang)).unwrap_or("");
        let mut durations = Vec::new();
        if let Some(d) = p.duration(i, "") {
            durations.push(d.to_string());
        }
        if let Step::Task(t) = s {
            for (c, d) in &t.durations {
                durations.push(format!("{c}: {d}"));
            }
        }
        let _ = writeln!(
            out,
            "  {:<22} {:<9} {:<18} {:<16} {:<28} {}",
            s.id(),
            s.kind_name(),
            role,
            office,
            durations.join(", "),
            name
        );
    }
    for c in &reg.channels {
        let (list, truncated) = paths::channel_paths(p, &c.id, days, max_paths);
        let day = paths::term_day(p, &c.id, days);
        let _ = writeln!(out, "\npaths on channel {} ({}):", c.id, list.len());
        let _ = writeln!(out, "  {}", day_line(p, &c.id, days));
        let limit = c
            .term
            .as_ref()
            .map(|t| paths::term_minutes(t.duration, day));
        for path in &list {
            let end = match p.step(*path.steps.last().unwrap_or(&0)) {
                Step::End(e) => e.result.as_str(),
                _ => "?",
            };
            let over = match limit {
                Some(l) if path.minutes > l => "  OVER THE TERM",
                _ => "",
            };
            let ids: Vec<String> = path
                .steps
                .iter()
                .zip(&path.outcomes)
                .map(|(&s, o)| match o {
                    Some(o) => format!("{}[{o}]", p.step(s).id()),
                    None => p.step(s).id().to_string(),
                })
                .collect();
            let _ = writeln!(
                out,
                "  {:<10} {:<26}{over}\n    {}",
                end,
                format_minutes(path.minutes, day),
                ids.join(" → ")
            );
        }
        if truncated {
            let _ = writeln!(out, "  … more paths not shown (raise --max-paths)");
        }
    }
    out
}

/// How a channel's path times are counted: the working day of the office where the term runs
/// and of each other office its steps are done at.
fn day_line(p: &Process, channel: &str, days: &DayLengths) -> String {
    let term = paths::channel_office(p, channel);
    let mut kinds: Vec<_> = paths::channel_steps(p, channel)
        .into_iter()
        .filter_map(|s| paths::step_office(p, s, channel))
        .filter(|&k| Some(k) != term)
        .collect();
    kinds.sort();
    kinds.dedup();
    let of = |k: Option<reglament_model::model::OfficeKind>| {
        let m = days.minutes_at(k);
        format!(
            "{} {} h{}",
            k.map_or("office", |k| k.as_str()),
            m / 60,
            if !m.is_multiple_of(60) {
                format!(" {} min", m % 60)
            } else {
                String::new()
            }
        )
    };
    let mut line = format!("working day: {}", of(term));
    if !kinds.is_empty() {
        let others: Vec<String> = kinds.into_iter().map(|k| of(Some(k))).collect();
        line.push_str(&format!(
            " (the term's day); steps at {} count their hours as a share of their own day",
            others.join(", ")
        ));
    }
    line
}
