//! Frozen case histories (Temporal's replay fixtures are the model): case logs recorded by an
//! earlier version of Reglament, stored as files with everything the database kept for them
//! (the regulation sources by digest, the calendar versions' data, the projection rows), must
//! replay with every later version to the same projection rows and the same audit.
//!
//! History is forever: a change that makes an old log fold differently, hash differently,
//! compile its old regulation differently or time its deadlines differently fails here. A
//! set is never re-recorded; a new one is added beside it (see `engine/testkit/histories/`).
//!
//! To record a new set from the audit corpus (every bundled regulation driven through
//! several paths): `REGLAMENT_RECORD_HISTORIES=YYYY-MM-DD cargo test -p reglament-audit
//! --test histories`; from the corpus of cases across offices and suspended tasks, add
//! `REGLAMENT_RECORD_CORPUS=offices`, from the cases worked by deputies (`actor.on_behalf_of`)
//! `REGLAMENT_RECORD_CORPUS=deputies`, from the cases changed by hand (`intervened`)
//! `REGLAMENT_RECORD_CORPUS=interventions`. It refuses to write over a set that exists.

mod audit_support;
#[path = "../../store/tests/store_support/mod.rs"]
mod store_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reglament_audit::replay::{ReplayOptions, replay_rows};
use reglament_model::compile::Process;
use reglament_model::validate;
use reglament_runtime::Event;
use reglament_store::clocks::clock_from_data;
use reglament_store::rows::EventRow;
use reglament_store::scan::CaseProjection;
use reglament_store::{Store, StoreOptions, canonical};
use serde_json::Value;

/// A recorded set: `regulations/<digest>.yaml`, `calendars/<version>.json`, and per case
/// `cases/<case>/events.jsonl`, `projection.json` (the rows as the store had them) and
/// `replay.json` (what the audit said, at the instant in `as_of.txt`).
struct Set {
    dir: PathBuf,
}

impl Set {
    fn all() -> Vec<Set> {
        let root = reglament_testkit::histories_dir();
        let mut sets: Vec<Set> = std::fs::read_dir(&root)
            .expect("engine/testkit/histories")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .map(|dir| Set { dir })
            .collect();
        sets.sort_by(|a, b| a.dir.cmp(&b.dir));
        sets
    }

