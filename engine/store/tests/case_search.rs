//! Finding a case in the store, on SQLite and on PostgreSQL: each criterion, the caller's
//! offices, paging, rebuild, and cases recorded before the search tables existed.

mod store_support;

use chrono::TimeDelta;
use reglament_runtime::{CaseId, NewCase};
use reglament_store::search::{CaseSearch, Scope, StatusFilter};
use reglament_store::{Service, Store};
use serde_json::json;
use store_support::*;

both_backends!(
    each_criterion_finds_its_cases,
    pages_walk_every_case_once,
    only_the_callers_offices_are_searched,
    rebuilt_search_rows_equal_live_ones,
    cases_recorded_before_the_search_tables_are_found_after_the_upgrade,
);

const OTHER: &str = "atyrau-zhylyoi-ozsp";

/// Five cases a minute apart: two at the other office, one registered, one breached later.
async fn five_cases(
    service: &Service,
    process: &std::sync::Arc<reglament_model::compile::Process>,
) {
    let people = [
        ("S-001", OFFICE, "Айгүл Серікқызы", "900101400123"),
        ("S-002", OFFICE, "Иванов Пётр Сергеевич", "850505300111"),
        ("S-003", OTHER, "АЙГУЛЬ Ахметова", "770707400222"),
        ("S-010", OTHER, "Нұрлан Әбенов", "660606300333"),
        ("S-011", OFFICE, "Ғалия Өмірзақова", "550505400444"),
    ];
    for (i, (id, office, name, iin)) in people.iter().enumerate() {
        service
            .start(
                process,
                NewCase {
                    case: CaseId::new(*id),
                    channel: "provider".into(),
                    office: (*office).into(),
                    data: json!({"full_name": name, "iin": iin}),
                },
                &clerk(),
                t0() + TimeDelta::minutes(i as i64),
            )
            .await
            .expect("starts");
    }
}

async fn ids(store: &Store, q: &CaseSearch) -> Vec<String> {
    let page = store.search_cases(q).await.expect("search");
    page.items.into_iter().map(|c| c.case).collect()
}

fn all() -> CaseSearch {
    CaseSearch::new(Scope::All, 50)
}

