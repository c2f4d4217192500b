//! `reglament import-bpmn` and `reglament render --format bpmn` as a user runs them: the
//! round trip through files, BPMN without Reglament's extensions (gaps that `validate`
//! explains), and the corpus of malformed BPMN in `tests/fixtures/bpmn/` (one error line with
//! the file and line, exit 1, never a crash).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reglament_model::load::load_str;
use reglament_model::validate::check_str;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bpmn")
        .join(name)
}

fn bundled() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../regulations")
}

fn temp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-output/bpmn-cli");
    std::fs::create_dir_all(&dir).expect("output folder");
    dir.join(name)
}

fn import(file: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("import-bpmn")
        .arg(file)
        .args(extra)
        .output()
        .expect("run reglament")
}

#[test]
fn a_bundled_regulation_comes_back_through_files() {
    let yaml = bundled().join("atyrau/atyrau-child-benefit.yaml");
    let bpmn = temp("child-benefit.kk.bpmn");
    let out = bin()
        .args(["render", "--format", "bpmn", "--lang", "kk", "-o"])
        .arg(&bpmn)
        .arg(&yaml)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = import(&bpmn, &["--lang", "kk"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let draft = String::from_utf8(out.stdout).expect("UTF-8");
    let original = std::fs::read_to_string(&yaml).expect("bundled");
    let a = load_str(&original, "a.yaml").expect("loads").regulation;
    let b = load_str(&draft, "b.yaml")
        .expect("the draft loads")
        .regulation;
    assert_eq!(a, b);
}

#[test]
fn bpmn_takes_the_whole_process() {
    let yaml = bundled().join("atyrau/atyrau-child-benefit.yaml");
    let out = bin()
        .args(["render", "--format", "bpmn", "--channel", "centre"])
        .arg(&yaml)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--channel"), "{err}");
}

const FOREIGN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="Pension">
    <bpmn:laneSet id="L">
      <bpmn:lane id="Lane_a" name="Clerk">
        <bpmn:flowNodeRef>A</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>B</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="S" name="Applied"/>
    <bpmn:task id="A" name="Receive"/>
    <bpmn:userTask id="B" name="Decide"/>
    <bpmn:endEvent id="E" name="Done"/>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="A"/>
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="B"/>
    <bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>
"#;

#[test]
fn what_bpmn_lacks_is_marked_and_validate_explains_each_gap() {
    let file = temp("foreign.bpmn");
    std::fs::write(&file, FOREIGN).expect("write");
    let out = import(&file, &[]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gap(s) marked TODO(import)"), "{err}");
    let draft = String::from_utf8(out.stdout).expect("UTF-8");
    let report = check_str(&draft, "draft.yaml", None);
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.is_error()).collect();
    // The missing valid_from, source and region, and the role whose kind BPMN does not say.
    assert_eq!(errors.len(), 4, "{draft}");
    for key in ["valid_from", "source", "region"] {
        assert!(
            draft.contains("# TODO(import)") && draft.contains(key),
            "{key}"
        );
        assert!(
            errors
                .iter()
                .any(|d| d.message.contains(&format!("`{key}`"))),
            "{key}"
        );
    }
    let lines: Vec<&str> = draft.lines().collect();
    let kind = errors
        .iter()
        .find(|d| d.message.contains("`kind`"))
        .expect("the role's kind");
    let line = kind.location.line;
    assert!(
        lines[line - 2].contains("TODO(import)") && lines[line - 2].contains("person or a system"),
        "the gap is marked right above line {line}:\n{draft}"
    );

    // With what BPMN cannot say given, the draft validates.
    let out = import(
        &file,
        &[
            "--region",
            "atyrau",
            "--valid-from",
            "2026-01-01",
            "--act",
            "Test act",
        ],
    );
    let draft = String::from_utf8(out.stdout).expect("UTF-8");
    let draft = draft.replace("  - id: clerk\n", "  - id: clerk\n    kind: person\n");
    let report = check_str(&draft, "draft.yaml", None);
    assert_eq!(report.errors(), 0, "{draft}");
}

/// (file, line, words the error must contain)
const MALFORMED: &[(&str, usize, &str)] = &[
    ("not-xml.bpmn", 1, "not well-formed XML"),
    ("empty.bpmn", 1, "not well-formed XML"),
    ("truncated.bpmn", 5, "`definitions` is not closed"),
    (
        "undeclared-prefix.bpmn",
        4,
        "prefix `camunda` is not declared",
    ),
    ("entity-bomb.bpmn", 4, "entity"),
    (
        "wrong-namespace.bpmn",
        2,
        "http://schema.omg.org/spec/BPMN/2.0",
    ),
    ("not-bpmn.bpmn", 2, "svg"),
    ("no-process.bpmn", 1, "no process"),
    (
        "duplicate-id.bpmn",
        6,
        "the id `A` is used twice (first on line 5)",
    ),
    (
        "dangling-flow.bpmn",
        8,
        "`F2` refers by `targetRef` to `Review`",
    ),
    (
        "dangling-boundary.bpmn",
        7,
        "`T` refers by `attachedToRef` to `Gone`",
    ),
    (
        "dangling-lane.bpmn",
        7,
        "lane `Clerk` refers by `flowNodeRef` to `Nowhere`",
    ),
    (
        "cycle-trap.bpmn",
        6,
        "the cycle review → rework → review has no way out",
    ),
    ("merge-loop.bpmn", 6, "the cycle M1 → M2 has no way out"),
];

#[test]
fn malformed_bpmn_gives_one_clear_error_line() {
    for (name, line, words) in MALFORMED {
        let out = import(&fixture(name), &[]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(out.stdout.is_empty(), "{name}: no draft");
        let err = String::from_utf8(out.stderr).expect("UTF-8");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains(&format!("{name}:{line}")),
            "{name}: expected line {line}: {err}"
        );
        assert!(err.contains(words), "{name}: {err}");
    }
    let out = import(&fixture("binary.bpmn"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
    let out = import(&fixture("missing.bpmn"), &[]);
    assert_eq!(out.status.code(), Some(2), "a file that is not there");
}

#[test]
fn the_corpus_is_all_tested() {
    let mut files: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for f in files {
        assert!(
            f == "binary.bpmn" || MALFORMED.iter().any(|(n, _, _)| *n == f),
            "{f} has no expectation"
        );
    }
}
