//! The exports of office work: cases changed by hand (`intervened`) and cases worked under
//! deputy rules (`actor.on_behalf_of`), from the audit corpora of those kinds. A process
//! miner sees the change by hand as an event of its own (what, on what basis, who approved),
//! and who a deputy acted for on every task they completed.

mod audit_support;
#[path = "../../store/tests/store_support/mod.rs"]
mod store_support;

use reglament_audit::export::{self, ExportFormat};
use reglament_model::text::Lang;
use reglament_store::scan::CaseFilter;
use reglament_store::{Store, StoreOptions};
use serde_json::Value;

async fn open(corpus: &audit_support::Corpus) -> Store {
    Store::open_with(
        &corpus.url,
        StoreOptions {
            migrate: false,
            ..Default::default()
        },
    )
    .await
    .expect("corpus")
}

async fn exported(store: &Store, format: ExportFormat) -> String {
    let mut out = Vec::new();
    export::export(store, &CaseFilter::default(), format, Lang::En, &mut out)
        .await
        .expect("export");
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_by_hand_is_an_event_of_its_own_in_every_export() {
    let corpus = audit_support::interventions_corpus();
    let store = open(corpus).await;
    let mut interventions = 0;
    for case in &corpus.cases {
        interventions += store
            .case_log_rows(case)
            .await
            .expect("rows")
            .iter()
            .filter(|r| r.body.contains("\"type\":\"intervened\""))
            .count();
    }
    assert!(interventions >= 20, "{interventions}");

    let xes = exported(&store, ExportFormat::Xes).await;
    let changes: Vec<&str> = xes
        .split("<event>")
        .filter(|e| e.contains("value=\"Case changed by hand by an administrator\""))
        .collect();
    assert_eq!(changes.len(), interventions, "one event per change");
    for e in &changes {
        assert!(
            e.contains("<string key=\"org:resource\" value=\"admin-1\"/>"),
            "{e}"
        );
        assert!(
            e.contains("<string key=\"org:role\" value=\"administrator\"/>"),
            "{e}"
        );
        assert!(
            e.contains(
                "<string key=\"reason\" value=\"order of the head of department No. 17 of 13 \
                 April 2026: the applicant&apos;s complaint of 12 April was upheld\"/>"
            ),
            "{e}"
        );
    }
    // A due instant changed: what moved, and the second administrator.
    let due_changes: Vec<&&str> = changes
        .iter()
        .filter(|e| e.contains("value=\"change_due "))
        .collect();
    assert!(!due_changes.is_empty());
    for e in &due_changes {
        assert!(
            e.contains("<string key=\"approved_by\" value=\"admin-2\"/>"),
            "{e}"
        );
        assert!(e.contains("<string key=\"moved\" value=\""), "{e}");
    }
    // A return or a cancelled task needs no second person.
    let moves: Vec<&&str> = changes
        .iter()
        .filter(|e| e.contains("value=\"move_to ") || e.contains("value=\"cancel_task "))
        .collect();
    assert!(!moves.is_empty());
    assert!(moves.iter().all(|e| !e.contains("approved_by")));

    let csv = exported(&store, ExportFormat::Csv).await;
    let rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",Case changed by hand by an administrator,"))
        .collect();
    assert_eq!(rows.len(), interventions);
    assert!(rows.iter().any(|l| l.ends_with(",,admin-2")), "{rows:#?}");

    let ocel: Value =
        serde_json::from_str(&exported(&store, ExportFormat::Ocel).await).expect("OCEL is JSON");
    let approved: Vec<&Value> = ocel["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| {
            e["relationships"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["qualifier"] == "approved_by"))
        })
        .collect();
    assert_eq!(approved.len(), due_changes.len());
    assert!(
        ocel["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .any(|o| o["id"] == "user:admin-2"),
        "the approving administrator is an object"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_done_by_a_deputy_names_whom_it_was_done_for() {
    let corpus = audit_support::deputies_corpus();
    let store = open(corpus).await;
    let xes = exported(&store, ExportFormat::Xes).await;
    let completions: Vec<&str> = xes
        .split("<event>")
        .filter(|e| e.contains("value=\"complete\"") && e.contains("<int key=\"task\""))
        .collect();
    assert!(completions.len() >= 20);
    let by_deputy: Vec<&&str> = completions
        .iter()
        .filter(|e| e.contains("-deputy\"/>"))
        .collect();
    assert!(!by_deputy.is_empty());
    for e in &by_deputy {
        assert!(e.contains("<string key=\"on_behalf_of\" value=\""), "{e}");
    }
    let csv = exported(&store, ExportFormat::Csv).await;
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "on_behalf_of")
        .expect("on_behalf_of column");
    let resource = header
        .iter()
        .position(|h| *h == "resource")
        .expect("resource");
    let lifecycle = header
        .iter()
        .position(|h| *h == "lifecycle")
        .expect("lifecycle");
    let mut acted_for = 0;
    // A task's completion is the deputy's act (its start, the task's opening, is nobody's).
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() == header.len()
            && cells[lifecycle] == "complete"
            && cells[resource].ends_with("-deputy")
        {
            assert!(!cells[col].is_empty(), "{line}");
            assert_ne!(cells[col], cells[resource]);
            acted_for += 1;
        }
    }
    assert!(acted_for > 0);
    let ocel: Value =
        serde_json::from_str(&exported(&store, ExportFormat::Ocel).await).expect("OCEL is JSON");
    assert!(
        ocel["events"].as_array().expect("events").iter().any(|e| {
            e["relationships"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["qualifier"] == "on_behalf_of"))
        }),
        "a deputy's work relates to the user acted for"
    );
    store.close().await;
}