async fn each_criterion_finds_its_cases(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    five_cases(&service, &process).await;
    // Newest first.
    assert_eq!(
        ids(&store, &all()).await,
        ["S-011", "S-010", "S-003", "S-002", "S-001"]
    );
    let q = |f: &dyn Fn(&mut CaseSearch)| {
        let mut q = all();
        f(&mut q);
        q
    };
    // Names: any case, with or without Kazakh letters, soft sign or not, word by prefix.
    for (name, want) in [
        ("айгуль", vec!["S-003", "S-001"]),
        ("АЙГҮЛ", vec!["S-003", "S-001"]),
        ("айгул серик", vec!["S-001"]),
        ("серікқызы айг", vec!["S-001"]),
        ("петр иван", vec!["S-002"]),
        ("галия омирзак", vec!["S-011"]),
        ("нурлан", vec!["S-010"]),
        ("абенов нурлан", vec!["S-010"]),
        ("айгуль иванов", vec![]),
        ("ерик", vec![]),
    ] {
        let found = ids(&store, &q(&|q| q.name = Some(name.into()))).await;
        assert_eq!(found, want, "name {name}");
    }
    assert_eq!(
        ids(&store, &q(&|q| q.iin = Some("770707400222".into()))).await,
        ["S-003"]
    );
    assert!(
        ids(&store, &q(&|q| q.iin = Some("77070740022".into())))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&store, &q(&|q| q.number = Some("S-01".into()))).await,
        ["S-011", "S-010"]
    );
    assert_eq!(
        ids(&store, &q(&|q| q.number = Some("S-002".into()))).await,
        ["S-002"]
    );
    assert_eq!(
        ids(&store, &q(&|q| q.office = Some(OTHER.into()))).await,
        ["S-010", "S-003"]
    );
    assert_eq!(
        ids(
            &store,
            &q(&|q| q.regulation = Some("register-review-escalated".into()))
        )
        .await
        .len(),
        5
    );
    assert!(
        ids(&store, &q(&|q| q.regulation = Some("nothing".into())))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(
            &store,
            &q(&|q| {
                q.registered_from = Some(t0() + TimeDelta::minutes(1));
                q.registered_to = Some(t0() + TimeDelta::minutes(3));
            })
        )
        .await,
        ["S-003", "S-002"]
    );
    // S-002 is cancelled; time passes and the others breach.
    service
        .execute(
            &CaseId::new("S-002"),
            &reglament_runtime::Command::Cancel {
                reason: "withdrawn".into(),
            },
            &reglament_runtime::Actor::new("admin", "administrator"),
            t0() + TimeDelta::minutes(10),
        )
        .await
        .expect("cancel");
    assert_eq!(
        ids(&store, &q(&|q| q.status = Some(StatusFilter::Cancelled))).await,
        ["S-002"]
    );
    assert_eq!(
        ids(&store, &q(&|q| q.status = Some(StatusFilter::Open)))
            .await
            .len(),
        4
    );
    assert!(
        ids(&store, &q(&|q| q.breached = Some(true)))
            .await
            .is_empty()
    );
    service
        .tick(t0() + TimeDelta::days(30))
        .await
        .expect("tick");
    let breached = ids(&store, &q(&|q| q.breached = Some(true))).await;
    assert_eq!(breached, ["S-011", "S-010", "S-003", "S-001"]);
    assert_eq!(
        ids(&store, &q(&|q| q.breached = Some(false))).await,
        ["S-002"]
    );
    // Due dates: the cases due in a range, and none before any is due.
    let every = store.search_cases(&all()).await.expect("all").items;
    let due = every[0].due.expect("a case has its statutory due instant");
    let want: Vec<String> = every
        .iter()
        .filter(|c| c.due == Some(due))
        .map(|c| c.case.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(
        ids(
            &store,
            &q(&|q| {
                q.due_from = Some(due);
                q.due_to = Some(due + TimeDelta::seconds(1));
            })
        )
        .await,
        want
    );
    assert!(ids(&store, &q(&|q| q.due_to = Some(t0()))).await.is_empty());
    assert!(
        ids(
            &store,
            &q(&|q| q.due_from = Some(due + TimeDelta::seconds(1)))
        )
        .await
        .len()
            < 5
    );
    // A short window of due instants leads the search (through the due index); a window
    // wider than `DUE_WINDOW` is checked case by case: the same cases either way, with a
    // regulation too, and none outside the window.
    let reg = every[0].regulation.clone();
    let window = |days_before: i64| {
        let reg = reg.clone();
        move |q: &mut CaseSearch| {
            q.regulation = Some(reg.clone());
            q.due_from = Some(due - TimeDelta::days(days_before));
            q.due_to = Some(due + TimeDelta::days(1));
        }
    };
    let narrow = ids(&store, &q(&window(1))).await;
    assert!(narrow.contains(&every[0].case), "{narrow:?}");
    assert_eq!(narrow, ids(&store, &q(&window(200))).await);
    let in_window = every
        .iter()
        .filter(|c| c.regulation == reg)
        .filter(|c| {
            c.due
                .is_some_and(|d| d >= due - TimeDelta::days(1) && d < due + TimeDelta::days(1))
        })
        .count();
    assert_eq!(narrow.len(), in_window);
    // Criteria together: every one must hold.
    assert_eq!(
        ids(
            &store,
            &q(&|q| {
                q.name = Some("айгуль".into());
                q.office = Some(OTHER.into());
                q.breached = Some(true);
            })
        )
        .await,
        ["S-003"]
    );
    assert!(
        ids(
            &store,
            &q(&|q| {
                q.iin = Some("900101400123".into());
                q.number = Some("S-01".into());
            })
        )
        .await
        .is_empty()
    );
    store.close().await;
}

async fn pages_walk_every_case_once(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    // Eleven cases, several registered at the same instant: the order breaks ties by id.
    for i in 0..11 {
        let mut c = new_case(&format!("P-{i:02}"));
        if i % 2 == 0 {
            c.office = OTHER.into();
        }
        service
            .start(&process, c, &clerk(), t0() + TimeDelta::minutes(i / 3))
            .await
            .expect("starts");
    }
    for (scope, name, want) in [
        (Scope::All, None, 11),
        (Scope::Offices(vec![OFFICE.into(), OTHER.into()]), None, 11),
        (Scope::Offices(vec![OTHER.into()]), None, 6),
        (Scope::All, Some("айгуль"), 11),
        (Scope::Offices(vec![OFFICE.into()]), Some("серик"), 5),
    ] {
        for limit in [1, 2, 3, 50] {
            let mut q = CaseSearch::new(scope.clone(), limit);
            q.name = name.map(str::to_string);
            let mut seen: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
            let mut pages = 0;
            loop {
                let page = store.search_cases(&q).await.expect("page");
                assert!(page.items.len() <= limit as usize);
                seen.extend(page.items.iter().map(|c| (c.registered_at, c.case.clone())));
                pages += 1;
                match page.next {
                    Some(n) => q.after = Some(n),
                    None => break,
                }
                assert!(pages < 100, "pages never end");
            }
            assert_eq!(seen.len(), want, "{scope:?} {name:?} by {limit}");
            let mut sorted = seen.clone();
            sorted.sort_by(|a, b| b.cmp(a));
            sorted.dedup();
            assert_eq!(
                seen, sorted,
                "newest first, each once: {scope:?} by {limit}"
            );
        }
    }
    store.close().await;
}

