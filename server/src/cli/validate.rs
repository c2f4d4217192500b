//! `reglament validate [PATH...]`: every error and warning, each at its line and column.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use reglament_model::diagnostic::Diagnostic;
use reglament_model::validate::{self, Known};

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Regulation files or folders (searched for *.yaml).
    #[arg(default_value = "regulations")]
    pub paths: Vec<PathBuf>,
    /// Output for people (`text`) or for editors and CI (`json`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// The regulations folder holding `calendars/` and `offices/`, to check `region` and `calendar`.
    #[arg(
        long = "regulations",
        alias = "root",
        env = "REGLAMENT_REGULATIONS",
        default_value = "regulations"
    )]
    pub root: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Region and calendar ids are the file names under `offices/` and `calendars/`.
pub fn known_from(root: &Path) -> Option<Known> {
    let stems = |dir: &str| -> HashSet<String> {
        std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                let ext = p.extension()?.to_str()?;
                matches!(ext, "yaml" | "yml")
                    .then(|| p.file_stem()?.to_str().map(str::to_string))?
            })
            .collect()
    };
    // The offices' hours make the linter's sums right (a North Kazakhstan department's day
    // is 7 hours); a folder whose calendars do not load still gets its references checked.
    let days = reglament_calendar::Calendars::load(root)
        .map(|c| c.day_lengths())
        .unwrap_or_default();
    let known = Known {
        regions: stems("offices"),
        calendars: stems("calendars"),
        days,
    };
    (!known.regions.is_empty() || !known.calendars.is_empty()).then_some(known)
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    for p in &args.paths {
        if !p.exists() {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    let files =
        validate::regulation_files(&args.paths).context("cannot list the regulation files")?;
    if files.is_empty() {
        anyhow::bail!("no regulation files (*.yaml) under the given paths");
    }
    let known = known_from(&args.root);
    let reports: Vec<_> = files
        .iter()
        .map(|f| validate::check_file(f, known.as_ref()))
        .collect();
    let errors: usize = reports.iter().map(|r| r.errors()).sum();
    let warnings: usize = reports.iter().map(|r| r.warnings()).sum();
    match args.format {
        Format::Text => {
            for r in &reports {
                for d in &r.diagnostics {
                    println!("{}", d.render(r.source.as_deref()));
                }
            }
            println!(
                "checked {} file{}: {errors} error{}, {warnings} warning{}",
                reports.len(),
                plural(reports.len()),
                plural(errors),
                plural(warnings)
            );
        }
        Format::Json => {
            let files: Vec<_> = reports
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "file": r.file,
                        "id": r.process.as_ref().map(|p| p.id().to_string()),
                        "errors": r.errors(),
                        "warnings": r.warnings(),
                    })
                })
                .collect();
            let diagnostics: Vec<&Diagnostic> =
                reports.iter().flat_map(|r| r.diagnostics.iter()).collect();
            let out = serde_json::json!({
                "files": files,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diagnostics,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
