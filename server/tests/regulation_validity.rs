//! When a version takes effect, with a fixed clock: a version deployed with a future
//! `in_force_from` is picked by registrations from the office's local midnight of that day on
//! (Atyrau is UTC+5), and cases started before stay on theirs; a regulation repealed with no
//! successor is refused (API 422 naming the act and the day; the registration pages say it in
//! kk/ru/en) and nothing is written; a version whose days come before, or leave a gap after,
//! the deployed one is refused with the dates (API 409, `reglament db deploy` one line); the
//! bundled regulations deploy as before, each in force today.

mod support;

use std::process::{Command, Output};

use reglament_server::accounts::GrantRecord;
use reglament_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Resp, Server, send, t};

const REGULATION: &str = "atyrau-wheelchair";
const OFFICE: &str = "atyrau-city-ozsp";

fn bundled() -> String {
    std::fs::read_to_string(support::regulations_dir().join("atyrau/atyrau-wheelchair.yaml"))
        .expect("bundled file")
}

fn bundled_version(text: &str) -> u32 {
    text.lines()
        .find_map(|l| l.strip_prefix("version: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a version line")
}

/// The bundled wheelchair regulation as version `bundled + n`, with `extra` top-level lines
/// after its version.
fn next_version(n: u32, extra: &str) -> String {
    let text = bundled();
    let v = bundled_version(&text);
    text.replacen(
        &format!("version: {v}\n"),
        &format!("version: {}\n{extra}", v + n),
        1,
    )
}

/// Version `bundled + n` repealed from `date` by `act` (the bundled text says it was repealed,
/// without the day or the act).
fn repealed_version(n: u32, date: &str, act: &str) -> String {
    let text = next_version(n, "");
    assert!(
        text.contains("\nrepealed:\n"),
        "the bundled file has a repeal"
    );
    text.replacen(
        "\nrepealed:\n",
        &format!("\nrepealed:\n  date: {date}\n  act: {act}\n"),
        1,
    )
}

async fn deploy(s: &Server, token: &str, yaml: &str) -> Resp {
    send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(token)
            .header("content-type", "application/yaml")
            .body(yaml.to_string()),
    )
    .await
}

async fn register(s: &Server, token: &str) -> Resp {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let sample =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    s.post(
        "/api/v1/cases",
        token,
        &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE, "data": sample}),
    )
    .await
}

async fn cases(s: &Server) -> i64 {
    s.state.store.status().await.expect("status").cases
}

