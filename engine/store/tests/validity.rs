//! When deployed versions apply: the window each one is stored with, the version in force on a
//! day, and the deployments refused because their days do not follow the deployed versions'.
//! Run the same on SQLite and on PostgreSQL (`<test>::sqlite`, `<test>::postgres`).

mod store_support;

use chrono::NaiveDate;
use reglament_store::versions::{InForce, Succession, Window};
use reglament_store::{Store, StoreError};
use store_support::*;

both_backends!(
    a_scheduled_version_is_in_force_from_its_day,
    versions_must_follow_without_gaps_or_overlaps,
    a_repealed_version_with_no_successor_is_in_force_for_nobody,
    old_rows_get_their_window_from_their_source,
);

fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// The fixture regulation as version `version`, with extra top-level lines (dates).
fn version(version: u32, dates: &str) -> String {
    REGULATION.replace("version: 1", &format!("version: {version}\n{dates}"))
}

async fn in_force_version(store: &Store, on: &str) -> Option<u32> {
    match store
        .in_force("register-review-escalated", day(on))
        .await
        .expect("in force")
    {
        InForce::Version(v) => Some(v.version),
        InForce::None { .. } => None,
    }
}

async fn a_scheduled_version_is_in_force_from_its_day(db: &TestDb) {
    let (store, _, _) = setup(db).await;
    // Version 1 applies from its decree's date, 16 November 2012.
    assert_eq!(in_force_version(&store, "2026-03-20").await, Some(1));
    assert_eq!(
        store
            .in_force("register-review-escalated", day("2012-11-15"))
            .await
            .expect("in force"),
        InForce::None {
            ended: None,
            next: store
                .windows("register-review-escalated")
                .await
                .expect("windows")
                .first()
                .cloned(),
        },
        "before its first day: not yet, and the day it will be"
    );
    assert_eq!(in_force_version(&store, "2012-11-16").await, Some(1));
    // Version 2 is deployed on 20 March and takes effect on 1 April: scheduled.
    store
        .deploy(&version(2, "in_force_from: 2026-04-01"), "analyst", t0())
        .await
        .expect("a future version deploys");
    assert_eq!(in_force_version(&store, "2026-03-31").await, Some(1));
    assert_eq!(in_force_version(&store, "2026-04-01").await, Some(2));
    assert_eq!(in_force_version(&store, "2030-01-01").await, Some(2));
    let listed = store.regulations().await.expect("list");
    assert_eq!(
        listed.iter().map(|r| r.window).collect::<Vec<_>>(),
        vec![
            Window {
                from: day("2012-11-16"),
                until: None
            },
            Window {
                from: day("2026-04-01"),
                until: None
            },
        ]
    );
    // A version of the same day replaces it; the older one stays deployed (cases pin it).
    store
        .deploy(
            &version(3, "in_force_from: 2026-04-01\nvalid_to: 2026-12-31"),
            "analyst",
            t0(),
        )
        .await
        .expect("same day replaces");
    assert_eq!(in_force_version(&store, "2026-04-01").await, Some(3));
    assert_eq!(in_force_version(&store, "2026-03-31").await, Some(1));
    assert_eq!(in_force_version(&store, "2026-12-31").await, Some(3));
    assert_eq!(in_force_version(&store, "2027-01-01").await, None);
    store.close().await;
}