    fn read(&self, rel: impl AsRef<Path>) -> String {
        let path = self.dir.join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn as_of(&self) -> DateTime<Utc> {
        self.read("as_of.txt")
            .trim()
            .parse()
            .expect("as_of.txt is an RFC 3339 instant")
    }

    fn cases(&self) -> Vec<String> {
        let mut cases: Vec<String> = std::fs::read_dir(self.dir.join("cases"))
            .expect("cases/")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        cases.sort();
        cases
    }

    fn events(&self, case: &str) -> Vec<EventRow> {
        self.read(format!("cases/{case}/events.jsonl"))
            .lines()
            .map(|l| serde_json::from_str(l).expect("an event row"))
            .collect()
    }

    /// The regulation of a digest, compiled as the store compiles a stored source.
    fn process(&self, digest: &str) -> Arc<Process> {
        let source = self.read(format!("regulations/{digest}.yaml"));
        let report = validate::check_str(&source, &format!("{digest}.yaml"), None);
        Arc::new(report.process.unwrap_or_else(|| {
            panic!(
                "the regulation {digest} of a recorded history no longer compiles: {:#?}",
                report.diagnostics
            )
        }))
    }
}

#[test]
fn recorded_histories_replay_to_the_same_state_and_audit() {
    if let Ok(name) = std::env::var("REGLAMENT_RECORD_HISTORIES") {
        record(&name);
    }
    let sets = Set::all();
    assert!(!sets.is_empty(), "no recorded history set");
    let mut replayed = 0;
    for set in &sets {
        let as_of = set.as_of();
        for case in set.cases() {
            let rows = set.events(&case);
            let first = rows.first().expect("a recorded case has events");
            let process = set.process(&first.digest);
            let clock = clock_from_data(
                &first.calendar_version,
                &set.read(format!("calendars/{}.json", first.calendar_version)),
            )
            .expect("the recorded calendar version rebuilds to the same version");
            let projection: CaseProjection =
                serde_json::from_str(&set.read(format!("cases/{case}/projection.json")))
                    .expect("projection.json");
            let where_ = format!("{}/{case}", set.dir.display());

            // Every event body still reads as an event, and its hash is what it was.
            let mut prev = canonical::GENESIS.to_string();
            for row in &rows {
                serde_json::from_str::<Event>(&row.body).unwrap_or_else(|e| {
                    panic!("{where_} seq {}: no longer an event: {e}", row.seq)
                });
                assert_eq!(row.prev_hash, prev, "{where_} seq {}: chain", row.seq);
                prev = row.hash.clone();
            }

            let opts = ReplayOptions {
                at: None,
                now: as_of,
                clocks: None,
            };
            let audit = replay_rows(
                &case,
                &rows,
                Some(&projection),
                &process,
                Some(&clock),
                &opts,
            )
            .unwrap_or_else(|e| panic!("{where_}: replay: {e}"));
            assert!(
                audit.is_clean(),
                "{where_}: the recorded history no longer replays clean: {:#?}",
                (
                    &audit.chain,
                    &audit.projections,
                    &audit.deadlines,
                    &audit.fold_error
                )
            );
            let now = serde_json::to_value(&audit).expect("json");
            let then: Value =
                serde_json::from_str(&set.read(format!("cases/{case}/replay.json"))).expect("json");
            assert_eq!(
                now, then,
                "{where_}: the audit of a recorded history changed (state, timeline or deadlines)"
            );
            replayed += 1;
        }
    }
    assert!(replayed >= 20, "only {replayed} recorded cases");
}

/// Records an audit corpus as the set `name` (run once, then committed; never again):
/// `REGLAMENT_RECORD_CORPUS=offices` records the corpus of cases across offices and
/// suspended tasks, else the first corpus.
fn record(name: &str) {
    let dir = reglament_testkit::histories_dir().join(name);
    assert!(
        !dir.exists(),
        "{} exists: a recorded set is never recorded again; name a new one",
        dir.display()
    );
    let corpus = match std::env::var("REGLAMENT_RECORD_CORPUS").as_deref() {
        Ok("offices") => audit_support::offices_corpus(),
        Ok("deputies") => audit_support::deputies_corpus(),
        Ok("interventions") => audit_support::interventions_corpus(),
        _ => audit_support::corpus(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = Store::open_with(
            &corpus.url,
            StoreOptions {
                migrate: false,
                ..Default::default()
            },
        )
        .await
        .expect("corpus");
        let pool = sqlx::SqlitePool::connect(&corpus.url)
            .await
            .expect("corpus");
        let mut digests = BTreeMap::new();
        let mut versions = BTreeMap::new();
        for case in &corpus.cases {
            let rows = store.case_log_rows(case).await.expect("rows");
            let projection = store
                .case_projection(case)
                .await
                .expect("projection")
                .expect("a projection");
            let first = rows.first().expect("events");
            digests.insert(first.digest.clone(), ());
            versions.insert(first.calendar_version.clone(), ());
            let process = store.process(&first.digest).await.expect("process");
            let data = store
                .calendar_data(&first.calendar_version)
                .await
                .expect("calendar")
                .expect("recorded calendar");
            let clock = clock_from_data(&first.calendar_version, &data).expect("clock");
            let opts = ReplayOptions {
                at: None,
                now: corpus.end,
                clocks: None,
            };
            let audit = replay_rows(
                case.as_str(),
                &rows,
                Some(&projection),
                &process,
                Some(&clock),
                &opts,
            )
            .expect("replay");
            assert!(
                audit.is_clean(),
                "{case}: the corpus replays clean: {audit:#?}"
            );
            let case_dir = dir.join("cases").join(case.as_str());
            std::fs::create_dir_all(&case_dir).expect("mkdir");
            let mut lines = String::new();
            for r in &rows {
                lines.push_str(&serde_json::to_string(r).expect("json"));
                lines.push('\n');
            }
            std::fs::write(case_dir.join("events.jsonl"), lines).expect("write");
            write_json(&case_dir.join("projection.json"), &projection);
            write_json(&case_dir.join("replay.json"), &audit);
        }
        std::fs::create_dir_all(dir.join("regulations")).expect("mkdir");
        for digest in digests.keys() {
            let source: String =
                sqlx::query_scalar("SELECT source FROM regulations WHERE digest = $1")
                    .bind(digest)
                    .fetch_one(&pool)
                    .await
                    .expect("source");
            std::fs::write(dir.join(format!("regulations/{digest}.yaml")), source).expect("write");
        }
        std::fs::create_dir_all(dir.join("calendars")).expect("mkdir");
        for version in versions.keys() {
            let data = store
                .calendar_data(version)
                .await
                .expect("calendar")
                .expect("recorded");
            std::fs::write(dir.join(format!("calendars/{version}.json")), data).expect("write");
        }
        std::fs::write(
            dir.join("as_of.txt"),
            format!("{}\n", corpus.end.to_rfc3339()),
        )
        .expect("write");
        store.close().await;
    });
}

fn write_json(path: &Path, value: &impl serde::Serialize) {
    let mut text = serde_json::to_string_pretty(value).expect("json");
    text.push('\n');
    std::fs::write(path, text).expect("write");
}
