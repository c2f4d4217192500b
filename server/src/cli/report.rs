//! `reglament report compliance [--regulation ID] [--office ID] [--from D --to D]
//! [--format json|csv|html]`: compliance with statutory terms per regulation, office and
//! step, and per case. The HTML form is a page with charts drawn on the server (SVG). A case
//! is under the office that registered it, a step under the office that did it (a service
//! centre's case handed to the provider's office has its review in the provider's rows).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use reglament_audit::report::{compliance, to_csv, to_html_document};
use reglament_model::text::Lang;
use reglament_runtime::Clocks;
use reglament_store::scan::CaseFilter;

use super::audit::{
    DbArgs, RegulationsArg, calendars, parse_instant, parse_lang, parse_until, runtime,
};

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Per regulation, office and step: cases, median and 90th-percentile working time,
    /// breaches and breach rate; per case, whether the statutory term was met.
    Compliance(ComplianceArgs),
}

#[derive(clap::Args)]
pub struct ComplianceArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
    pub format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Open work is judged at this instant (default: now).
    #[arg(long, value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
    /// Language of names in CSV and HTML: kk, ru or en.
    #[arg(long, value_parser = parse_lang, default_value = "ru")]
    pub lang: Lang,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub regulations: RegulationsArg,
}

/// Which cases: shared by `report` and `export`.
#[derive(clap::Args, Clone)]
pub struct FilterArgs {
    /// Only cases of this regulation (its id).
    #[arg(long)]
    pub regulation: Option<String>,
    /// Only cases registered at this office or worked there (a provider office's report
    /// includes the cases centres and akims handed to it; each step names the office that
    /// did it).
    #[arg(long)]
    pub office: Option<String>,
    /// Only cases started on or after this date (Kazakhstan time) or instant.
    #[arg(long, value_parser = parse_instant)]
    pub from: Option<DateTime<Utc>>,
    /// Only cases started on or before this date (the whole day), or before this instant.
    #[arg(long, value_parser = parse_until)]
    pub to: Option<DateTime<Utc>>,
}

impl FilterArgs {
    pub fn filter(&self) -> CaseFilter {
        CaseFilter {
            regulation: self.regulation.clone(),
            office: self.office.clone(),
            started_from: self.from,
            started_before: self.to,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
    Html,
}

pub fn run(cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCommand::Compliance(args) => run_compliance(args),
    }
}

fn run_compliance(args: ComplianceArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let calendars = calendars(&args.regulations.regulations);
        let clocks: Option<&dyn Clocks> = calendars.as_ref().map(|c| c as &dyn Clocks);
        let now = args.now.unwrap_or_else(Utc::now);
        let report = compliance(&store, &args.filter.filter(), now, clocks).await?;
        store.close().await;
        let text = match args.format {
            ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
            ReportFormat::Csv => to_csv(&report, args.lang),
            ReportFormat::Html => to_html_document(&report, args.lang),
        };
        match &args.output {
            Some(path) => {
                std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!(
                    "Wrote the report on {} case(s) to {}",
                    report.cases.len(),
                    path.display()
                );
            }
            None => std::io::stdout().lock().write_all(text.as_bytes())?,
        }
        for v in &report.missing_calendars {
            eprintln!("note: no clock for calendar version {v}: its cases have no working times");
        }
        Ok(ExitCode::SUCCESS)
    })
}