async fn versions_must_follow_without_gaps_or_overlaps(db: &TestDb) {
    let (store, _, _) = setup(db).await;
    store
        .deploy(
            &version(2, "in_force_from: 2026-04-01\nvalid_to: 2026-12-31"),
            "analyst",
            t0(),
        )
        .await
        .expect("v2");
    let refused = |v: u32, dates: &'static str| {
        let store = store.clone();
        async move {
            match store.deploy(&version(v, dates), "analyst", t0()).await {
                Err(StoreError::Succession { id, conflict }) => {
                    assert_eq!(id, "register-review-escalated");
                    conflict
                }
                other => panic!("version {v} with {dates}: {other:?}"),
            }
        }
    };
    // Earlier than the deployed version: out of order.
    let e = refused(3, "in_force_from: 2026-03-01").await;
    assert_eq!(
        e,
        Succession::Earlier {
            previous: 2,
            previous_from: day("2026-04-01"),
            version: 3,
            from: day("2026-03-01"),
        }
    );
    // Version 2 ends on 31 December: 1 February leaves January under no version.
    let e = refused(3, "in_force_from: 2027-02-01").await;
    assert!(matches!(e, Succession::Gap { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("2026-12-31") && text.contains("2027-01-01") && text.contains("2027-02-01"),
        "{text}"
    );
    // 1 October: both would apply in the last quarter.
    let e = refused(3, "in_force_from: 2026-10-01").await;
    assert!(matches!(e, Succession::Overlap { .. }), "{e}");
    assert!(e.to_string().contains("2026-10-01"), "{e}");
    // Nothing of the refused deployments was written.
    assert_eq!(
        store
            .windows("register-review-escalated")
            .await
            .expect("windows")
            .len(),
        2
    );
    // The day after version 2's last: it follows.
    store
        .deploy(&version(3, "in_force_from: 2027-01-01"), "analyst", t0())
        .await
        .expect("follows without a gap");
    assert_eq!(in_force_version(&store, "2026-12-31").await, Some(2));
    assert_eq!(in_force_version(&store, "2027-01-01").await, Some(3));
    store.close().await;
}

async fn a_repealed_version_with_no_successor_is_in_force_for_nobody(db: &TestDb) {
    let (store, _, _) = setup(db).await;
    let repealed = "repealed:\n  text: Утратил силу\n  date: 2026-05-01\n  act: Постановление № 99";
    store
        .deploy(&version(2, repealed), "analyst", t0())
        .await
        .expect("a repeal is a new version");
    assert_eq!(in_force_version(&store, "2026-04-30").await, Some(2));
    match store
        .in_force("register-review-escalated", day("2026-05-01"))
        .await
        .expect("in force")
    {
        InForce::None {
            ended: Some(ended),
            next: None,
        } => {
            assert_eq!(ended.version, 2);
            assert_eq!(ended.window.until, Some(day("2026-05-01")));
        }
        other => panic!("{other:?}"),
    }
    // A successor must take effect on the repeal's day.
    let e = store
        .deploy(&version(3, "in_force_from: 2026-06-01"), "analyst", t0())
        .await
        .expect_err("a gap");
    assert!(e.to_string().contains("2026-05-01"), "{e}");
    store
        .deploy(&version(3, "in_force_from: 2026-05-01"), "analyst", t0())
        .await
        .expect("the successor");
    assert_eq!(in_force_version(&store, "2026-05-01").await, Some(3));
    assert!(matches!(
        store.in_force("nothing-deployed", day("2026-05-01")).await,
        Err(StoreError::UnknownRegulation(_))
    ));
    store.close().await;
}

async fn old_rows_get_their_window_from_their_source(db: &TestDb) {
    let (store, _, _) = setup(db).await;
    store
        .deploy(&version(2, "in_force_from: 2026-04-01"), "analyst", t0())
        .await
        .expect("v2");
    let before = store.regulations().await.expect("list");
    // As a database deployed before migration 7 has them: no window.
    store
        .execute_raw("UPDATE regulations SET effective_from = NULL, effective_to = NULL")
        .await
        .expect("forget the windows");
    store.close().await;
    let store = Store::open(&db.url).await.expect("reopens and migrates");
    assert_eq!(store.regulations().await.expect("list"), before);
    assert_eq!(in_force_version(&store, "2026-03-31").await, Some(1));
    assert_eq!(in_force_version(&store, "2026-04-01").await, Some(2));
    assert_eq!(store.backfill_windows().await.expect("again"), 0);
    store.close().await;
}
