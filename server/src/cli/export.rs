//! `reglament export --format xes|csv|jsonl|ocel [--regulation ID] [--office ID]
//! [--from D --to D] [--output FILE]`: the event log for process mining (ProM, PM4Py, Disco)
//! or, as JSON lines, whole with its hashes.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use reglament_audit::export::{ExportFormat, export};
use reglament_model::text::Lang;

use super::audit::{DbArgs, parse_lang, runtime};
use super::report::FilterArgs;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// `xes` (IEEE 1849-2016), `csv`, `jsonl` (every event with its hash) or `ocel` (OCEL 2.0 JSON).
    #[arg(long, value_enum)]
    pub format: Format,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Language of activity names (step names): kk, ru or en.
    #[arg(long, value_parser = parse_lang, default_value = "ru")]
    pub lang: Lang,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Xes,
    Csv,
    Jsonl,
    Ocel,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Format::Xes => ExportFormat::Xes,
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::Jsonl,
        Format::Ocel => ExportFormat::Ocel,
    };
    let rt = runtime()?;
    rt.block_on(async {
        let store = args.db.open().await?;
        let mut out: Box<dyn Write + Send> = match &args.output {
            Some(path) => Box::new(BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout())),
        };
        let summary = export(&store, &args.filter.filter(), format, args.lang, &mut *out).await?;
        out.flush()?;
        drop(out);
        store.close().await;
        eprintln!(
            "Exported {} case(s), {} event(s){}{}",
            summary.traces,
            summary.events,
            if summary.objects > 0 {
                format!(", {} object(s)", summary.objects)
            } else {
                String::new()
            },
            args.output
                .as_ref()
                .map(|p| format!(" to {}", p.display()))
                .unwrap_or_default()
        );
        Ok(ExitCode::SUCCESS)
    })
}
