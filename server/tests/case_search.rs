//! `GET /api/v1/cases`: finding a case by name in any spelling, by ИИН and number, a page at a
//! time, only among the cases the caller may read; bad criteria named one by one.

mod support;

use serde_json::{Value, json};
use support::Server;

const A: &str = "atyrau-city-ozsp";
const B: &str = "atyrau-zhylyoi-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn start_in(s: &Server, token: &str, office: &str, name: &str) -> (String, Value) {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let mut data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    data["full_name"] = json!(name);
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": REGULATION, "channel": "provider", "office": office, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (r.json["id"].as_str().expect("id").to_string(), data)
}

async fn found(s: &Server, token: &str, query: &str) -> Vec<String> {
    let r = s.get(&format!("/api/v1/cases?{query}"), token).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_their_offices_cases_in_any_spelling() {
    let s = Server::start().await;
    let a = s.user("exec-a", &[&format!("executor@{A}")]).await;
    let b = s.user("exec-b", &[&format!("executor@{B}")]).await;
    let auditor = s.user("aud", &["auditor@*"]).await;
    let (aigul, data) = start_in(&s, &a, A, "Айгүл Серікқызы").await;
    let (ivan, _) = start_in(&s, &b, B, "Иван Петров").await;
    for q in [
        "name=айгуль",
        "name=%D0%90%D0%99%D0%93%D2%AE%D0%9B",
        "name=айгул%20серик",
    ] {
        assert_eq!(found(&s, &a, q).await, std::slice::from_ref(&aigul), "{q}");
        assert!(
            found(&s, &b, q).await.is_empty(),
            "another office sees nothing: {q}"
        );
        assert_eq!(
            found(&s, &auditor, q).await,
            std::slice::from_ref(&aigul),
            "{q}"
        );
    }
    assert_eq!(
        found(&s, &a, &format!("number={aigul}")).await,
        std::slice::from_ref(&aigul)
    );
    assert!(found(&s, &a, &format!("number={ivan}")).await.is_empty());
    if let Some(iin) = data["iin"].as_str() {
        assert_eq!(
            found(&s, &a, &format!("iin={iin}")).await,
            std::slice::from_ref(&aigul)
        );
    }
    // Every case, a page at a time, each once.
    let mut seen = Vec::new();
    let mut url = "/api/v1/cases?limit=1".to_string();
    loop {
        let r = s.get(&url, &auditor).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let items = r.json["items"].as_array().expect("items");
        assert!(items.len() <= 1);
        seen.extend(
            items
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_string()),
        );
        assert_eq!(items[0]["regulation"], REGULATION);
        match r.json["next"].as_str() {
            Some(n) => url = format!("/api/v1/cases?limit=1&cursor={n}"),
            None => break,
        }
    }
    // Both registered at the test clock's instant: the later id first.
    let mut want = vec![ivan, aigul];
    want.sort_by(|x, y| y.cmp(x));
    assert_eq!(seen, want);
    // Bad criteria: 422, each field named.
    let r = s
        .get(
            "/api/v1/cases?iin=12ab&limit=0&registered_from=yesterday&status=done&breached=yes&cursor=x",
            &a,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json["code"], "bad-search");
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["pointer"].as_str().expect("pointer"))
        .collect();
    for f in [
        "/iin",
        "/limit",
        "/registered_from",
        "/status",
        "/breached",
        "/cursor",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert_eq!(s.get("/api/v1/cases?colour=red", &a).await.status, 400);
    assert_eq!(s.call("GET", "/api/v1/cases", None, None).await.status, 401);
}
