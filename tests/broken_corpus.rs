//! The corpus of broken regulations (tests/broken/*.yaml, made by tests/broken/make.py):
//! one file per kind of analyst mistake, each reported with its code at the exact place.
//! And the other side: every bundled regulation validates, and the schema accepts it.

use std::path::{Path, PathBuf};

use reglament_model::load;
use reglament_model::validate::{self, Known};
use reglament_model::yaml;
use reglament_suite::{regulations_dir, repo_root};

struct Expectation {
    code: String,
    place: Option<(usize, usize)>,
    layer: String,
}

fn expectation(text: &str, file: &Path) -> Expectation {
    let mut lines = text.lines();
    let expect = lines
        .next()
        .and_then(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| {
            panic!(
                "{}: first line must be `# expect: CODE LINE:COL`",
                file.display()
            )
        });
    let layer = lines
        .next()
        .and_then(|l| l.strip_prefix("# layer: "))
        .unwrap_or_else(|| panic!("{}: second line must be `# layer: ...`", file.display()));
    let (code, place) = expect.split_once(' ').expect("code and place");
    let place = (place != "any").then(|| {
        let (l, c) = place.split_once(':').expect("LINE:COL");
        (l.parse().expect("line"), c.parse().expect("column"))
    });
    Expectation {
        code: code.to_string(),
        place,
        layer: layer.to_string(),
    }
}

fn broken_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("tests/broken"))
        .expect("tests/broken")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_is_large_enough() {
    let n = broken_files().len();
    assert!(
        n >= 30,
        "only {n} broken files; the corpus promises at least 30"
    );
}

#[test]
fn the_base_of_the_corpus_is_valid() {
    let text = std::fs::read_to_string(repo_root().join("tests/broken/00-valid-base.yaml.txt"))
        .expect("base");
    let report = validate::check_str(&text, "base.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    assert_eq!(report.warnings(), 0, "{:#?}", report.diagnostics);
}

#[test]
fn each_mistake_is_reported_with_its_code_at_its_place() {
    let mut failures = Vec::new();
    for file in broken_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let want = expectation(&text, &file);
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let report = validate::check_str(&text, &name, None);
        assert!(report.errors() > 0, "{name}: no error reported");
        let hit = report.diagnostics.iter().any(|d| {
            d.code.as_str() == want.code
                && want
                    .place
                    .is_none_or(|(l, c)| d.location.line == l && d.location.column == c)
        });
        if !hit {
            let got: Vec<String> = report.diagnostics.iter().map(|d| d.header()).collect();
            failures.push(format!(
                "{name}: expected {} at {:?}, got:\n    {}",
                want.code,
                want.place,
                got.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The schema is the analyst's first line of defence (their editor runs it): it must reject
/// every mistake of shape, and accept files whose mistakes only meaning can reveal.
#[test]
fn schema_rejects_shape_mistakes_and_the_validator_the_rest() {
    for file in broken_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let want = expectation(&text, &file);
        let name = file.display().to_string();
        let parsed = yaml::parse(&text, &name);
        match want.layer.as_str() {
            "syntax" => assert!(parsed.is_err(), "{name}: should not parse"),
            "schema" => {
                let (value, _) = parsed.unwrap_or_else(|d| panic!("{name}: {}", d.header()));
                assert!(
                    !load::schema_accepts(&value),
                    "{name}: the schema should reject it"
                );
            }
            "semantic" => {
                let (value, _) = parsed.unwrap_or_else(|d| panic!("{name}: {}", d.header()));
                assert!(
                    load::schema_accepts(&value),
                    "{name}: the schema should accept it"
                );
            }
            other => panic!("{name}: unknown layer {other}"),
        }
    }
}

fn known() -> Known {
    let stems = |dir: &str| {
        std::fs::read_dir(regulations_dir().join(dir))
            .map(|rd| {
                rd.filter_map(|e| {
                    let p = e.ok()?.path();
                    Some(p.file_stem()?.to_str()?.to_string())
                })
                .collect()
            })
            .unwrap_or_default()
    };
    Known {
        regions: stems("offices"),
        calendars: stems("calendars"),
        days: Default::default(),
    }
}

#[test]
fn every_bundled_regulation_validates_and_the_schema_accepts_it() {
    let files = validate::regulation_files(&[regulations_dir()]).expect("list");
    assert!(
        files.len() >= 9,
        "expected the nine regulations, found {}",
        files.len()
    );
    let known = known();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let report = validate::check_str(&text, &file.display().to_string(), Some(&known));
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.header())
            .collect();
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            file.display(),
            errors.join("\n")
        );
        let (value, _) = yaml::parse(&text, "x").expect("parses");
        assert!(
            load::schema_accepts(&value),
            "{}: schema rejects it",
            file.display()
        );
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/regulation.schema.json"),
            "{}: must start with the yaml-language-server schema line",
            file.display()
        );
    }
}
