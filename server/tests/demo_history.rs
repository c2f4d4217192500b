//! `--demo`'s history: months of cases per office, regulation and channel, run through the
//! engine (every chain verifies), with some late, refused, returned and suspended, the same on
//! every run, made once; and the dashboard and the report showing it.

mod support;

use std::collections::BTreeMap;

use reglament_server::demo_history::HistorySize;
use support::browser::Browser;
use support::{Server, TestDb, t, test_config};

/// Six months, one case a month per office, regulation and channel: the real shape, smaller.
async fn demo(db: TestDb) -> Server {
    let mut config = test_config(&db.url);
    config.demo = true;
    config.demo_history = HistorySize {
        months: 6,
        per_month: 1,
    };
    Server::start_at_with(t("2026-11-20T10:00:00+05:00"), db, config).await
}

/// What the history holds, counted from the event log.
#[derive(Debug, PartialEq)]
struct Counts {
    cases: i64,
    ended: i64,
    per_office: BTreeMap<String, i64>,
    per_regulation: BTreeMap<String, i64>,
    breached_cases: i64,
    refusals: i64,
    suspensions: i64,
    first: String,
    last: String,
}

async fn counts(s: &Server) -> Counts {
    let pool = sqlx::SqlitePool::connect(&s.state.config.db)
        .await
        .expect("db");
    let one = |q: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(q)
                .fetch_one(&pool)
                .await
                .expect(q)
        }
    };
    let by = |q: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (String, i64)>(q)
                .fetch_all(&pool)
                .await
                .expect(q)
                .into_iter()
                .collect::<BTreeMap<_, _>>()
        }
    };
    Counts {
        cases: one("SELECT COUNT(*) FROM cases WHERE case_id LIKE 'H-%'").await,
        ended: one("SELECT COUNT(DISTINCT case_id) FROM events WHERE case_id LIKE 'H-%' AND type = 'case_ended'").await,
        per_office: by("SELECT office, COUNT(*) FROM cases WHERE case_id LIKE 'H-%' GROUP BY office").await,
        per_regulation: by("SELECT regulation_id, COUNT(*) FROM cases WHERE case_id LIKE 'H-%' GROUP BY regulation_id").await,
        breached_cases: one("SELECT COUNT(DISTINCT case_id) FROM events WHERE case_id LIKE 'H-%' AND type = 'deadline_breached'").await,
        refusals: one("SELECT COUNT(*) FROM events WHERE case_id LIKE 'H-%' AND type = 'task_completed' AND json_extract(body, '$.outcome') LIKE 'refuse%'").await,
        suspensions: one("SELECT COUNT(*) FROM events WHERE case_id LIKE 'H-%' AND type = 'task_suspended'").await,
        first: sqlx::query_scalar("SELECT MIN(at) FROM events WHERE case_id LIKE 'H-%' AND type = 'case_started'")
            .fetch_one(&pool).await.map(|a: i64| a.to_string()).expect("first"),
        last: sqlx::query_scalar("SELECT MAX(at) FROM events WHERE case_id LIKE 'H-%' AND type = 'case_started'")
            .fetch_one(&pool).await.map(|a: i64| a.to_string()).expect("last"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_six_months_of_verifiable_varied_history_made_once() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let s = demo(db).await;
    let c = counts(&s).await;

    // Every office that takes applications, every bundled regulation.
    for office in [
        "atyrau-city-ozsp",
        "atyrau-zhylyoi-ozsp",
        "nko-petropavl-ozsp",
        "nko-kyzylzhar-ozsp",
        "atyrau-tson-atyrau-1",
        "nko-kyzylzhar-beskol-akim",
    ] {
        assert!(
            c.per_office.get(office).copied().unwrap_or(0) >= 6,
            "{office}: {c:?}"
        );
    }
    assert!(c.per_regulation.len() >= 9, "{c:?}");
    assert!(c.per_regulation.values().all(|n| *n >= 6), "{c:?}");
    // About six months: the first case started 5–7 months before the last.
    let span_days =
        (c.last.parse::<i64>().expect("at") - c.first.parse::<i64>().expect("at")) / 86_400_000_000;
    assert!((150..=215).contains(&span_days), "{span_days} days");
    // Most finished, a few open; a few percent late; refusals; suspensions.
    assert!(c.ended * 100 >= c.cases * 75, "{c:?}");
    assert!(c.ended < c.cases, "{c:?}");
    let late = c.breached_cases as f64 / c.cases as f64;
    assert!((0.005..0.15).contains(&late), "{late} of {c:?}");
    assert!(c.refusals > 0, "{c:?}");
    assert!(c.suspensions > 0, "{c:?}");

    // Every event is the engine's: every chain verifies.
    let report = s.state.store.verify_all().await.expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.cases as i64 >= c.cases);

    // The dashboard and the report show it.
    let mut b = Browser::new(&s);
    b.sign_in("admin").await;
    let report = b.get("/report?office=atyrau-city-ozsp&lang=en").await;
    assert_eq!(report.status, 200);
    let trend = "aria-label=\"Cases, on-time rate and breaches per month — Employment and Social Programmes Department of Atyrau city\"";
    assert!(report.body.contains(trend), "{}", report.body);
    // Six months of bars, each with its count and its on-time rate.
    for month in ["Jun 2026", "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026"] {
        assert!(report.body.contains(month), "{month}");
    }
    assert!(
        report
            .body
            .contains("Working time per step against its allowed time")
    );
    assert!(report.body.contains("working hours"));
    assert!(!report.body.contains('…'), "no label is cut");
    let dashboard = b.get("/dashboard?office=atyrau-city-ozsp&lang=ru").await;
    assert_eq!(dashboard.status, 200);
    let charts = dashboard
        .body
        .split("id=\"dashboard-charts\"")
        .nth(1)
        .expect("the dashboard has its charts");
    assert!(charts.contains(
        "Дела, доля в срок и нарушения по месяцам — Отдел занятости и социальных программ города Атырау"
    ));
    assert!(charts.contains("Рабочее время по шагам против допустимого"));
    assert!(charts.contains("рабочие часы") && charts.contains("в срок, %"));
    // A finished case's page shows its steps' working time against the allowed time.
    let case = b
        .get("/cases/H-atyrau-city-ozsp-atyrau-child-benefit-provider-001?lang=kk")
        .await;
    assert_eq!(case.status, 200, "{}", case.body);
    let chart = case
        .body
        .split("id=\"timeline-chart\"")
        .nth(1)
        .expect("the case page has its timeline chart");
    assert!(chart.contains("Қадамдар бойынша пайдаланылған және рұқсат етілген жұмыс уақыты"));
    assert!(chart.contains("жұмыс сағаттары"));

    // A second start (a second node on the same database) adds nothing.
    let mut config = test_config(&url);
    config.demo = true;
    config.demo_history = HistorySize {
        months: 6,
        per_month: 1,
    };
    let again = Server::start_on(&url, config).await;
    assert_eq!(counts(&again).await, c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_demo_databases_get_the_same_history() {
    let a = counts(&demo(TestDb::sqlite()).await).await;
    let b = counts(&demo(TestDb::sqlite()).await).await;
    assert_eq!(a, b);
}
