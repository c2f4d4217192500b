//! regulations/README.md is the analysts' reference for the format. It must explain every
//! diagnostic code the validator can report (and no other), list every duration spelling the
//! parser accepts, and show the example regulation as it is; the example must validate with
//! no error and no warning.

use std::collections::BTreeSet;
use std::path::Path;

use reglament_model::diagnostic::Code;
use reglament_model::duration::{ALIASES, Term};
use reglament_model::validate::{self, Known};
use reglament_suite::{regulations_dir, repo_root};

const EXAMPLE: &str = "examples/regulations/minimal.yaml";

fn readme() -> String {
    std::fs::read_to_string(regulations_dir().join("README.md")).expect("regulations/README.md")
}

/// The text of the README section whose heading is `heading`, up to the next `## `.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("regulations/README.md has no `## {heading}` section"));
    let body = &readme[start + 1..];
    let end = body[3..].find("\n## ").map_or(body.len(), |i| i + 3);
    &body[..end]
}

/// The codes in the first column of the README's table of codes.
fn documented_codes() -> Vec<String> {
    let readme = readme();
    section(&readme, "Every error and warning code")
        .lines()
        .filter_map(|line| {
            let code = line.strip_prefix("| `")?.split('`').next()?;
            let well_formed = code.len() == 4
                && (code.starts_with('E') || code.starts_with('W'))
                && code[1..].bytes().all(|b| b.is_ascii_digit());
            well_formed.then(|| code.to_string())
        })
        .collect()
}

/// The codes some part of the engine reports: those named as `Code::…` outside the module
/// that declares them. A code declared but never reported is not for analysts to look up.
fn reported_codes() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("engine sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "diagnostic.rs")
            {
                let text = std::fs::read_to_string(&path).expect("read");
                for code in Code::ALL {
                    if text.contains(&format!("Code::{}", code.as_str())) {
                        out.insert(code.as_str().to_string());
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&repo_root().join("engine"), &mut out);
    out
}

#[test]
fn the_readme_explains_every_code_the_validator_reports() {
    let documented = documented_codes();
    let reported = reported_codes();
    let mut problems = Vec::new();
    for code in Code::ALL.iter().map(|c| c.as_str()) {
        let in_table = documented.iter().filter(|d| *d == code).count();
        match (reported.contains(code), in_table) {
            (true, 0) => problems.push(format!("{code} is reported but not in the README's table")),
            (false, n) if n > 0 => problems.push(format!(
                "{code} is in the README's table but nothing reports it; remove the row or report it"
            )),
            (_, n) if n > 1 => problems.push(format!("{code} has {n} rows in the README's table")),
            _ => {}
        }
    }
    for code in &documented {
        if !Code::ALL.iter().any(|c| c.as_str() == code) {
            problems.push(format!("{code} is in the README's table but is not a code"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // The order of the table is the order of the codes, so an analyst can scan it.
    let mut sorted = documented.clone();
    sorted.sort();
    assert_eq!(
        documented, sorted,
        "the README's table of codes is out of order"
    );
}

#[test]
fn the_example_regulation_validates_with_no_error_and_no_warning() {
    let stems = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(regulations_dir().join(dir))
            .expect(dir)
            .filter_map(|e| Some(e.ok()?.path().file_stem()?.to_str()?.to_string()))
            .filter(|s| s != "README")
            .collect()
    };
    // Region and calendar are checked as `reglament validate` checks them.
    let known = Known {
        regions: stems("offices").into_iter().collect(),
        calendars: stems("calendars").into_iter().collect(),
        days: Default::default(),
    };
    let report = validate::check_file(&repo_root().join(EXAMPLE), Some(&known));
    let found: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| d.render(report.source.as_deref()))
        .collect();
    assert!(found.is_empty(), "{EXAMPLE}:\n{}", found.join("\n"));
    assert!(report.process.is_some(), "{EXAMPLE} did not compile");
}

#[test]
fn the_readme_shows_the_example_as_it_is() {
    let example = std::fs::read_to_string(repo_root().join(EXAMPLE)).expect(EXAMPLE);
    let shown = format!("```yaml\n{example}```\n");
    assert!(
        readme().contains(&shown),
        "regulations/README.md must show {EXAMPLE} exactly, in a ```yaml block"
    );
}

#[test]
fn the_readme_lists_every_duration_spelling() {
    let readme = readme();
    let durations = section(&readme, "Durations");
    let missing: Vec<&str> = ALIASES
        .iter()
        .map(|(alias, _)| *alias)
        .filter(|alias| !durations.contains(&format!("`{alias}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the README's durations: {missing:?}"
    );
    // And every spelling the table shows is one the parser takes, with the unit of its row.
    for row in durations
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains('·'))
    {
        for spelling in row.split('`').skip(1).step_by(2) {
            let term: Term = format!("2 {spelling}")
                .parse()
                .unwrap_or_else(|e| panic!("`{spelling}` in the README does not parse: {e}"));
            let unit = ALIASES
                .iter()
                .find(|(a, _)| *a == spelling)
                .map(|(_, u)| *u);
            assert_eq!(Some(term.unit), unit, "`{spelling}`");
        }
    }
}
