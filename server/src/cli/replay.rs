//! `reglament replay CASE [--at T] [--format text|json] [--db URL] [--against DRAFT.yaml]`:
//! one case's history checked and laid out step by step, or re-timed under a draft.
//!
//! Exit status: 0 when the chain is intact, the projections are what the events lead to and
//! every recorded deadline is what the pinned calendar gives; 1 when anything of that is not
//! so (the report says what); 2 when the replay could not be made. A what-if exits 0.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use reglament_audit::local_time;
use reglament_audit::replay::{Replay, ReplayOptions, replay};
use reglament_audit::whatif::{Change, WhatIf, compile_draft, whatif};
use reglament_model::text::Lang;
use reglament_runtime::{CaseId, Clocks};

use super::audit::{DbArgs, Format, RegulationsArg, calendars, parse_instant, parse_lang, runtime};

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The case's id.
    pub case: String,
    /// Also show the case as it stood at this instant (RFC 3339, or a date for its start).
    #[arg(long, value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,
    /// Re-time the case under this version of its regulation (a YAML file being drafted)
    /// and show which deadlines would have been breached.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// The instant of the audit: open tasks are judged at it (default: now).
    #[arg(long, value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Language of step names in the text form: kk, ru or en.
    #[arg(long, value_parser = parse_lang, default_value = "ru")]
    pub lang: Lang,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub regulations: RegulationsArg,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let calendars = calendars(&args.regulations.regulations);
        let clocks: Option<&dyn Clocks> = calendars.as_ref().map(|c| c as &dyn Clocks);
        let opts = ReplayOptions {
            at: args.at,
            now: args.now.unwrap_or_else(Utc::now),
            clocks,
        };
        let case = CaseId::new(&args.case);
        let code = match &args.against {
            Some(path) => {
                let source = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let draft = compile_draft(&source, &path.display().to_string())?;
                let w = whatif(&store, &case, &draft, &opts).await?;
                match args.format {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&w)?),
                    Format::Text => print!("{}", whatif_text(&w, args.lang)),
                }
                ExitCode::SUCCESS
            }
            None => {
                let r = replay(&store, &case, &opts).await?;
                match args.format {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&r)?),
                    Format::Text => print!("{}", replay_text(&r, args.lang)),
                }
                if r.is_clean() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
        };
        store.close().await;
        Ok(code)
    })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// A plain-text table: columns as wide as their widest cell.
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = width.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = width
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(c.chars().count());
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(head.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

fn or_dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "—".into())
}

