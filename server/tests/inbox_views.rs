//! Inbox views shared within an office: a head names them (API and page), everyone in the
//! office chooses them, another office neither sees nor changes them (404), a non-head may
//! not change them (403), and unknown filter values are refused naming the field (422).

mod support;

use serde_json::{Value, json};
use support::Server;
use support::browser::Browser;

const A: &str = "atyrau-city-ozsp";
const B: &str = "atyrau-zhylyoi-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

fn ids(r: &support::Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_name_views_that_their_office_chooses_and_no_other_office_sees() {
    let s = Server::start().await;
    let head = s.user("head-a", &[&format!("head@{A}")]).await;
    let exec = s.user("exec-a", &[&format!("executor@{A}")]).await;
    let head_b = s.user("head-b", &[&format!("head@{B}")]).await;
    let admin = s.token("admin").await;
    let views = format!("/api/v1/offices/{A}/views");

    // Three tasks opened an hour apart, and one in the other office.
    let mut cases = Vec::new();
    for _ in 0..3 {
        cases.push(s.start_case(&exec, REGULATION, A).await);
        s.clock().advance(chrono::Duration::hours(1));
    }
    let exec_b = s.user("exec-b", &[&format!("executor@{B}")]).await;
    s.start_case(&exec_b, REGULATION, B).await;

    let body = json!({"name": "Долго ждущие · ұзақ күткендер", "role": "executor",
                      "status": "open", "sort": "opened_desc"});
    let r = s.post(&views, &head, &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_eq!(r.header("location"), Some(format!("{views}/{id}").as_str()));
    assert_eq!(r.json["created_by"], "head-a");
    assert_eq!(r.json["updated_by"], "head-a");
    assert_eq!(r.json["name"], "Долго ждущие · ұзақ күткендер");
    assert_eq!(r.json["sort"], "opened_desc");

    // Not the head: 403; another office's head: 404, as for an office that does not exist.
    s.post(&views, &exec, &json!({"name": "mine"}))
        .await
        .assert_problem(403, "not-allowed-to-manage-views");
    s.post(&views, &head_b, &json!({"name": "theirs"}))
        .await
        .assert_problem(404, "not-found");
    s.post(
        "/api/v1/offices/no-such-office/views",
        &admin,
        &json!({"name": "x"}),
    )
    .await
    .assert_problem(404, "not-found");

    // Everyone in the office sees it; the other office does not.
    let listed = s.get(&views, &exec).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json.as_array().map(Vec::len), Some(1));
    assert_eq!(listed.json[0]["id"], id.as_str());
    s.get(&views, &head_b)
        .await
        .assert_problem(404, "not-found");
    s.get(&format!("/api/v1/inbox?view={id}"), &head_b)
        .await
        .assert_problem(404, "not-found");
    s.get("/api/v1/inbox?view=v-nosuchview", &exec)
        .await
        .assert_problem(404, "not-found");

    // Choosing it: the office's executor tasks, newest first; the head sees them too.
    let want: Vec<String> = cases.iter().rev().map(|c| format!("{c}:1")).collect();
    let chosen = s.get(&format!("/api/v1/inbox?view={id}"), &exec).await;
    assert_eq!(ids(&chosen), want);
    let by_head = s.get(&format!("/api/v1/inbox?view={id}"), &head).await;
    assert_eq!(ids(&by_head), want);
    // The head's own inbox (their role, head) has none of them.
    assert!(ids(&s.get("/api/v1/inbox", &head).await).is_empty());

    // Unknown values are refused, naming the field.
    for (bad, pointer) in [
        (json!({"name": "x", "status": "mine"}), "/status"),
        (json!({"name": "x", "role": "astronaut"}), "/role"),
        (json!({"name": "x", "sort": "name"}), "/sort"),
        (json!({"name": "  "}), "/name"),
        (json!({"name": "я".repeat(101)}), "/name"),
        (json!({"name": "a\u{7}b"}), "/name"),
    ] {
        let r = s.post(&views, &head, &bad).await;
        r.assert_problem(422, "invalid-view");
        assert_eq!(r.json["errors"][0]["pointer"], pointer, "{}", r.text);
    }
    let r = s
        .post(&views, &head, &json!({"name": "x", "colour": "red"}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    s.post(
        &views,
        &head,
        &json!({"name": "долго ждущие · ҰЗАҚ КҮТКЕНДЕР"}),
    )
    .await
    .assert_problem(409, "view-name-taken");

    // Changing it: the head renames it and sorts by due; who and when are kept.
    s.clock().advance(chrono::Duration::hours(1));
    let one = format!("{views}/{id}");
    let changed = s
        .call(
            "PUT",
            &one,
            Some(&admin),
            Some(&json!({"name": "Executors", "role": "executor", "sort": "opened"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["updated_by"], "admin");
    assert_eq!(changed.json["created_by"], "head-a");
    assert_ne!(changed.json["updated_at"], changed.json["created_at"]);
    let want: Vec<String> = cases.iter().map(|c| format!("{c}:1")).collect();
    assert_eq!(
        ids(&s.get(&format!("/api/v1/inbox?view={id}"), &exec).await),
        want
    );
    s.call("PUT", &one, Some(&exec), Some(&json!({"name": "x"})))
        .await
        .assert_problem(403, "not-allowed-to-manage-views");
    // The view is of office A: under office B's address it does not exist.
    s.call(
        "PUT",
        &format!("/api/v1/offices/{B}/views/{id}"),
        Some(&admin),
        Some(&json!({"name": "x"})),
    )
    .await
    .assert_problem(404, "not-found");
    s.call(
        "DELETE",
        &format!("/api/v1/offices/{B}/views/{id}"),
        Some(&head_b),
        None,
    )
    .await
    .assert_problem(404, "not-found");
    s.call("DELETE", &one, Some(&exec), None)
        .await
        .assert_problem(403, "not-allowed-to-manage-views");

    let gone = s.call("DELETE", &one, Some(&head), None).await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(s.get(&views, &exec).await.json, json!([]));
    s.get(&format!("/api/v1/inbox?view={id}"), &exec)
        .await
        .assert_problem(404, "not-found");
    s.call("DELETE", &one, Some(&head), None)
        .await
        .assert_problem(404, "not-found");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_inbox_page_a_head_saves_a_view_the_office_chooses() {
    let s = Server::start().await;
    let exec = s.person("exec-a", &[&format!("executor@{A}")]).await;
    s.person("head-a", &[&format!("head@{A}")]).await;
    s.person("head-b", &[&format!("head@{B}")]).await;
    let case = s.start_case(&exec, REGULATION, A).await;

    let mut head = Browser::new(&s);
    head.sign_in("head-a").await;
    let page = head.get("/inbox?role=executor&status=open&lang=en").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("task-{case}:1")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("id=\"bulk\""),
        "a head gets the bulk bar"
    );
    assert!(
        page.body
            .contains("Save these filters as a view of the office")
    );
    let csrf = page.csrf();
    let saved = head
        .post(
            "/inbox/views",
            &[
                ("_csrf", &csrf),
                ("name", "Жаңа өтініштер"),
                ("office", A),
                ("role", "executor"),
                ("status", "open"),
                ("sort", "due"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let location = saved.location.expect("location");
    assert!(location.starts_with("/inbox?view=v-"), "{location}");
    let id = location
        .trim_start_matches("/inbox?view=")
        .split('&')
        .next()
        .expect("id")
        .to_string();
    let shown = head.get(&location).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("id=\"view-chosen\""), "{}", shown.body);
    assert!(shown.body.contains("Жаңа өтініштер"));
    assert!(shown.body.contains("id=\"view-remove\""));

    // A bad form: said in the page's language, nothing saved.
    let bad = head
        .post(
            "/inbox/views?lang=ru",
            &[("_csrf", &csrf), ("name", ""), ("office", A)],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    // Without the CSRF token: refused.
    let forged = head
        .post("/inbox/views", &[("name", "x"), ("office", A)])
        .await;
    assert_eq!(forged.status, 403);

    // The executor finds it in the chooser and sees the office's tasks through it.
    let mut clerk = Browser::new(&s);
    clerk.sign_in("exec-a").await;
    let inbox = clerk.get("/inbox?lang=kk").await;
    assert!(
        inbox
            .body
            .contains(&format!("<option value=\"{id}\">Жаңа өтініштер</option>")),
        "{}",
        inbox.body
    );
    assert!(
        !inbox.body.contains("id=\"bulk\""),
        "no bulk bar for an executor"
    );
    assert!(
        !inbox.body.contains("id=\"view-save\""),
        "no save form for an executor"
    );
    let chosen = clerk.get(&format!("/inbox?view={id}")).await;
    assert_eq!(chosen.status, 200);
    assert!(chosen.body.contains(&format!("task-{case}:1")));
    assert!(!chosen.body.contains("id=\"view-remove\""));
    // Nor may the executor remove it.
    let csrf_clerk = chosen.csrf();
    let refused = clerk
        .post(
            &format!("/inbox/views/{id}/delete"),
            &[("_csrf", &csrf_clerk)],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // A registrar of the office is not offered a view of executors' tasks.
    s.person("reg-a", &[&format!("registrar@{A}")]).await;
    let mut registrar = Browser::new(&s);
    registrar.sign_in("reg-a").await;
    let offered = registrar.get("/inbox").await;
    assert_eq!(offered.status, 200);
    assert!(!offered.body.contains("Жаңа өтініштер"), "{}", offered.body);

    // Another office's head: not found, on the page and for removal.
    let mut other = Browser::new(&s);
    other.sign_in("head-b").await;
    assert_eq!(other.get(&format!("/inbox?view={id}")).await.status, 404);
    let other_inbox = other.get("/inbox").await;
    assert!(!other_inbox.body.contains("Жаңа өтініштер"));
    let csrf_other = other_inbox.csrf();
    let hidden = other
        .post(
            &format!("/inbox/views/{id}/delete"),
            &[("_csrf", &csrf_other)],
        )
        .await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);

    // The head removes it.
    let removed = head
        .post(&format!("/inbox/views/{id}/delete"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let after = clerk.get("/inbox").await;
    assert!(!after.body.contains("Жаңа өтініштер"));
    let listed: Value = s
        .get(&format!("/api/v1/offices/{A}/views"), &exec)
        .await
        .json;
    assert_eq!(listed, json!([]));
    s.stop().await;
}
