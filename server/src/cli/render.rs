//! `reglament render ID`: the process as a swimlane diagram (SVG, drawn in-process), or as
//! Mermaid or Graphviz DOT text for documents and wikis, or as BPMN 2.0 with its diagram.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use reglament_model::bpmn;
use reglament_model::render::{self, Options};
use reglament_model::text::Lang;
use reglament_model::validate;

use super::find::find_regulation;
use super::inspect::parse_lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A standalone SVG swimlane diagram.
    Svg,
    /// A Mermaid `flowchart LR` with a subgraph per role.
    Mermaid,
    /// A Graphviz `digraph` with a cluster per role.
    Dot,
    /// A BPMN 2.0 document with its diagram (BPMN DI), for bpmn.io and Camunda Modeler; the
    /// whole process (`--channel` and `--highlight` do not apply).
    Bpmn,
}

#[derive(clap::Args)]
pub struct RenderArgs {
    /// The regulation's id (or a path to its file).
    pub id: String,
    #[arg(long, value_enum, default_value = "svg")]
    pub format: Format,
    /// Draw only the steps this channel's cases can reach, with its durations.
    #[arg(long)]
    pub channel: Option<String>,
    /// Language of names and labels.
    #[arg(long, value_parser = parse_lang, default_value = "ru")]
    pub lang: Lang,
    /// A step to emphasise (may be repeated).
    #[arg(long = "highlight", value_name = "STEP")]
    pub highlight: Vec<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    pub root: PathBuf,
}

pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let path = find_regulation(&args.root, &args.id)?;
    let report = validate::check_file(&path, None);
    let Some(process) = report.process else {
        for d in &report.diagnostics {
            eprintln!("{}", d.render(report.source.as_deref()));
        }
        return Ok(ExitCode::from(1));
    };
    let options = Options {
        lang: args.lang,
        channel: args.channel,
        highlight: args.highlight,
    };
    options.check(&process)?;
    let text = match args.format {
        Format::Svg => render::svg(&process, &options),
        Format::Mermaid => render::mermaid(&process, &options),
        Format::Dot => render::dot(&process, &options),
        Format::Bpmn => {
            if options.channel.is_some() || !options.highlight.is_empty() {
                anyhow::bail!(
                    "--channel and --highlight do not apply to --format bpmn: BPMN holds the whole process"
                );
            }
            bpmn::export(&process, options.lang)
        }
    };
    match &args.output {
        Some(file) => std::fs::write(file, text)
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