/// The text form of a replay.
pub fn replay_text(r: &Replay, lang: Lang) -> String {
    let tz = r.time_zone.as_deref();
    let at = |t: DateTime<Utc>| local_time(t, tz);
    let mut s = String::new();
    s.push_str(&format!(
        "Case {} — {} v{} (digest {}…), channel {}, office {}\n",
        r.case,
        r.regulation.id,
        r.regulation.version,
        short(&r.regulation.digest),
        r.channel,
        r.office
    ));
    if r.offices.len() > 1 {
        s.push_str(&format!(
            "Offices {} (the office of each step is in its row)\n",
            r.offices.join(" → ")
        ));
    }
    s.push_str(&format!(
        "Calendar version {}{} · {} events · as of {}\n\n",
        r.calendar_version,
        tz.map(|z| format!(" ({z})")).unwrap_or_default(),
        r.events,
        at(r.as_of)
    ));
    match &r.chain.problem {
        None => s.push_str(&format!(
            "Hash chain    intact (head {}…)\n",
            short(r.chain.head.as_deref().unwrap_or(""))
        )),
        Some(p) => s.push_str(&format!(
            "Hash chain    BROKEN at event {}: {} — {}\n",
            p.seq, p.kind, p.detail
        )),
    }
    match (&r.projections, &r.fold_error) {
        (Some(p), _) if p.matches => s.push_str("Projections   match the events\n"),
        (Some(p), _) => {
            s.push_str(&format!(
                "Projections   DIFFER from the events in {} field(s):\n",
                p.differences.len()
            ));
            for d in &p.differences {
                let task = d.task.map(|t| format!(" task {t}")).unwrap_or_default();
                s.push_str(&format!(
                    "                {}{task}.{}: stored {}, events give {}\n",
                    d.table, d.field, d.stored, d.replayed
                ));
            }
        }
        (None, Some(e)) => s.push_str(&format!(
            "Projections   not compared: the events do not fold: {e}\n"
        )),
        (None, None) => {}
    }
    let d = &r.deadlines;
    if !d.recomputed && d.checked == 0 {
        s.push_str("Deadlines     not recomputed: no clock of the case's calendar version\n");
    } else if d.mismatches.is_empty() {
        s.push_str(&format!(
            "Deadlines     {} recomputed on their calendars: all agree\n",
            d.checked
        ));
    } else {
        s.push_str(&format!(
            "Deadlines     {} of {} DISAGREE with their calendars:\n",
            d.mismatches.len(),
            d.checked
        ));
        for m in &d.mismatches {
            s.push_str(&format!(
                "                event {}, {}: recorded {}, recomputed {} — {}\n",
                m.seq,
                m.target,
                or_dash(m.recorded.map(at)),
                or_dash(m.recomputed.map(at)),
                m.reason
            ));
        }
    }
    if !d.missing_versions.is_empty() {
        s.push_str(&format!(
            "              {} not checked: no clock of calendar version {}\n",
            d.unchecked,
            d.missing_versions.join(", ")
        ));
    }
    s.push('\n');
    s.push_str(&format!(
        "Status {}{} · started {} · registered {}{}\n",
        r.status,
        r.result
            .as_ref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default(),
        at(r.started_at),
        at(r.registered_at),
        r.ended_at
            .map(|e| format!(" · ended {}", at(e)))
            .unwrap_or_default()
    ));
    if let Some(t) = &r.term {
        let verdict = match t.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "pending",
        };
        s.push_str(&format!(
            "Statutory term {}{}: due {}, took {} → {}\n",
            t.term,
            if t.extended { " (extended)" } else { "" },
            at(t.due),
            or_dash(t.working_time.clone()),
            verdict
        ));
    }
    s.push('\n');
    // A case that crossed offices names the office of every step (on whose hours it counts).
    let offices = r.timeline.iter().any(|t| t.office.is_some());
    let rows: Vec<Vec<String>> = r
        .timeline
        .iter()
        .map(|t| {
            let name = t.name.as_ref().map(|n| n.get(lang)).unwrap_or(&t.step);
            let mut row = vec![
                t.task.to_string(),
                format!("{} ({})", t.step, name),
                t.role.clone(),
            ];
            if offices {
                row.push(t.office.clone().unwrap_or_else(|| r.office.clone()));
            }
            row.extend([
                at(t.opened_at),
                or_dash(t.closed_at.map(at)),
                or_dash(t.closed_by.clone().or_else(|| t.claimed_by.clone())),
                match t.status {
                    "completed" => t.outcome.clone().unwrap_or_else(|| "done".into()),
                    other => other.to_string(),
                },
                or_dash(t.working_time.clone()),
                or_dash(t.statutory.clone()),
                or_dash(t.due.map(at)),
                if t.breached {
                    if t.breach_recorded {
                        "BREACHED".into()
                    } else {
                        "BREACHED (not recorded)".into()
                    }
                } else {
                    "no".into()
                },
            ]);
            row
        })
        .collect();
    let mut head = vec!["#", "step", "role"];
    if offices {
        head.push("office");
    }
    head.extend([
        "opened",
        "closed",
        "by",
        "outcome",
        "worked",
        "statutory",
        "due",
        "breached",
    ]);
    s.push_str(&table(&head, &rows));
    if let Some(st) = &r.state_at {
        s.push_str(&format!(
            "\nAt {}: {} event(s) recorded, status {}{}{}\n",
            at(st.at),
            st.events,
            st.status,
            st.result
                .as_ref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            st.due
                .map(|d| format!(
                    ", term due {}{}",
                    at(d),
                    if st.overdue { " (OVERDUE)" } else { "" }
                ))
                .unwrap_or_default()
        ));
        if let Some(e) = &st.last_event {
            s.push_str(&format!(
                "Last event {} at {}: {} by {} ({}) — {}\n",
                e.seq,
                at(e.at),
                e.kind,
                e.user,
                e.role,
                e.summary
            ));
        }
        if st.open_tasks.is_empty() {
            s.push_str("No open task.\n");
        } else {
            let offices = st.open_tasks.iter().any(|t| t.office.is_some());
            let rows: Vec<Vec<String>> = st
                .open_tasks
                .iter()
                .map(|t| {
                    let name = t.name.as_ref().map(|n| n.get(lang)).unwrap_or(&t.step);
                    let mut row = vec![
                        t.task.to_string(),
                        format!("{} ({})", t.step, name),
                        t.role.clone(),
                    ];
                    if offices {
                        row.push(t.office.clone().unwrap_or_else(|| r.office.clone()));
                    }
                    row.extend([
                        or_dash(t.claimed_by.clone().or_else(|| t.assigned_to.clone())),
                        at(t.opened_at),
                        or_dash(t.due.map(at)),
                        if t.overdue {
                            "OVERDUE".into()
                        } else {
                            "no".into()
                        },
                    ]);
                    row
                })
                .collect();
            let mut head = vec!["#", "open task", "role"];
            if offices {
                head.push("office");
            }
            head.extend(["held by", "opened", "due", "overdue"]);
            s.push_str(&table(&head, &rows));
        }
    }
    s
}