async fn only_the_callers_offices_are_searched(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    five_cases(&service, &process).await;
    let mine = |offices: &[&str]| {
        CaseSearch::new(
            Scope::Offices(offices.iter().map(|o| o.to_string()).collect()),
            50,
        )
    };
    assert_eq!(ids(&store, &mine(&[OTHER])).await, ["S-010", "S-003"]);
    assert_eq!(
        ids(&store, &mine(&[OFFICE])).await,
        ["S-011", "S-002", "S-001"]
    );
    assert!(ids(&store, &mine(&[])).await.is_empty());
    assert!(ids(&store, &mine(&["nowhere"])).await.is_empty());
    // Every key, asked outside the caller's offices, finds nothing.
    let mut q = mine(&[OFFICE]);
    q.iin = Some("770707400222".into());
    assert!(ids(&store, &q).await.is_empty());
    let mut q = mine(&[OFFICE]);
    q.name = Some("айгуль".into());
    assert_eq!(ids(&store, &q).await, ["S-001"]);
    let mut q = mine(&[OFFICE]);
    q.number = Some("S-01".into());
    assert_eq!(ids(&store, &q).await, ["S-011"]);
    // An office filter outside the caller's offices: nothing, not an error.
    let mut q = mine(&[OFFICE]);
    q.office = Some(OTHER.into());
    assert!(ids(&store, &q).await.is_empty());
    store.close().await;
}

async fn rebuilt_search_rows_equal_live_ones(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    five_cases(&service, &process).await;
    let mut q = all();
    q.name = Some("айгуль".into());
    let before = store.search_cases(&q).await.expect("live");
    assert_eq!(before.items.len(), 2);
    store.rebuild().await.expect("rebuild");
    assert_eq!(store.search_cases(&q).await.expect("rebuilt"), before);
    let mut q = CaseSearch::new(Scope::Offices(vec![OTHER.into()]), 50);
    q.iin = Some("660606300333".into());
    assert_eq!(ids(&store, &q).await, ["S-010"]);
    store.close().await;
}

async fn cases_recorded_before_the_search_tables_are_found_after_the_upgrade(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    five_cases(&service, &process).await;
    // The database as a build before migration 11 left it: no search tables or indexes, and
    // migration 11 not recorded.
    let pg_only = if db.url.starts_with("postgres") {
        "DROP INDEX cases_id_prefix;"
    } else {
        ""
    };
    store
        .execute_raw(&format!(
            "DROP TABLE case_offices; DROP TABLE case_keys; DROP TABLE case_search_backfill; \
             DROP INDEX cases_by_registration; DROP INDEX cases_by_regulation; \
             DROP INDEX cases_by_due; DROP INDEX cases_by_regulation_due; {pg_only} \
             DELETE FROM _sqlx_migrations WHERE version = 11;"
        ))
        .await
        .expect("downgrade");
    let mut q = all();
    q.name = Some("айгуль".into());
    assert!(store.search_cases(&q).await.is_err(), "no tables yet");
    store.close().await;
    // Opening migrates and fills the rows in.
    let store = Store::open(&db.url).await.expect("reopens");
    let mut q = all();
    q.name = Some("АЙГҮЛ".into());
    assert_eq!(ids(&store, &q).await, ["S-003", "S-001"]);
    let mut q = CaseSearch::new(Scope::Offices(vec![OTHER.into()]), 50);
    q.iin = Some("660606300333".into());
    assert_eq!(ids(&store, &q).await, ["S-010"]);
    assert_eq!(store.backfill_search().await.expect("again"), 0);
    // And the cases go on as before: a new one is found with them.
    let service = Service::new(store.clone(), calendars());
    service
        .start(
            &process,
            new_case("S-100"),
            &clerk(),
            t0() + TimeDelta::hours(1),
        )
        .await
        .expect("starts");
    let mut q = all();
    q.name = Some("айгуль".into());
    assert_eq!(ids(&store, &q).await, ["S-100", "S-003", "S-001"]);
    store.close().await;
}
