//! `reglament import-bpmn FILE.bpmn`: BPMN 2.0 read back into a YAML draft of a regulation
//! (standard output, or `--output`). The elements outside the supported subset are listed on
//! standard error with their lines; the gaps BPMN leaves are marked `TODO(import)` in the
//! draft, for `reglament validate` to explain. A file that is not BPMN is one error line and
//! exit code 1.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use reglament_model::bpmn::{ImportOptions, import};
use reglament_model::text::Lang;

use super::inspect::parse_lang;

#[derive(clap::Args)]
pub struct ImportBpmnArgs {
    /// The BPMN 2.0 file (`.bpmn` XML).
    pub file: PathBuf,
    /// The language of the BPMN names, for a file without Reglament's extension elements.
    #[arg(long, value_parser = parse_lang, default_value = "ru")]
    pub lang: Lang,
    /// The region whose offices provide the service, if the file does not say.
    #[arg(long)]
    pub region: Option<String>,
    /// The first day the regulation applies (YYYY-MM-DD), if the file does not say.
    #[arg(long)]
    pub valid_from: Option<NaiveDate>,
    /// The legal act the regulation was approved by, if the file does not say.
    #[arg(long)]
    pub act: Option<String>,
    /// Write the draft to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(args: ImportBpmnArgs) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {file}"))?;
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!("{file}: error: the file is not UTF-8 text, so it is not BPMN XML");
        return Ok(ExitCode::from(1));
    };
    let options = ImportOptions {
        lang: args.lang,
        region: args.region,
        valid_from: args.valid_from,
        act: args.act,
    };
    let imported = match import(&text, &options) {
        Ok(i) => i,
        Err(e) => {
            let column = e.column().map(|c| format!(":{c}")).unwrap_or_default();
            eprintln!("{file}:{}{column}: error: {e}", e.line());
            return Ok(ExitCode::from(1));
        }
    };
    for f in &imported.findings {
        let what = if f.unsupported {
            "not imported"
        } else {
            "note"
        };
        let id =
            f.id.as_deref()
                .map(|i| format!(" `{i}`"))
                .unwrap_or_default();
        eprintln!(
            "{file}:{}: {what}: {}{id}: {}",
            f.line, f.element, f.message
        );
    }
    if !imported.gaps.is_empty() {
        eprintln!(
            "{file}: the draft has {} gap(s) marked TODO(import); `reglament validate` explains what is missing",
            imported.gaps.len()
        );
    }
    match &args.output {
        Some(out) => std::fs::write(out, &imported.yaml)
            .with_context(|| format!("cannot write {}", out.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(imported.yaml.as_bytes())
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
