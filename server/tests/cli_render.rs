//! `reglament render ...` as a user runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quick_xml::Reader;
use quick_xml::events::Event;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regulations")
}

fn bundled() -> PathBuf {
    reglament_testkit::regulations_dir()
}

fn run_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .arg("render")
        .args(args)
        .env("REGLAMENT_REGULATIONS", root)
        .output()
        .expect("run reglament")
}

fn run(args: &[&str]) -> Output {
    run_in(&fixtures(), args)
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Fails with exit 2 and exactly one line on stderr.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    err
}

/// Elements counted by `name.class`, failing on anything that is not well-formed XML.
fn svg_elements(svg: &str) -> BTreeMap<String, usize> {
    let mut reader = Reader::from_str(svg);
    let mut counts = BTreeMap::new();
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!(
                "SVG is not well-formed at {}: {e}",
                reader.buffer_position()
            )
        });
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => e.clone(),
            Event::Eof => break,
            _ => continue,
        };
        let mut key = element.name().as_ref().to_string();
        for a in element.attributes() {
            let a = a.expect("well-formed attribute");
            if a.key.as_ref() == "class" {
                key = format!("{key}.{}", a.value);
            }
        }
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[test]
fn renders_svg_by_id_with_a_group_per_step_and_a_lane_per_role() {
    let svg = ok(&["render-demo"]);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let counts = svg_elements(&svg);
    assert_eq!(counts.get("g.step"), Some(&8));
    assert_eq!(counts.get("g.lane"), Some(&2));
    assert!(svg.contains("Выдача справки «О составе семьи» &amp; копии"));
    assert!(svg.contains(">1 рабочий день</text>"));
    assert!(svg.contains(">через акима: 2 рабочих дня</text>"));
}

#[test]
fn a_path_to_the_file_works_too() {
    let file = fixtures().join("render-demo.yaml");
    assert_eq!(
        ok(&[file.to_str().expect("UTF-8 path")]),
        ok(&["render-demo"])
    );
}

#[test]
fn output_is_the_same_on_every_run() {
    for format in ["svg", "mermaid", "dot"] {
        assert_eq!(
            ok(&["render-demo", "--format", format]),
            ok(&["render-demo", "--format", format])
        );
    }
}

#[test]
fn mermaid_and_dot_have_lanes_durations_and_escaped_names() {
    let mermaid = ok(&["render-demo", "--format", "mermaid", "--lang", "en"]);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(mermaid.contains("  subgraph lane_clerk[\"Clerk\"]\n"));
    assert!(mermaid.contains(
        "s_decide(\"Head's decision<br/>1 working day<br/>via the akim: 2 working days\")"
    ));
    assert!(mermaid.contains("s_route -->|\"channel == #quot;akim#quot;\"| s_akim_issue"));

    let dot = ok(&["render-demo", "--format", "dot"]);
    assert!(dot.starts_with("digraph \"render-demo\" {\n"));
    assert!(dot.contains("subgraph \"cluster_head\" {"));
    assert!(dot.contains("\"receive\" [label=\"Приём заявления [в офисе]\\n15 минут\""));
    assert!(dot.contains("\"route\" -> \"akim_issue\" [label=\"channel == \\\"akim\\\"\"];"));
}

#[test]
fn a_channel_keeps_only_its_steps_and_its_durations() {
    let out = std::env::temp_dir().join(format!("reglament-render-{}.svg", std::process::id()));
    let stdout = ok(&[
        "render-demo",
        "--channel",
        "akim",
        "--lang",
        "en",
        "--highlight",
        "decide",
        "--output",
        out.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(stdout, "", "with --output nothing goes to standard output");
    let svg = std::fs::read_to_string(&out).expect("the file was written");
    let _ = std::fs::remove_file(&out);
    let counts = svg_elements(&svg);
    // receive and issue belong to the office channel only.
    assert_eq!(counts.get("g.step"), Some(&6));
    assert!(!svg.contains(r#"data-step="receive""#));
    assert!(!svg.contains(r#"data-step="issue""#));
    assert!(svg.contains(">2 working days</text>"));
    assert!(svg.contains(r#"data-step="decide" data-kind="task" data-highlight="true""#));
}

#[test]
fn unknown_id_suggests_the_nearest() {
    let err = fails(&["render-dem"]);
    assert!(
        err.starts_with("error: no regulation with id `render-dem` under "),
        "{err}"
    );
    assert!(err.contains("(did you mean `render-demo`?)"), "{err}");
}

#[test]
fn unknown_channel_and_format_are_refused() {
    let err = fails(&["render-demo", "--channel", "post"]);
    assert_eq!(
        err,
        "error: unknown channel `post`; the channels are: office, akim\n"
    );
    let out = run(&["render-demo", "--format", "png"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["render-demo", "--lang", "de"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_invalid_regulation_prints_its_errors_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("reglament-render-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = std::fs::read_to_string(fixtures().join("render-demo.yaml"))
        .expect("fixture")
        .replace("role: head", "role: haed");
    let file = dir.join("bad.yaml");
    std::fs::write(&file, text).expect("write");
    let out = run(&[file.to_str().expect("UTF-8 path")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert!(err.contains("error[E021]: unknown role `haed`"), "{err}");
    assert!(err.contains("did you mean `head`?"), "{err}");
}

/// Every bundled regulation that validates (others may be mid-edit) draws as well-formed SVG
/// with a step group per step.
#[test]
fn bundled_regulations_render() {
    let mut rendered = 0;
    for region in ["atyrau", "north-kazakhstan"] {
        let Ok(entries) = std::fs::read_dir(bundled().join(region)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
        {
            let out = run_in(&bundled(), &[file.to_str().expect("UTF-8 path")]);
            if out.status.code() == Some(1) {
                eprintln!("skipped (does not validate now): {}", file.display());
                continue;
            }
            assert!(
                out.status.success(),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let svg = String::from_utf8(out.stdout).expect("UTF-8 output");
            let counts = svg_elements(&svg);
            let steps = reglament_model::validate::check_file(file, None)
                .process
                .map(|p| p.regulation.steps.len());
            assert_eq!(counts.get("g.step").copied(), steps, "{}", file.display());
            rendered += 1;
        }
    }
    eprintln!("rendered {rendered} bundled regulations");
}