fn summary<'a>(list: &'a Resp, id: &str) -> &'a Value {
    list.json
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["id"] == id)
        .expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_version_takes_registrations_from_the_offices_midnight_on() {
    // 15 April 2026, 23:59:59 in Atyrau: still the 15th there (18:59:59 UTC).
    let s = Server::start_at(t("2026-04-15T23:59:59+05:00")).await;
    let analyst = s.user("ana", &["analyst"]).await;
    let exec = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let old = bundled_version(&bundled());

    let r = deploy(
        &s,
        &analyst,
        &next_version(1, "in_force_from: 2026-04-16\n"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["status"], "scheduled", "{}", r.text);
    assert_eq!(r.json["effective_from"], "2026-04-16");

    let list = s.get("/api/v1/regulations", &exec).await;
    let w = summary(&list, REGULATION);
    assert_eq!(w["today"], "2026-04-15", "{w}");
    assert_eq!(w["in_force_version"], old, "{w}");
    assert_eq!(w["latest_version"], old + 1, "{w}");
    let versions = w["versions"].as_array().expect("versions");
    let last = versions.last().expect("the new one");
    assert_eq!(
        (&last["status"], &last["effective_from"]),
        (&json!("scheduled"), &json!("2026-04-16"))
    );
    assert_eq!(versions[versions.len() - 2]["status"], "in_force");
    assert_eq!(
        versions[versions.len() - 2]["effective_until"],
        "2026-04-16"
    );

    // One second before the office's midnight: the version in force, not the newest.
    let before = register(&s, &exec).await;
    assert_eq!(before.status, 201, "{}", before.text);
    assert_eq!(before.json["regulation_version"], old, "{}", before.text);

    // Midnight in Atyrau is 19:00 UTC on the 15th: the UTC date has not changed, the
    // office's has.
    s.clock().set(t("2026-04-16T00:00:00+05:00"));
    let after = register(&s, &exec).await;
    assert_eq!(after.status, 201, "{}", after.text);
    assert_eq!(after.json["regulation_version"], old + 1, "{}", after.text);

    // The case started the evening before stays on its version.
    let id = before.json["id"].as_str().expect("id");
    let again = s.get(&format!("/api/v1/cases/{id}"), &exec).await;
    assert_eq!(again.json["regulation_version"], old, "{}", again.text);

    // Asking for the old version by number is refused now that it no longer applies.
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let sample =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    let r = s
        .post(
            "/api/v1/cases",
            &exec,
            &json!({"regulation": REGULATION, "version": old, "channel": "provider", "office": OFFICE, "data": sample}),
        )
        .await;
    r.assert_problem(422, "regulation-not-in-force");
    assert_eq!(r.json["errors"][0]["pointer"], "/version", "{}", r.text);

    let list = s.get("/api/v1/regulations", &exec).await;
    let w = summary(&list, REGULATION);
    assert_eq!(w["in_force_version"], old + 1, "{w}");
    let one = s
        .get(&format!("/api/v1/regulations/{REGULATION}"), &exec)
        .await;
    assert_eq!(one.json["in_force_version"], old + 1, "{}", one.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repealed_regulation_without_a_successor_is_refused_and_nothing_is_written() {
    let s = Server::start_at(t("2026-04-15T10:00:00+05:00")).await;
    let analyst = s.user("ana", &["analyst"]).await;
    let exec = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let act = "Постановление акимата Атырауской области от 1 апреля 2026 года № 77";
    let old = bundled_version(&bundled());

    // The repeal is recorded as a new version (same first day: it replaces the bundled one).
    let r = deploy(&s, &analyst, &repealed_version(1, "2026-04-20", act)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["status"], "in_force", "{}", r.text);
    let ok = register(&s, &exec).await;
    assert_eq!(ok.status, 201, "{}", ok.text);

    // 20 April: repealed, no successor.
    s.clock().set(t("2026-04-20T09:00:00+05:00"));
    let before = cases(&s).await;
    let r = register(&s, &exec).await;
    r.assert_problem(422, "regulation-not-in-force");
    let detail = r.json["detail"].as_str().expect("detail");
    assert!(
        detail.contains(act) && detail.contains("2026-04-20"),
        "{detail}"
    );
    assert_eq!(r.json["errors"][0]["pointer"], "/regulation", "{}", r.text);
    assert_eq!(cases(&s).await, before, "nothing written");
    let list = s.get("/api/v1/regulations", &exec).await;
    let w = summary(&list, REGULATION);
    assert_eq!(w["in_force_version"], Value::Null, "{w}");
    assert_eq!(
        w["versions"].as_array().expect("v").last().expect("last")["status"],
        "ended"
    );

    // The pages: the service is listed without a link, with the reason, in each language;
    // its form and a posted registration are refused with the same words.
    s.user_with(
        "clerk",
        vec![GrantRecord {
            role: "executor".into(),
            office: OFFICE.into(),
        }],
        Some(DEMO_PASSWORD),
    )
    .await;
    let mut b = Browser::new(&s);
    b.sign_in("clerk").await;
    for (lang, words) in [
        ("ru", "утратил силу с 2026-04-20"),
        ("kk", "2026-04-20 бастап күшін жойды"),
        ("en", "repealed from 2026-04-20"),
    ] {
        let page = b.get(&format!("/register?lang={lang}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains(words) && page.body.contains(act),
            "{lang}: {}",
            page.body
        );
        assert!(
            !page
                .body
                .contains(&format!("href=\"/register/{REGULATION}\"")),
            "{lang}: still offered"
        );
        // Other services are offered as before.
        assert!(page.body.contains("href=\"/register/atyrau-"), "{lang}");
        let form = b.get(&format!("/register/{REGULATION}?lang={lang}")).await;
        assert_eq!(form.status, 422, "{lang}: {}", form.body);
        assert!(form.body.contains(words), "{lang}: {}", form.body);
    }
    let choose = b.get("/register").await;
    let r = b
        .post(
            "/register",
            &[
                ("_csrf", &choose.csrf()),
                ("regulation", REGULATION),
                ("channel", "provider"),
                ("office", OFFICE),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(cases(&s).await, before, "nothing written");

    // A successor must take effect on the repeal's day: a later one leaves a gap.
    let r = deploy(
        &s,
        &analyst,
        &next_version(2, "in_force_from: 2026-05-01\n"),
    )
    .await;
    r.assert_problem(409, "version-dates-conflict");
    let detail = r.json["detail"].as_str().expect("detail");
    assert!(
        detail.contains("2026-04-19") && detail.contains("2026-05-01"),
        "{detail}"
    );
    assert_eq!(
        r.json["errors"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text
    );
    let r = deploy(
        &s,
        &analyst,
        &next_version(2, "in_force_from: 2026-04-20\n"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let again = register(&s, &exec).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json["regulation_version"], old + 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_earlier_than_the_deployed_one_is_refused_with_both_days() {
    let s = Server::start_at(t("2026-04-15T10:00:00+05:00")).await;
    let analyst = s.user("ana", &["analyst"]).await;
    let r = deploy(
        &s,
        &analyst,
        &next_version(1, "in_force_from: 2026-06-01\n"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let deployed = s.state.store.regulations().await.expect("list").len();
    let r = deploy(
        &s,
        &analyst,
        &next_version(2, "in_force_from: 2026-05-01\n"),
    )
    .await;
    r.assert_problem(409, "version-dates-conflict");
    let detail = r.json["detail"].as_str().expect("detail");
    assert!(
        detail.contains("2026-05-01") && detail.contains("2026-06-01"),
        "{detail}"
    );
    let pointers: Vec<&str> = r.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, ["/version", "/in_force_from"], "{}", r.text);
    assert_eq!(
        s.state.store.regulations().await.expect("list").len(),
        deployed,
        "nothing written"
    );
    // A version ending before it begins is the file's own mistake, at its line.
    let r = deploy(
        &s,
        &analyst,
        &next_version(2, "in_force_from: 2026-06-01\nvalid_to: 2026-05-31\n"),
    )
    .await;
    r.assert_problem(422, "invalid-regulation");
    assert_eq!(r.json["errors"][0]["pointer"], "/valid_to", "{}", r.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_regulations_deploy_as_before_each_in_force_today() {
    let s = Server::start_at(t("2026-04-15T10:00:00+05:00")).await;
    let exec = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let list = s.get("/api/v1/regulations", &exec).await;
    let all = list.json.as_array().expect("list");
    assert_eq!(all.len(), 9, "{}", list.text);
    for r in all {
        assert_eq!(r["in_force_version"], r["latest_version"], "{r}");
    }
    // Starting again on the same database deploys nothing new and refuses nothing.
    let url = s.state.config.db.clone();
    let again = reglament_server::app::open(
        support::test_config(&url),
        reglament_server::timer::Clock::manual(t("2026-04-15T10:00:00+05:00")),
    )
    .await
    .expect("starts again");
    assert!(!again.deployed.is_empty());
    for d in &again.deployed {
        assert!(
            matches!(d.result, Ok((_, _, false))),
            "{}: {:?}",
            d.file,
            d.result
        );
    }
    again.state.store.close().await;
    s.stop().await;
}

/// `reglament db ARGS --db URL` (with the bundled regulations folder where it is taken).
fn db(url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reglament"));
    cmd.arg("db").args(args).args(["--db", url]);
    if args[0] != "migrate" {
        cmd.args([
            "--regulations",
            &support::regulations_dir().display().to_string(),
        ]);
    }
    cmd.env_remove("REGLAMENT_DB")
        .env_remove("REGLAMENT_DATA")
        .output()
        .expect("run reglament")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_deploys_lists_windows_and_refuses_in_one_line() {
    let dir = std::env::temp_dir().join(format!("reglament-validity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let migrated = db(&url, &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let bundled_file = support::regulations_dir()
        .join("atyrau/atyrau-wheelchair.yaml")
        .display()
        .to_string();
    let old = bundled_version(&bundled());
    let scheduled = file(
        "v-next.yaml",
        &next_version(1, "in_force_from: 2099-01-01\n"),
    );
    let out = db(&url, &["deploy", &bundled_file, &scheduled]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("from 2099-01-01 (scheduled)"), "{stdout}");
    // Listed with each version's days and status.
    let out = db(
        &url,
        &["regulations", "--on", "2026-04-15", "--format", "json"],
    );
    assert!(out.status.success(), "{out:?}");
    let listed: Value = serde_json::from_slice(&out.stdout).expect("json");
    let w = &listed[0];
    assert_eq!(w["id"], REGULATION);
    assert_eq!(w["in_force_version"], old, "{w}");
    assert_eq!(w["versions"][1]["status"], "scheduled", "{w}");
    assert_eq!(w["versions"][0]["effective_until"], "2099-01-01", "{w}");
    let text = db(&url, &["regulations", "--on", "2099-01-01"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("in_force") && text.contains("superseded"),
        "{text}"
    );
    // Earlier than the deployed one: one line, exit 1, nothing written.
    let earlier = file(
        "v-earlier.yaml",
        &next_version(2, "in_force_from: 2098-01-01\n"),
    );
    let out = db(&url, &["deploy", &earlier]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("2098-01-01") && err.contains("2099-01-01"),
        "{err}"
    );
    let out = db(&url, &["regulations", "--format", "json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listed[0]["versions"].as_array().map(Vec::len), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
