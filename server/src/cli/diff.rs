//! `reglament diff OLD NEW [--format text|json|html] [--lang kk|ru|en] [--db URL]`: what a
//! new version of a regulation changes, in an analyst's terms, each change with `file:line`
//! in both files.
//!
//! OLD and NEW are YAML files, or `ID@VERSION` (`atyrau-child-benefit@3`, `…@v3`) read from
//! the database the server uses (`--db`, as `reglament replay`); a path that exists is a file.
//!
//! Exit status, as `diff` and `git diff --exit-code`: 0 when nothing changed, 1 when something
//! did, 2 when the comparison could not be made (a file that does not read or load, a version
//! that is not deployed).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use reglament_model::diff::{self, render_html, render_text};
use reglament_model::load::{Loaded, load_str};
use reglament_model::render;
use reglament_model::text::Lang;
use reglament_model::validate;
use reglament_store::Store;
use reglament_store::side::SqlArg;

use super::audit::{DbArgs, parse_lang, runtime};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The old version: a YAML file, or `ID@VERSION` from the database.
    pub old: String,
    /// The new version: a YAML file, or `ID@VERSION` from the database.
    pub new: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Language of the words (text and HTML): kk, ru or en.
    #[arg(long, value_parser = parse_lang, default_value = "en")]
    pub lang: Lang,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// A self-contained page with the new version's diagram, its changed steps marked.
    Html,
}

/// Where a version comes from.
enum Spec {
    File(PathBuf),
    Deployed { id: String, version: u32 },
}

fn spec(arg: &str) -> anyhow::Result<Spec> {
    if Path::new(arg).exists() {
        return Ok(Spec::File(PathBuf::from(arg)));
    }
    let Some((id, version)) = arg.rsplit_once('@') else {
        bail!(
            "{arg}: no such file (a deployed version is written ID@VERSION, e.g. atyrau-child-benefit@3)"
        );
    };
    let digits = version.strip_prefix('v').unwrap_or(version);
    let version: u32 = digits
        .parse()
        .map_err(|_| anyhow!("{arg}: `{version}` is not a version number (write ID@3 or ID@v3)"))?;
    if id.is_empty() {
        bail!("{arg}: the regulation id is missing before `@`");
    }
    Ok(Spec::Deployed {
        id: id.to_string(),
        version,
    })
}

/// The stored source of a deployed version, as it was deployed.
async fn deployed_source(store: &Store, id: &str, version: u32) -> anyhow::Result<String> {
    let rows: Vec<(String,)> = store
        .read_side(
            "SELECT source FROM regulations WHERE regulation_id = $1 AND version = $2",
            vec![
                SqlArg::Text(id.to_string()),
                SqlArg::Int(i64::from(version)),
            ],
        )
        .await
        .with_context(|| format!("reading {id}@{version}"))?;
    match rows.into_iter().next() {
        Some((source,)) => Ok(source),
        None => bail!(
            "{id}@{version}: no such version is deployed in {}",
            store.url()
        ),
    }
}

/// Loads a text; a mistake in it is one line: the first diagnostic, and how many more.
fn load(text: &str, name: &str) -> anyhow::Result<Loaded> {
    load_str(text, name).map_err(|diags| {
        let more = match diags.len() {
            0 | 1 => String::new(),
            n => format!(" (and {} more; see `reglament validate`)", n - 1),
        };
        anyhow!(
            "{}{more}",
            diags.first().map(|d| d.header()).unwrap_or_default()
        )
    })
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let specs = [spec(&args.old)?, spec(&args.new)?];
    let mut texts: Vec<(String, String)> = Vec::new();
    let needs_db = specs.iter().any(|s| matches!(s, Spec::Deployed { .. }));
    let store = if needs_db {
        let rt = runtime()?;
        let store = rt.block_on(args.db.open())?;
        Some((rt, store))
    } else {
        None
    };
    for s in &specs {
        match s {
            Spec::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                texts.push((text, path.display().to_string()));
            }
            Spec::Deployed { id, version } => {
                let Some((rt, store)) = &store else {
                    unreachable!("the database is opened when a version is deployed")
                };
                let text = rt.block_on(deployed_source(store, id, *version))?;
                texts.push((text, format!("{id}@{version}")));
            }
        }
    }
    if let Some((rt, store)) = store {
        rt.block_on(store.close());
    }
    let old = load(&texts[0].0, &texts[0].1)?;
    let new = load(&texts[1].0, &texts[1].1)?;
    let d = diff::diff(&old, &new);
    let out = match args.format {
        Format::Text => render_text::text(&d, args.lang),
        Format::Json => serde_json::to_string_pretty(&d)? + "\n",
        Format::Html => {
            // The diagram needs a version that compiles; a draft with errors gets the table alone.
            let report = validate::check_str(&new.source, &new.file, None);
            let svg = report.process.map(|p| {
                let options = render::Options {
                    lang: args.lang,
                    ..Default::default()
                };
                render::svg_marked(&p, &options, &d.diagram_marks(args.lang))
            });
            render_html::page(&d, args.lang, svg.as_deref())
        }
    };
    print!("{out}");
    Ok(if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
