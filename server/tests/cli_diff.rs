//! `reglament diff OLD NEW`: two files or two deployed versions, text, JSON and HTML, the
//! exit status (0 same, 1 changed, 2 error) and one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use reglament_testkit::fixtures::REGISTER_REVIEW;
use serde_json::Value;

fn reglament(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .env_remove("REGLAMENT_DB")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The review takes 3 working days instead of 1 and the refusal moves to the head; a fresh
/// temporary folder holds both versions.
fn versions(tag: &str) -> (PathBuf, String, String) {
    let dir = std::env::temp_dir().join(format!("reglament-diff-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let old = REGISTER_REVIEW.to_string();
    let new = old
        .replacen("version: 1", "version: 2", 1)
        .replacen("duration: 1 working day", "duration: 3 working days", 1)
        .replacen("required: [full_name]", "required: [full_name, phone]", 1)
        .replacen(
            "    full_name: {type: string, minLength: 1}\n",
            "    full_name: {type: string, minLength: 1}\n    phone: {type: string}\n",
            1,
        );
    std::fs::write(dir.join("v1.yaml"), &old).expect("write");
    std::fs::write(dir.join("v2.yaml"), &new).expect("write");
    (dir, old, new)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

fn path(dir: &Path, f: &str) -> String {
    dir.join(f).display().to_string()
}

#[test]
fn two_files_in_text_name_each_change_at_both_lines_and_exit_1() {
    let (dir, old, new) = versions("text");
    let (a, b) = (path(&dir, "v1.yaml"), path(&dir, "v2.yaml"));
    let o = reglament(&["diff", &a, &b]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let duration = format!(
        "~ Step `review`: duration on `provider`: 1 working day → 3 working days  [{a}:{} → {b}:{}]",
        line_of(&old, "duration: 1 working day"),
        line_of(&new, "duration: 3 working days")
    );
    assert!(out.contains(&duration), "{out}");
    assert!(
        out.contains(&format!(
            "+ The application form: field `phone` added (required)  [{a}:{} → {b}:{}]",
            line_of(&old, "properties:"),
            line_of(&new, "phone: {type")
        )),
        "{out}"
    );
    // The same in Russian.
    let o = reglament(&["diff", &a, &b, "--lang", "ru"]);
    assert!(stdout(&o).contains("срок по каналу `provider`: 1 рабочий день → 3 рабочих дня"));
    // A file against itself: nothing, exit 0.
    let o = reglament(&["diff", &a, &a]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("No differences"));
}

#[test]
fn json_is_the_typed_list_with_places() {
    let (dir, _, new) = versions("json");
    let (a, b) = (path(&dir, "v1.yaml"), path(&dir, "v2.yaml"));
    let o = reglament(&["diff", &a, &b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let tags: Vec<&str> = v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["change"].as_str())
        .collect();
    assert_eq!(tags, ["version_changed", "field_added", "duration_changed"]);
    assert_eq!(v["changes"][1]["required"], true);
    let d = &v["changes"][2];
    assert_eq!(d["step"], "review");
    assert_eq!(d["from"], "1 working day");
    assert_eq!(d["to"], "3 working days");
    assert_eq!(d["new"]["file"], b.as_str());
    assert_eq!(
        d["new"]["line"],
        line_of(&new, "duration: 3 working days") as u64
    );
    assert_eq!(d["new"]["pointer"], "/steps/1/duration");
    assert_eq!(v["old"]["version"], 1);
}

#[test]
fn html_is_a_page_with_the_marked_diagram_in_the_chosen_language() {
    let (dir, _, _) = versions("html");
    let (a, b) = (path(&dir, "v1.yaml"), path(&dir, "v2.yaml"));
    let o = reglament(&["diff", &a, &b, "--format", "html", "--lang", "kk"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let html = stdout(&o);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<html lang=\"kk\">"));
    assert!(
        html.contains("<svg") && html.contains(r#"data-mark="changed""#),
        "{html}"
    );
    assert!(html.contains("қадам өзгертілді"), "the legend in words");
    assert!(html.contains("<code>review</code>"));
    // Self-contained: nothing fetched from elsewhere.
    assert!(!html.contains("src=") && !html.contains("href="));
}

#[test]
fn mistakes_are_one_line_and_exit_2() {
    let (dir, _, _) = versions("errors");
    let a = path(&dir, "v1.yaml");
    let broken = path(&dir, "broken.yaml");
    std::fs::write(&broken, "id: x\nversion: [1\n").expect("write");
    for (args, says) in [
        (vec!["diff", &a, "/no/such/file.yaml"], "no such file"),
        (vec!["diff", &a, &broken], "broken.yaml:"),
        (
            vec!["diff", &a, "register-review@x"],
            "is not a version number",
        ),
        (vec!["diff", &a, &a, "--format", "pdf"], "pdf"),
    ] {
        let o = reglament(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}");
        if !args.contains(&"pdf") {
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        }
    }
}

#[tokio::test]
async fn deployed_versions_are_read_from_the_database() {
    let (dir, old, new) = versions("db");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let store = reglament_server::accounts::open_store(&url, Default::default())
        .await
        .expect("store");
    let at = |s: &str| -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    };
    for (text, when) in [
        (&old, "2026-03-01T09:00:00Z"),
        (&new, "2026-03-02T09:00:00Z"),
    ] {
        store
            .deploy(text, "analyst", at(when))
            .await
            .expect("deploys");
    }
    store.close().await;
    let o = reglament(&[
        "diff",
        "register-review@1",
        "register-review@v2",
        "--db",
        &url,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "[register-review@1:{} → register-review@2:{}]",
            line_of(&old, "duration: 1 working day"),
            line_of(&new, "duration: 3 working days")
        )),
        "{out}"
    );
    // A file against a deployed version, and a version that is not there.
    let o = reglament(&[
        "diff",
        "register-review@2",
        &path(&dir, "v2.yaml"),
        "--db",
        &url,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = reglament(&[
        "diff",
        "register-review@1",
        "register-review@7",
        "--db",
        &url,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("register-review@7: no such version is deployed"));
    let o = reglament(&[
        "diff",
        "register-review@1",
        "register-review@2",
        "--db",
        "sqlite:/no/such.db",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no database"), "{}", stderr(&o));
}
