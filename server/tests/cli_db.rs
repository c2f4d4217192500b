//! `reglament db migrate|rebuild|verify|status` as an operator runs them, on SQLite (the
//! default database in a data folder) and on PostgreSQL (`--db postgres://…`, when
//! `REGLAMENT_TEST_POSTGRES` names a cluster).

#[path = "../../engine/store/tests/store_support/mod.rs"]
mod store_support;

use std::process::{Command, Output};

use chrono::TimeDelta;
use reglament_runtime::CaseId;
use reglament_store::{BackendKind, Store};
use serde_json::{Value, json};
use store_support::*;

/// Runs `reglament db ARGS` on `target` (`--data DIR` or `--db URL`), without inheriting a
/// database from the environment.
fn db(target: &[String], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .arg("db")
        .args(args)
        .args(target)
        .env_remove("REGLAMENT_DB")
        .env_remove("REGLAMENT_DATA")
        .output()
        .expect("run reglament")
}

fn ok(target: &[String], args: &[&str]) -> String {
    let out = db(target, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Fails with `code` and exactly one line on stderr, which is returned.
fn fails(target: &[String], args: &[&str], code: i32) -> String {
    let out = db(target, args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    err
}

/// Twelve cases in different states, with a breach fired by a tick.
async fn fill(store: &Store) {
    let (_, process) = store
        .deploy(REGULATION, "admin", t0())
        .await
        .expect("deploys");
    let service = reglament_store::Service::new(store.clone(), calendars());
    for i in 0..12 {
        let id = CaseId::new(format!("D-{i:02}"));
        service
            .start(&process, new_case(id.as_str()), &clerk(), t0())
            .await
            .expect("starts");
        let now = t0() + TimeDelta::minutes(1);
        if i % 3 == 0 {
            continue;
        }
        service
            .execute(&id, &complete(1, None, json!({})), &clerk(), now)
            .await
            .expect("register");
        let outcome = if i % 3 == 1 { "again" } else { "grant" };
        service
            .execute(&id, &claim(2), &clerk(), now)
            .await
            .expect("claim");
        service
            .execute(&id, &complete(2, Some(outcome), json!({})), &clerk(), now)
            .await
            .expect("review");
    }
    service.tick(t0() + TimeDelta::days(3)).await.expect("tick");
}

/// The whole operator story on one database: migrate, fill, status, break the projections,
/// rebuild them (equal to the live ones again), verify, tamper, and see both commands refuse.
async fn operator_story(target: Vec<String>, url: String) {
    let first = ok(&target, &["migrate"]);
    assert!(
        first.contains("migrated from schema version 0 to"),
        "{first}"
    );
    let again = ok(&target, &["migrate"]);
    assert!(again.contains("already at schema version"), "{again}");

    let store = reglament_server::accounts::open_store(&url, Default::default())
        .await
        .expect("the migrated database opens");
    fill(&store).await;
    let live = store.projections().await.expect("live projections");
    assert_eq!(live.cases.len(), 12);
    let events = store.status().await.expect("status").events;

    let status: Value =
        serde_json::from_str(&ok(&target, &["status", "--format", "json"])).expect("json");
    assert_eq!(status["events"], json!(events));
    assert_eq!(status["cases"], json!(12));
    assert_eq!(status["open_cases"], json!(8));
    assert!(status["next_wakeup"].is_string(), "{status}");

    // Projections that have drifted from the log (their heads still agree with it, or the
    // log would not verify): rebuild puts them back exactly.
    store
        .execute_raw(
            "UPDATE tasks SET status = 'closed', claimed_by = NULL; DELETE FROM wakeups; \
             UPDATE cases SET status = 'closed', breached = NOT breached",
        )
        .await
        .expect("spoil the projections");
    assert_ne!(store.projections().await.expect("spoilt"), live);
    let out = ok(&target, &["rebuild"]);
    assert!(
        out.contains("every chain verifies; rebuilt 12 case(s)"),
        "{out}"
    );
    assert_eq!(store.projections().await.expect("rebuilt"), live);
    let json: Value =
        serde_json::from_str(&ok(&target, &["rebuild", "--format", "json"])).expect("json");
    assert_eq!(json["events"], json!(events));
    assert_eq!(store.projections().await.expect("rebuilt twice"), live);

    let out = ok(&target, &["verify"]);
    assert!(out.contains("Every chain is intact."), "{out}");

    // Someone with database access rewrites an event: verify names it, rebuild refuses.
    let guards = match store.backend() {
        BackendKind::Sqlite => {
            "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;"
        }
        BackendKind::Postgres => "ALTER TABLE events DISABLE TRIGGER USER",
    };
    store.execute_raw(guards).await.expect("guards off");
    store
        .execute_raw(
            "UPDATE events SET body = replace(body, 'clerk1', 'clerk9') WHERE case_id = 'D-04' AND seq = 3",
        )
        .await
        .expect("tamper");
    let out = db(&target, &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("case `D-04`, event 3: changed"), "{text}");
    store
        .execute_raw("DELETE FROM wakeups")
        .await
        .expect("spoil again");
    let spoilt = store.projections().await.expect("spoilt");
    let err = fails(&target, &["rebuild"], 1);
    assert!(err.contains("nothing was rebuilt"), "{err}");
    assert!(err.contains("D-04"), "{err}");
    assert_eq!(
        store.projections().await.expect("untouched"),
        spoilt,
        "a refused rebuild writes nothing"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_the_data_folder() {
    let dir = temp_dir();
    let data = dir.join("data");
    let url = format!("sqlite:{}", data.join("reglament.db").display());
    let target = vec!["--data".to_string(), data.display().to_string()];
    // Nothing there yet: only `migrate` creates a database.
    for cmd in ["status", "rebuild", "verify"] {
        let err = fails(&target, &[cmd], 2);
        assert!(err.contains("no database at"), "{cmd}: {err}");
    }
    operator_story(target, url).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_by_url() {
    let Some(pg) = postgres_db().await else {
        return;
    };
    operator_story(vec!["--db".to_string(), pg.url.clone()], pg.url.clone()).await;
    pg.cleanup().await;
}

#[test]
fn a_bad_url_is_one_line() {
    let target = vec!["--db".to_string(), "mysql://x".to_string()];
    for cmd in ["migrate", "status", "rebuild"] {
        let err = fails(&target, &[cmd], 2);
        assert!(err.contains("is not a database URL"), "{cmd}: {err}");
    }
}