fn change_text(c: Change) -> &'static str {
    match c {
        Change::NewlyBreached => "NEWLY BREACHED",
        Change::NoLongerBreached => "no longer breached",
        Change::StillBreached => "still breached",
        Change::OnTime => "on time",
        Change::OnlyReal => "only in reality",
        Change::OnlyDraft => "only in the draft",
    }
}

/// The text form of a what-if.
pub fn whatif_text(w: &WhatIf, lang: Lang) -> String {
    let at = |t: DateTime<Utc>| local_time(t, None);
    let mut s = format!(
        "What-if for case {}: {} v{} → draft {} v{} (digest {}…)\n",
        w.case,
        w.real.id,
        w.real.version,
        w.draft.id,
        w.draft.version,
        short(&w.draft.digest)
    );
    s.push_str(&format!(
        "{} decision(s) replayed on calendar version {}, channel {}, office {}; open work judged at {}\n",
        w.decisions,
        w.calendar_version,
        w.channel,
        w.office,
        at(w.horizon)
    ));
    s.push_str(&format!(
        "Outcome: {} in reality, {} under the draft\n",
        w.real_status, w.draft_status
    ));
    if let Some(d) = &w.diverged {
        s.push_str(&format!(
            "The draft parts from the history at event {} ({}): {} — {}. Nothing after it is compared.\n",
            d.seq,
            at(d.at),
            d.decision,
            d.reason
        ));
    }
    for k in &w.skipped {
        s.push_str(&format!(
            "Skipped event {}: {} — {}\n",
            k.seq, k.decision, k.reason
        ));
    }
    s.push('\n');
    let verdict = |b: bool| if b { "BREACHED" } else { "on time" };
    // The office of each task, when any is elsewhere than where the case was registered (or
    // the draft puts it elsewhere than reality did: `real → draft`).
    let offices = w.deadlines.iter().any(|d| {
        [&d.office, &d.draft_office]
            .into_iter()
            .flatten()
            .any(|o| *o != w.office)
    });
    let office = |d: &reglament_audit::whatif::DeadlineChange| match (&d.office, &d.draft_office) {
        (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
        (Some(a), _) | (None, Some(a)) => a.clone(),
        (None, None) => "—".into(),
    };
    let rows: Vec<Vec<String>> = w
        .deadlines
        .iter()
        .map(|d| {
            let what = match (d.target, d.task, d.draft_task) {
                ("case", ..) => "case".to_string(),
                (_, Some(t), _) => format!("task {t}"),
                (_, None, Some(t)) => format!("draft task {t}"),
                _ => "task".into(),
            };
            let name = d
                .name
                .as_ref()
                .map(|n| format!("{} ({})", d.step.clone().unwrap_or_default(), n.get(lang)))
                .or_else(|| d.step.clone());
            let mut row = vec![what, or_dash(name)];
            if offices {
                row.push(office(d));
            }
            row.extend([
                or_dash(d.real_term.clone()),
                or_dash(d.real_due.map(at)),
                or_dash(d.draft_term.clone()),
                or_dash(d.draft_due.map(at)),
                or_dash(d.done_at.map(at)),
                if d.real_due.is_some() {
                    verdict(d.real_breached).into()
                } else {
                    "—".into()
                },
                if d.draft_due.is_some() {
                    verdict(d.draft_breached).into()
                } else {
                    "—".into()
                },
                change_text(d.change).into(),
            ]);
            row
        })
        .collect();
    let mut head = vec!["deadline", "step"];
    if offices {
        head.push("office");
    }
    head.extend([
        "real term",
        "real due",
        "draft term",
        "draft due",
        "done",
        "real",
        "draft",
        "change",
    ]);
    s.push_str(&table(&head, &rows));
    s.push_str(&format!(
        "\n{} deadline(s): {} breached in reality, {} under the draft; newly breached {}, no longer breached {}.\n",
        w.summary.deadlines,
        w.summary.breached_real,
        w.summary.breached_draft,
        w.summary.newly_breached,
        w.summary.no_longer_breached
    ));
    s
}
