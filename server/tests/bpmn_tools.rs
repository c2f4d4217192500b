//! The BPMN export and import against the tools of bpmn.io (npm packages in
//! `tests/bpmn-tools/`, installed by `.ci/bpmn-tools.sh` with `npm ci`):
//! - every bundled regulation, in Kazakh, Russian and English, is read by `bpmn-moddle` with
//!   no warning, passes `bpmnlint`'s recommended rules (`no-bpmndi` among them) with no error,
//!   and is rendered by `bpmn-js` in headless Chromium (Debian's) with no console error; the
//!   screenshots are saved under `target/test-output/bpmn/shots/`;
//! - models built with bpmn-moddle's own API (no Reglament extension) import: the supported
//!   one into a draft that validates once what BPMN cannot say is given, the other with every
//!   element outside the subset reported with its id and line.
//!
//! Without node, the installed packages or chromium the test says SKIPPED loudly; with
//! `REGLAMENT_CI=1` it fails instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use reglament_model::validate::check_str;
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tools() -> PathBuf {
    root().join("tests/bpmn-tools")
}

fn output() -> PathBuf {
    root().join("target/test-output/bpmn")
}

fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn ci() -> bool {
    std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1")
}

/// Whether the tools are here; skips loudly (or fails in CI) when not.
fn tools_present() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let installed = tools().join("node_modules/bpmnlint").exists()
        && tools().join("node_modules/bpmn-js").exists();
    let chromium = Path::new(CHROMIUM).exists();
    if node && installed && chromium {
        return true;
    }
    let why =
        format!("node: {node}, tests/bpmn-tools/node_modules: {installed}, {CHROMIUM}: {chromium}");
    assert!(
        !ci(),
        "REGLAMENT_CI=1 but the BPMN tools are missing ({why}): run .ci/bpmn-tools.sh"
    );
    say(&format!(
        "\n*** SKIPPED: BPMN tools check ({why}); run .ci/bpmn-tools.sh and install chromium ***\n"
    ));
    false
}

fn reglament(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .output()
        .expect("run reglament")
}

fn node(script: &str, args: &[String]) -> String {
    let out = Command::new("node")
        .arg(tools().join(script))
        .args(args)
        .current_dir(tools())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "node {script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn bundled() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for region in ["atyrau", "north-kazakhstan"] {
        for e in std::fs::read_dir(root().join("regulations").join(region)).expect("folder") {
            files.push(e.expect("entry").path());
        }
    }
    files.sort();
    assert_eq!(files.len(), 9);
    files
}

#[test]
fn bpmn_io_reads_lints_and_renders_every_export() {
    if !tools_present() {
        return;
    }
    let exports = output().join("exports");
    std::fs::create_dir_all(&exports).expect("output folder");
    let mut files = Vec::new();
    for yaml in bundled() {
        let stem = yaml
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        for lang in ["kk", "ru", "en"] {
            let file = exports.join(format!("{stem}.{lang}.bpmn"));
            let out = reglament(&[
                "render",
                &yaml.to_string_lossy(),
                "--format",
                "bpmn",
                "--lang",
                lang,
                "-o",
                &file.to_string_lossy(),
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            files.push(file.to_string_lossy().into_owned());
        }
    }
    let mut args = vec![
        "--out".to_string(),
        output().join("shots").to_string_lossy().into_owned(),
    ];
    args.extend(files.iter().cloned());
    let report = node("check.mjs", &args);
    let results: Vec<Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(results.len(), files.len(), "a result per file");
    let mut lint_warnings: BTreeMap<String, usize> = BTreeMap::new();
    for r in &results {
        let file = r["file"].as_str().unwrap_or("?");
        let warnings = r["warnings"].as_array().expect("warnings");
        assert!(
            warnings.is_empty(),
            "{file}: bpmn-moddle warns: {warnings:?}"
        );
        for l in r["lint"].as_array().expect("lint") {
            assert_ne!(l["category"], "error", "{file}: bpmnlint: {l}");
            *lint_warnings
                .entry(l["rule"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        let errors = r["render"]["errors"].as_array().expect("errors");
        assert!(errors.is_empty(), "{file}: bpmn-js: {errors:?}");
        assert!(
            r["render"]["shapes"].as_u64().unwrap_or(0) > 10,
            "{file}: rendered"
        );
        let shot = r["render"]["shot"].as_str().expect("a screenshot");
        let size = std::fs::metadata(shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{shot}: a real picture");
    }
    // The recommended rules' warnings (overlaps, fake joins, …) are not errors, but the
    // export has none today: keep it so.
    assert!(
        lint_warnings.is_empty(),
        "bpmnlint warnings: {lint_warnings:?}"
    );
}

/// The line of the element with this id in the file.
fn line_of(xml: &str, id: &str) -> usize {
    xml.lines()
        .position(|l| l.contains(&format!("id=\"{id}\"")))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{id} is in the file"))
}

#[test]
fn models_built_with_bpmn_moddle_import() {
    if !tools_present() {
        return;
    }
    let models = output().join("models");
    node("build-models.mjs", &[models.to_string_lossy().into_owned()]);
    let given = [
        "--lang",
        "en",
        "--region",
        "atyrau",
        "--valid-from",
        "2026-01-01",
        "--act",
        "Test act",
    ];

    let supported = models.join("supported.bpmn");
    let mut args = vec!["import-bpmn", supported.to_str().expect("path")];
    args.extend(given);
    let out = reglament(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("not imported"), "{err}");
    let draft = String::from_utf8(out.stdout).expect("UTF-8");
    let report = check_str(&draft, "supported.yaml", None);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render(Some(&draft)))
        .collect();
    assert!(errors.is_empty(), "{}\n{draft}", errors.join("\n"));
    let regulation = report.process.expect("compiles").regulation;
    let ids: Vec<&str> = regulation.steps.iter().map(|s| s.id()).collect();
    assert_eq!(
        ids,
        [
            "receive",
            "check_registry",
            "complete",
            "split",
            "review",
            "prepare_letter",
            "join",
            "granted",
            "returned"
        ]
    );
    let kinds: Vec<&str> = regulation.steps.iter().map(|s| s.kind_name()).collect();
    assert_eq!(
        kinds,
        [
            "task",
            "system",
            "exclusive",
            "parallel",
            "task",
            "task",
            "join",
            "end",
            "end"
        ]
    );
    assert_eq!(
        regulation
            .roles
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["clerk", "registry"]
    );
    assert!(
        draft.contains("duration: \"2 hours\""),
        "the boundary timer: {draft}"
    );
    assert!(draft.contains("when: data.complete == true"), "{draft}");

    let unsupported = models.join("unsupported.bpmn");
    let xml = std::fs::read_to_string(&unsupported).expect("written");
    let mut args = vec!["import-bpmn", unsupported.to_str().expect("path")];
    args.extend(given);
    let out = reglament(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for (id, element) in [
        ("Sub_collect", "subProcess"),
        ("Wait_reply", "intermediateCatchEvent"),
        ("Case_file", "dataObject"),
        ("Case_file_ref", "dataObjectReference"),
        ("Note_1", "textAnnotation"),
    ] {
        let line = line_of(&xml, id);
        let expected = format!("unsupported.bpmn:{line}: not imported: {element} `{id}`");
        assert!(err.contains(&expected), "{expected}\n{err}");
    }
    let draft = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        draft.contains("# not imported: line"),
        "the draft lists them too"
    );
    // The step before the sub-process leads to it, which validate reports as unknown.
    let report = check_str(&draft, "unsupported.yaml", None);
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.message.contains("Sub_collect")),
        "{draft}"
    );
}
