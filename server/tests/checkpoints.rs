//! Signed checkpoints end to end: the server makes its key on first start and signs the heads
//! (only the changed ones, again at shutdown); someone with write access to the database
//! rewrites a case's history and recomputes its whole chain and head, so the chain check
//! passes; `reglament audit verify` still names the case against the stored checkpoints and
//! against an exported copy, under the pinned public key, and refuses another key.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use reglament_server::checkpoints::CheckpointConfig;
use reglament_store::canonical::{self, RecordHeader};
use serde_json::{Value, json};
use sqlx::Row as _;
use support::{Server, TestDb, test_config};

fn reglament(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .env_remove("REGLAMENT_DB")
        .env("REGLAMENT_DATA", data)
        .output()
        .expect("run reglament")
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Changes the application data of `case` and recomputes every hash of its chain and its
/// head, as someone with write access to the database could.
async fn rewrite_history(url: &str, case: &str) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("open");
    sqlx::raw_sql(
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;",
    )
    .execute(&pool)
    .await
    .expect("drop the append-only triggers");
    let rows = sqlx::query(
        "SELECT seq, body, digest, calendar_version FROM events WHERE case_id = ? ORDER BY seq",
    )
    .bind(case)
    .fetch_all(&pool)
    .await
    .expect("events");
    let mut prev = canonical::GENESIS.to_string();
    for row in rows {
        let seq: i64 = row.get("seq");
        let mut body: Value = serde_json::from_str(row.get("body")).expect("JSON");
        if seq == 1 {
            body["data"]["amount"] = json!(9_999_999);
        }
        let body = canonical::canonical(&body);
        let hash = canonical::event_hash(
            RecordHeader {
                case,
                seq: seq as u64,
                prev_hash: &prev,
                digest: row.get("digest"),
                calendar_version: row.get("calendar_version"),
            },
            &body,
        );
        sqlx::query(
            "UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE case_id = ? AND seq = ?",
        )
        .bind(&body)
        .bind(&prev)
        .bind(&hash)
        .bind(case)
        .bind(seq)
        .execute(&pool)
        .await
        .expect("rewrite");
        prev = hash;
    }
    sqlx::query("UPDATE cases SET last_hash = ? WHERE case_id = ?")
        .bind(&prev)
        .bind(case)
        .execute(&pool)
        .await
        .expect("head");
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_history_with_a_recomputed_chain_is_caught_by_the_checkpoints() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let dir = Path::new(url.strip_prefix("sqlite:").expect("sqlite"))
        .parent()
        .expect("dir")
        .to_path_buf();
    let key_file = dir.join("keys").join("checkpoint.key");
    let mut config = test_config(&db.url);
    config.demo = true;
    config.checkpoints = Some(CheckpointConfig {
        key: key_file.clone(),
        interval: std::time::Duration::from_secs(3600),
    });
    let s = Server::start_with(db, config).await;
    let signer = s.state.signer.clone().expect("checkpoints are on");
    assert!(signer.created, "the first start makes the key");
    assert!(key_file.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the key is readable by its owner only: {mode:o}"
        );
    }

    let first = signer
        .checkpoint(&s.state.store, s.state.now())
        .await
        .expect("sign")
        .expect("a first checkpoint");
    assert_eq!(first.number, 1);
    assert!(first.cases >= 1, "the demo cases are covered");
    assert_eq!(first.changed.len() as u64, first.cases);
    assert!(
        signer
            .checkpoint(&s.state.store, s.state.now())
            .await
            .expect("sign")
            .is_none(),
        "nothing changed, nothing to sign"
    );

    // A case moves on: the next checkpoint names only its head.
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let inbox = s.get("/api/v1/inbox?limit=1", executor).await;
    let task = inbox.json["items"][0]["id"]
        .as_str()
        .expect("a demo task")
        .to_string();
    let case = inbox.json["items"][0]["case"]
        .as_str()
        .expect("case")
        .to_string();
    let r = s
        .post(&format!("/api/v1/tasks/{task}/claim"), executor, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = signer
        .checkpoint(&s.state.store, s.state.now())
        .await
        .expect("sign")
        .expect("a second checkpoint");
    assert_eq!(second.number, 2);
    assert_eq!(second.prev, first.id());
    assert_eq!(second.changed.len(), 1);
    assert_eq!(second.changed[0].case, case);

    // Another change, then shutdown: the server signs the heads as it leaves them.
    let r = s
        .post(
            &format!("/api/v1/tasks/{task}/release"),
            executor,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let db = s.shut_down().await.expect("db");
    let data = dir.join("no-data-here");
    let db_args = ["--db", url.as_str()];

    // The public key as the CLI prints it from the key file.
    let out = reglament(
        &[
            "audit",
            "public-key",
            "--key",
            key_file.to_str().expect("path"),
        ],
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public = text(&out.stdout).trim().to_string();
    assert_eq!(public, signer.public_key());

    // Exported for the auditor: three checkpoints, the last signed at shutdown.
    let exported = dir.join("checkpoints.jsonl");
    let out = reglament(
        &[
            &["audit", "checkpoints"][..],
            &db_args,
            &["--out", exported.to_str().expect("path")],
        ]
        .concat(),
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = std::fs::read_to_string(&exported).expect("export");
    assert_eq!(lines.lines().count(), 3, "{lines}");

    // Genuine: everything verifies under the pinned key.
    let verify = |extra: &[&str]| {
        reglament(
            &[&["audit", "verify", "--quiet"][..], &db_args, extra].concat(),
            &data,
        )
    };
    let out = verify(&["--public-key", &public]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("Every covered event is as it was when it was signed."),
        "{}",
        text(&out.stdout)
    );

    // Rewritten with a recomputed chain: the chains alone no longer tell.
    rewrite_history(&url, &case).await;
    let out = verify(&["--public-key", &public, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["ok"], true, "the forged chain links: {report}");
    let problems = report["checkpoints"]["problems"]
        .as_array()
        .expect("problems");
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["case"], case.as_str());
    assert!(
        problems[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("rewritten")),
        "{report}"
    );
    // The same against the auditor's exported copy.
    let out = verify(&[
        "--public-key",
        &public,
        "--checkpoints",
        exported.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stdout);
    assert!(said.contains(&format!("case `{case}`")), "{said}");
    assert!(said.contains("the history was rewritten"), "{said}");
    // Under another key, every checkpoint is refused.
    let other = reglament_server::auth::secret::hex(
        ed25519_dalek::SigningKey::from_bytes(&[9u8; 32])
            .verifying_key()
            .as_bytes(),
    );
    let out = verify(&["--public-key", &other]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is signed by another key"));
    // A key that is no key: a one-line error, exit 2.
    let out = verify(&["--public-key", "not-a-key"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim_end().lines().count(), 1);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_that_does_not_read_stops_the_start() {
    let db = TestDb::sqlite();
    let dir = std::env::temp_dir().join(format!("reglament-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let key = dir.join("checkpoint.key");
    std::fs::write(&key, "not hex\n").expect("write");
    let mut config = test_config(&db.url);
    config.checkpoints = Some(CheckpointConfig {
        key: key.clone(),
        interval: std::time::Duration::from_secs(3600),
    });
    let err = reglament_server::app::open(config, reglament_server::timer::Clock::System)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("is not 64 hex digits"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    db.cleanup().await;
}
