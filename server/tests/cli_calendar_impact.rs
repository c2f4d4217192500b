//! `reglament calendar impact NEW.yaml`: the dry run of a decree against a database's open
//! cases, as an analyst runs it before deploying a new calendar.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reglament_calendar::Calendars;
use reglament_runtime::{Actor, CaseId, NewCase};
use reglament_store::Service;
use serde_json::{Value, json};

use reglament_testkit::fixtures::{OFFICE, REGISTER_REVIEW as REGULATION};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn reglament(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .output()
        .expect("runs")
}

/// A database with `I-1` (20 March 2026: its 10 working days end on 8 April, across 1 April)
/// and `I-2` (1 June: far from it); returns its URL and the folder.
async fn database() -> (String, PathBuf) {
    let dir = std::env::temp_dir().join(format!("reglament-impact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let store = reglament_server::accounts::open_store(&url, Default::default())
        .await
        .expect("store");
    let (_, process) = store
        .deploy(REGULATION, "analyst", t("2026-03-01T09:00:00+05:00"))
        .await
        .expect("deploys");
    let root = reglament_testkit::regulations_dir();
    let service = Service::new(
        store.clone(),
        Arc::new(Calendars::load(&root).expect("load")),
    );
    for (id, at) in [
        ("I-1", "2026-03-20T10:00:00+05:00"),
        ("I-2", "2026-06-01T10:00:00+05:00"),
    ] {
        let new = NewCase {
            case: CaseId::new(id),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: json!({"full_name": "Айгүл Серікова"}),
        };
        service
            .start(&process, new, &Actor::new("clerk1", "executor"), t(at))
            .await
            .expect("starts");
    }
    store.close().await;
    (url, dir)
}

#[tokio::test]
async fn the_dry_run_lists_the_cases_a_decree_moves_and_writes_nothing() {
    let (url, dir) = database().await;
    let root = reglament_testkit::regulations_dir();
    let kz = std::fs::read_to_string(root.join("calendars/kz.yaml")).expect("kz.yaml");
    let decree = dir.join("kz-new.yaml");
    std::fs::write(
        &decree,
        kz.replacen(
            "\ntransfers:\n",
            "\ntransfers:\n  - day_off: 2026-04-01\n    source: {act: Постановление (тест)}\n",
            1,
        ),
    )
    .expect("write");
    let root_arg = root.display().to_string();
    let decree_arg = decree.display().to_string();
    let args = [
        "calendar",
        "impact",
        decree_arg.as_str(),
        "--db",
        url.as_str(),
        "--regulations",
        root_arg.as_str(),
        "--now",
        "2026-03-25T12:00:00+05:00",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = reglament(&json_args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["cases"], 2);
    assert_eq!(report["rescheduled"], 1);
    assert_eq!(report["breached_by_change"], 0);
    let moves = report["moves"].as_array().expect("moves");
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0]["case"], "I-1");
    assert_eq!(moves[0]["days"], json!(["2026-04-01"]));
    // The case's term: 8 April 18:00 becomes 9 April 18:00 (Atyrau, +05).
    assert_eq!(
        moves[0]["moved"],
        json!([{"target": {"of": "case"}, "from": "2026-04-08T13:00:00Z", "to": "2026-04-09T13:00:00Z"}])
    );

    let out = reglament(&args);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("I-1"), "{text}");
    assert!(
        text.contains("2026-04-08 18:00 +05:00 → 2026-04-09 18:00 +05:00"),
        "{text}"
    );
    assert!(text.contains("2 open case(s) looked at"), "{text}");
    assert!(!text.contains("I-2"), "{text}");

    // Nothing was written: the cases still count on the bundled calendar.
    let store = reglament_server::accounts::open_store(&url, Default::default())
        .await
        .expect("store");
    assert_eq!(store.head(&CaseId::new("I-1")).await.expect("head"), 2);
    assert!(store.adoptions().await.expect("adoptions").is_empty());
    store.close().await;

    // A file that is not a calendar: one line, a non-zero exit.
    std::fs::write(dir.join("bad.yaml"), "id: kz\ncovers: [").expect("write");
    let bad = dir.join("bad.yaml").display().to_string();
    let out = reglament(&[
        "calendar",
        "impact",
        &bad,
        "--db",
        &url,
        "--regulations",
        &root_arg,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
