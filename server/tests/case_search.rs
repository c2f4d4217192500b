//! `GET /api/v1/cases` and the `/search` page: finding a case by name in any spelling, by ИИН
//! and number, a page at a time, only among the cases the caller may read (a case that crossed
//! offices by each office once it has been there); bad criteria named one by one; the same on
//! PostgreSQL.

mod support;

use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, TestDb, t, test_config};

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
    their_offices_cases(Server::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_their_offices_cases_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let config = test_config(&db.url);
    let s = Server::start_with(db, config).await;
    their_offices_cases(s).await;
}

async fn their_offices_cases(s: Server) {
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
    s.stop().await;
}

const CENTRE: &str = "atyrau-tson-atyrau-1";
const DEPARTMENT: &str = "atyrau-city-ozsp";
const ELSEWHERE: &str = "atyrau-inder-ozsp";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_crossed_offices_is_found_by_each_once_it_has_been_there() {
    // Tuesday 14 April 2026, 10:00 in Atyrau: received at a public service centre, collected,
    // and sent with the 11:00 register to the city department.
    let s = Server::start_at(t("2026-04-14T10:00:00+05:00")).await;
    let inspector = s
        .user("centre.inspector", &[&format!("centre_inspector@{CENTRE}")])
        .await;
    let accumulator = s
        .user("centre.acc", &[&format!("centre_accumulator@{CENTRE}")])
        .await;
    let executor = s
        .user("city.executor", &[&format!("executor@{DEPARTMENT}")])
        .await;
    let stranger = s
        .user("inder.executor", &[&format!("executor@{ELSEWHERE}")])
        .await;
    let p = s
        .state
        .store
        .latest("atyrau-child-benefit")
        .await
        .expect("deployed");
    let mut data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    data["full_name"] = json!("Нұрлан Әбілқайыров");
    let r = s
        .post(
            "/api/v1/cases",
            &inspector,
            &json!({"regulation": "atyrau-child-benefit", "channel": "centre", "office": CENTRE,
                    "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let by_name = "name=нурлан%20абил";
    assert_eq!(
        found(&s, &inspector, by_name).await,
        std::slice::from_ref(&id)
    );
    assert!(
        found(&s, &executor, by_name).await.is_empty(),
        "not there yet"
    );
    let complete = |token: String, task: String| {
        let s = &s;
        async move {
            let r = s
                .post(
                    &format!("/api/v1/tasks/{task}/complete"),
                    &token,
                    &json!({"data": {}}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    };
    for who in [&inspector, &accumulator] {
        let task = s.open_task(who, &id).await;
        complete(who.clone(), task["id"].as_str().expect("id").to_string()).await;
    }
    s.clock().set(t("2026-04-14T11:00:00+05:00"));
    s.tick().await;
    // Handed over: both offices find it, by name, by office and by status; nobody else does.
    assert_eq!(
        found(&s, &executor, by_name).await,
        std::slice::from_ref(&id)
    );
    assert_eq!(
        found(&s, &inspector, by_name).await,
        std::slice::from_ref(&id)
    );
    assert_eq!(
        found(&s, &executor, &format!("office={DEPARTMENT}&status=open")).await,
        std::slice::from_ref(&id)
    );
    assert_eq!(
        found(&s, &executor, &format!("office={CENTRE}")).await,
        Vec::<String>::new(),
        "an office the caller does not work in narrows to nothing"
    );
    assert!(found(&s, &stranger, by_name).await.is_empty());
    assert!(found(&s, &stranger, "").await.is_empty());
    // Its row names where it was registered.
    let r = s
        .get(&format!("/api/v1/cases?number={id}"), &executor)
        .await;
    assert_eq!(r.json["items"][0]["office"], CENTRE, "{}", r.text);
    assert_eq!(r.json["items"][0]["status"], "open");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_finds_keeps_the_criteria_and_says_what_is_wrong() {
    let s = Server::start().await;
    s.person("exec.a", &[&format!("executor@{A}")]).await;
    s.person("exec.b", &[&format!("executor@{B}")]).await;
    s.person("analyst", &["analyst"]).await;
    let a = s.user("api.a", &[&format!("executor@{A}")]).await;
    let (aigul, _) = start_in(&s, &a, A, "Айгүл Серікқызы").await;
    let mut others = Vec::new();
    for i in 0..27 {
        others.push(start_in(&s, &a, A, &format!("Берік Омаров {i}")).await.0);
    }

    let mut b = Browser::new(&s);
    b.sign_in("exec.a").await;
    let inbox = b.get("/inbox?lang=ru").await;
    assert!(
        inbox.body.contains("href=\"/search\""),
        "the link: {}",
        inbox.body
    );
    // Found by name in another spelling; the criteria stay in the form.
    let page = b
        .get("/search?name=%D0%B0%D0%B9%D0%B3%D1%83%D0%BB%D1%8C&lang=ru")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"/cases/{aigul}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Айгүл Серікқызы"));
    assert!(
        page.body.contains("value=\"айгуль\""),
        "kept: {}",
        page.body
    );
    assert!(page.body.contains("Найденные дела"));
    assert!(!page.body.contains("Омаров"));
    // No criterion: the latest cases, 25 to a page, then the rest by the next page's link.
    let first = b.get("/search?lang=en").await;
    assert!(first.body.contains("Latest cases"), "{}", first.body);
    // The criteria beyond number, ИИН and name fold away until one of them is used.
    assert!(first.body.contains("<details class=\"more-criteria\">"));
    let by_status = b.get("/search?status=open&lang=en").await;
    assert!(
        by_status
            .body
            .contains("<details class=\"more-criteria\" open>")
    );
    let rows = |body: &str| body.matches("<tr id=\"found-").count();
    assert_eq!(rows(&first.body), 25);
    let next = first
        .body
        .split("id=\"search-next\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    assert!(next.starts_with("/search?cursor="), "{next}");
    let second = b.get(&next).await;
    assert_eq!(second.status, 200);
    assert_eq!(rows(&second.body), 3);
    assert!(!second.body.contains("id=\"search-next\""));
    assert!(second.body.contains("id=\"search-first\""));
    let mut all: Vec<String> = [first.body, second.body]
        .iter()
        .flat_map(|b| {
            b.split("<tr id=\"found-")
                .skip(1)
                .map(|r| r.split('"').next().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    all.sort();
    let mut want = others.clone();
    want.push(aigul.clone());
    want.sort();
    assert_eq!(all, want, "every case once across the pages");

    // Another office finds nothing of it.
    let mut other = Browser::new(&s);
    other.sign_in("exec.b").await;
    let none = other.get("/search?name=айгуль&lang=kk").await;
    assert_eq!(none.status, 200);
    assert!(!none.body.contains(&aigul) && !none.body.contains("Серікқызы"));
    assert!(none.body.contains("Ештеңе табылмады."), "{}", none.body);

    // Bad criteria: 422, each said beside its field in the page's language.
    let bad = b
        .get("/search?iin=12ab&registered_from=yesterday&status=done&cursor=x&lang=ru")
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for said in [
        "ИИН состоит из 12 цифр.",
        "Дата записывается как 2026-03-01.",
        "Выберите значение из списка.",
        "Ссылка на страницу недействительна",
    ] {
        assert!(bad.body.contains(said), "{said}: {}", bad.body);
    }
    assert!(bad.body.contains("id=\"iin\" name=\"iin\" value=\"12ab\""));
    assert!(
        bad.body
            .contains("aria-invalid=\"true\" aria-describedby=\"iin-error\"")
    );
    let kk = b.get("/search?iin=1&lang=kk").await;
    assert_eq!(kk.status, 422);
    assert!(kk.body.contains("ЖСН 12 цифрдан тұрады."), "{}", kk.body);
    // Markup typed into a field comes back as text.
    let typed = b.get("/search?name=%3Cscript%3Ex%3C%2Fscript%3E").await;
    assert!(!typed.body.contains("<script>x"), "escaped");

    // An analyst reads regulations, not cases: no link, and the page says so.
    let mut analyst = Browser::new(&s);
    analyst.sign_in("analyst").await;
    let r = analyst.get("/regulations").await;
    assert!(!r.body.contains("href=\"/search\""));
    assert_eq!(analyst.get("/search").await.status, 403);
    // Signed out: to the sign-in page, and back here afterwards.
    let r = Browser::new(&s).get("/search?name=x").await;
    assert_eq!(r.status, 303);
    assert!(
        r.location
            .as_deref()
            .unwrap_or_default()
            .starts_with("/signin?next=")
    );
    s.stop().await;
}
