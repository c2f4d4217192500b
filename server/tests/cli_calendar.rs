//! `reglament calendar ...` as a user runs it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    reglament_testkit::regulations_dir()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .arg("calendar")
        .args(args)
        .env("REGLAMENT_REGULATIONS", root())
        .output()
        .expect("run reglament")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Fails with exit 2 and exactly one line on stderr.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    err
}

#[test]
fn due_prints_the_instant_with_the_offset() {
    let out = ok(&[
        "due",
        "--from",
        "2026-03-20T17:45:00+05:00",
        "--term",
        "5 working days",
    ]);
    assert_eq!(out, "2026-04-01T18:00:00+05:00\n");
    let out = ok(&[
        "due",
        "--from",
        "2023-06-27T12:00:00+06:00",
        "--term",
        "1 рабочий день",
        "--office",
        "nko-petropavl-ozsp",
    ]);
    assert_eq!(out, "2023-06-29T17:30:00+06:00\n");
    let out = ok(&[
        "due",
        "--from",
        "2026-03-20T17:45:00+05:00",
        "--term",
        "30 calendar days",
        "--receipt-and-issue-days-excluded",
    ]);
    assert_eq!(out, "2026-04-21T18:00:00+05:00\n");
}

#[test]
fn due_as_json() {
    let root = root();
    let out = ok(&[
        "due",
        "--from",
        "2026-03-06T22:00:00+05:00",
        "--term",
        "2 hours",
        "--office",
        "atyrau-city-ozsp",
        "--format",
        "json",
        "--regulations",
        root.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["due"], "2026-03-10T11:00:00+05:00");
    assert_eq!(v["registered"], "2026-03-10T09:00:00+05:00");
    assert_eq!(v["time_zone"], "Asia/Atyrau");
    assert_eq!(v["calendar_version"].as_str().unwrap().len(), 16);
    assert_eq!(v["provisional"], false);
}

#[test]
fn a_due_date_in_a_provisional_year_says_so() {
    // Five working days from 28 December 2027: 29–31 December, then 1–4 January 2028 are off
    // (New Year on the weekend, moved to Monday and Tuesday), so Wednesday 5 and Thursday 6.
    let out = run(&[
        "due",
        "--from",
        "2027-12-28T10:00:00+05:00",
        "--term",
        "5 working days",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["due"], "2028-01-06T18:00:00+05:00");
    assert_eq!(v["provisional"], true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: counted into a provisional year"),
        "{err}"
    );
    let out = ok(&["list", "--from", "2027-12-31", "--to", "2028-01-04"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(!lines[0].contains("(provisional)"), "{out}");
    assert!(
        lines[3].starts_with("2028-01-03  Mon  day off") && lines[3].ends_with("(provisional)"),
        "{out}"
    );
}

#[test]
fn elapsed_prints_working_time() {
    let out = ok(&[
        "elapsed",
        "--from",
        "2026-03-02T11:45:00+05:00",
        "--to",
        "2026-03-02T15:00:00+05:00",
    ]);
    assert_eq!(out, "2 h 15 min\n");
    let out = ok(&[
        "elapsed",
        "--from",
        "2024-02-29T17:00:00+06:00",
        "--to",
        "2024-03-01T10:00:00+05:00",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["minutes"], 120);
}

#[test]
fn list_prints_one_entry_per_date() {
    let out = ok(&[
        "list",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let days = v.as_array().unwrap();
    assert_eq!(days.len(), 365);
    assert_eq!(days.iter().filter(|d| d["working"] == true).count(), 247);
    let aug31 = days.iter().find(|d| d["date"] == "2026-08-31").unwrap();
    assert_eq!(aug31["working"], true);
    assert_eq!(
        aug31["hours"],
        serde_json::json!(["09:00-13:00", "14:00-18:00"])
    );
    let mar24 = days.iter().find(|d| d["date"] == "2026-03-24").unwrap();
    assert_eq!(mar24["working"], false);
    assert_eq!(mar24["reason"], "Day off moved from Nauryz (2026-03-21)");
    assert_eq!(mar24["hours"], serde_json::json!([]));

    let out = ok(&[
        "list",
        "--from",
        "2025-01-03",
        "--to",
        "2025-01-05",
        "--office",
        "nko-aiyrtau-ozsp",
        "--lang",
        "ru",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].contains("day off") && lines[0].contains("Перенесённый выходной день"),
        "{out}"
    );
    assert!(
        lines[2].contains("working") && lines[2].contains("[09:00-13:00, 14:30-17:30]"),
        "{out}"
    );
}

#[test]
fn analyst_mistakes_are_one_line_and_exit_2() {
    let from = "2026-03-20T17:45:00+05:00";
    let err = fails(&["due", "--from", from, "--term", "5 workng days"]);
    assert!(err.contains("did you mean `working days`"), "{err}");
    let err = fails(&["due", "--from", from, "--term", "5 days"]);
    assert!(err.contains("ambiguous"), "{err}");
    let err = fails(&[
        "due",
        "--from",
        from,
        "--term",
        "1 hour",
        "--office",
        "nko-aiyrtau-ozp",
    ]);
    assert_eq!(
        err,
        "error: unknown office `nko-aiyrtau-ozp`; did you mean `nko-aiyrtau-ozsp`?\n"
    );
    let err = fails(&[
        "due",
        "--from",
        "2060-01-10T10:00:00+05:00",
        "--term",
        "1 hour",
    ]);
    assert!(
        err.contains("2060-01-10 is beyond the calendar `kz`, which counts working time to the end of 2057 (decreed to the end of 2027)"),
        "{err}"
    );
    let err = fails(&[
        "due",
        "--from",
        "2011-06-01T10:00:00+05:00",
        "--term",
        "1 hour",
    ]);
    assert!(
        err.contains("2011-06-01 is outside the years the calendar `kz` covers (2012–2057)"),
        "{err}"
    );
    let err = fails(&["list", "--from", "2057-12-30", "--to", "2058-01-02"]);
    assert!(err.contains("2058-01-01 is beyond the calendar"), "{err}");
    let err = fails(&["due", "--from", "tomorrow", "--term", "1 hour"]);
    assert!(err.contains("--from `tomorrow` is not an instant"), "{err}");
    // clap's own errors also exit 2.
    assert_eq!(run(&["due", "--term", "1 hour"]).status.code(), Some(2));
}

#[test]
fn check_reports_the_data() {
    let out = ok(&["check"]);
    assert!(
        out.starts_with("ok: 1 calendar(s), 2 region(s), 52 office(s)"),
        "{out}"
    );
    assert!(
        out.contains(
            "kz: decreed 2012–2027; provisional 2028–2057 (generated from the rules of the law)"
        ),
        "{out}"
    );
    let dir = std::env::temp_dir().join(format!("reglament-cli-calendar-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    let kz = std::fs::read_to_string(root().join("calendars/kz.yaml")).unwrap();
    std::fs::write(
        dir.join("calendars/kz.yaml"),
        kz.replacen("kind: public", "kind: pubic", 1),
    )
    .unwrap();
    let out = run(&["check", "--regulations", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("kz.yaml:") && err.contains("did you mean `public`?"),
        "{err}"
    );
}
