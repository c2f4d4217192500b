//! Inbox render time with 1,000 open tasks, server-side: the page's queries, the working
//! time left on the office calendar for every task, and the template, timed directly (and
//! once more through HTTP on loopback). Target: under 30 ms (release build). Figures are in
//! BENCHMARKS.md, section "Web"; run with
//! `cargo test --release -p reglament-server --test web_bench -- --nocapture`.

mod support;

use std::time::{Duration, Instant};

use reglament_model::sample::sample;
use reglament_model::text::Lang;
use reglament_runtime::{Actor, CaseId, NewCase};
use reglament_server::web::Ctx;
use reglament_server::web::inbox::{Filters, render_inbox};
use serde_json::Value;
use support::{Server, say};

const TASKS: usize = 1000;
const OFFICE: &str = "nko-petropavl-ozsp";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_with_a_thousand_open_tasks_renders_fast() {
    let s = Server::start().await;
    let token = s.user("clerk", &[&format!("registrar@{OFFICE}")]).await;
    let process = s
        .state
        .store
        .latest("nko-social-assistance")
        .await
        .expect("deployed");
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| sample(&f.0))
        .unwrap_or(Value::Null);
    let actor = Actor::new("clerk", "registrar");
    for i in 0..TASKS {
        let new = NewCase {
            case: CaseId::new(format!("BENCH-{i:05}")),
            channel: "provider".to_string(),
            office: OFFICE.to_string(),
            data: data.clone(),
        };
        s.state
            .service
            .start(&process, new, &actor, s.state.now())
            .await
            .expect("start");
    }
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let principal = s
        .state
        .auth
        .authenticate(&headers, s.state.now())
        .await
        .expect("signed in");
    let ctx = Ctx {
        lang: Lang::Ru,
        path: "/inbox".to_string(),
        principal: Some(principal.clone()),
        notice: None,
        reading: true,
        roles: String::new(),
    };
    let filters = Filters::default();
    let html = render_inbox(&s.state, &ctx, &principal, &filters)
        .await
        .expect("renders");
    assert_eq!(html.matches("<tr id=\"task-BENCH-").count(), TASKS);
    assert!(html.contains("<strong id=\"count-total\">1000</strong>"));

    let mut direct = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let html = render_inbox(&s.state, &ctx, &principal, &filters)
            .await
            .expect("renders");
        direct.push(t.elapsed());
        assert!(html.len() > 100_000);
    }
    let mut http = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let r = s
            .client
            .get(format!("{}/inbox", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 200);
        let body = r.text().await.expect("body");
        http.push(t.elapsed());
        assert!(body.contains("count-total\">1000<"));
    }
    let (d, h) = (median(direct), median(http));
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    say(&format!(
        "web inbox, {TASKS} open tasks ({build}): render median {:.1} ms, HTTP GET /inbox median {:.1} ms, page {} KB",
        d.as_secs_f64() * 1e3,
        h.as_secs_f64() * 1e3,
        html.len() / 1024
    ));
    // The target is for the release build; a debug build is several times slower.
    let limit = if cfg!(debug_assertions) {
        Duration::from_millis(600)
    } else {
        Duration::from_millis(30)
    };
    assert!(d < limit, "render median {d:?} over {limit:?}");
    s.stop().await;
}
