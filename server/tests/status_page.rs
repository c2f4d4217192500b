//! The public status page, `/status`: the registration number and the applicant's ИИН give
//! the status and the due date of the result and nothing else; a wrong number and a wrong
//! ИИН get the same page, byte for byte, no sooner than the other; lookups are limited per
//! client address; the page speaks kk/ru/en; and a real browser (chromium through
//! chromedriver) fills the form and reads the answer.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, TestDb, ci, say, t, test_config};

const IIN: &str = "880101300123";

async fn server(limit: u32) -> (Server, String) {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.status_limit = limit;
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    let analyst = s.user("analyst", &["analyst"]).await;
    let r = support::send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&analyst)
            .header("content-type", "application/yaml")
            .body(reglament_testkit::fixtures::REGISTER_REVIEW),
    )
    .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    let executor = s.user("exec", &["executor@atyrau-city-ozsp"]).await;
    let r = s
        .post(
            "/api/v1/cases",
            &executor,
            &json!({"regulation": "register-review", "channel": "provider",
                    "office": "atyrau-city-ozsp",
                    "data": {"full_name": "Айгүл Серікова", "iin": IIN}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json["id"].as_str().expect("id").to_string();
    (s, case)
}

/// A lookup: (status, page, how long it took).
async fn lookup(s: &Server, lang: &str, number: &str, iin: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let r = s
        .client
        .post(format!("{}/status?lang={lang}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("number", number), ("iin", iin)]).expect("form"))
        .send()
        .await
        .expect("answer");
    let status = r.status().as_u16();
    let text = r.text().await.expect("text");
    (status, text, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_status_and_due_date_only_to_number_and_iin() {
    let (s, case) = server(30).await;
    let form = s
        .client
        .get(format!("{}/status", s.base))
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), 200);
    let form = form.text().await.expect("text");
    assert!(
        form.contains("Где моё заявление?") && form.contains("name=\"iin\""),
        "{form}"
    );

    let (status, page, took) = lookup(&s, "ru", &case, IIN).await;
    assert_eq!(status, 200, "{page}");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(
        page.contains("id=\"status-state\">На рассмотрении<"),
        "{page}"
    );
    // Ten working days from Tuesday 14 April 2026: to the close of Tuesday 28 April in Atyrau.
    assert!(
        page.contains("id=\"status-due\">28.04.2026 18:00<"),
        "{page}"
    );
    // Nothing else of the case: not the applicant, not the ИИН, not the office or the staff.
    for secret in ["Айгүл", IIN, "atyrau-city", "exec", "register-review"] {
        assert!(!page.contains(secret), "`{secret}` shown: {page}");
    }

    // A wrong number and a wrong ИИН: the same page, with the same status, no faster.
    let (s1, wrong_number, t1) = lookup(&s, "ru", "NO-SUCH-CASE-1", IIN).await;
    let (s2, wrong_iin, t2) = lookup(&s, "ru", &case, "880101300124").await;
    let (s3, malformed, t3) = lookup(&s, "ru", &case, "88010130012x").await;
    let (s4, bad_number, _) = lookup(&s, "ru", "../../etc", IIN).await;
    assert_eq!((s1, s2, s3, s4), (404, 404, 404, 404));
    assert_eq!(wrong_number, wrong_iin);
    assert_eq!(wrong_number, malformed);
    assert_eq!(wrong_number, bad_number);
    assert!(
        wrong_number.contains("id=\"status-error\""),
        "{wrong_number}"
    );
    assert!(!wrong_number.contains(&case) && !wrong_number.contains(IIN));
    for took in [t1, t2, t3] {
        assert!(took >= Duration::from_millis(250), "{took:?}");
    }

    // In English and in Kazakh, in their own words only.
    let (_, en, _) = lookup(&s, "en", &case, IIN).await;
    assert!(
        en.contains(">Being processed<") && en.contains("Where is my application?"),
        "{en}"
    );
    let (_, kk, _) = lookup(&s, "kk", &case, IIN).await;
    assert!(kk.contains(">Қаралуда<") && kk.contains("ЖСН"), "{kk}");
    let (_, ru_miss, _) = lookup(&s, "ru", "NO-SUCH-CASE-2", IIN).await;
    assert!(
        !ru_miss.contains("Check") && !ru_miss.contains("IIN"),
        "{ru_miss}"
    );

    // The result ready: the status says so.
    let admin = s.user("root", &["administrator"]).await;
    let r = s
        .post(
            &format!("/api/v1/cases/{case}/cancel"),
            &admin,
            &json!({"reason": "registered in error"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, page, _) = lookup(&s, "ru", &case, IIN).await;
    assert!(page.contains(">Регистрация аннулирована<"), "{page}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_are_limited_per_client_address() {
    let (s, case) = server(3).await;
    for _ in 0..2 {
        assert_eq!(lookup(&s, "ru", "NO-SUCH-CASE", IIN).await.0, 404);
    }
    assert_eq!(lookup(&s, "ru", &case, IIN).await.0, 200);
    // The fourth in the hour is refused without looking, even with the right pair.
    let (status, page, _) = lookup(&s, "ru", &case, IIN).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Слишком много запросов"), "{page}");
    assert!(!page.contains("status-state"), "{page}");
    // The form itself is still shown; an hour later lookups are counted afresh.
    let form = s
        .client
        .get(format!("{}/status", s.base))
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), 200);
    s.clock().advance(chrono::Duration::minutes(61));
    assert_eq!(lookup(&s, "ru", &case, IIN).await.0, 200);
    s.stop().await;
}

// ------------------------------------------------------------------ in a real browser

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct WebDriver {
    http: reqwest::Client,
    session: String,
}

impl WebDriver {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let r: Value = req
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("json");
        r["value"].clone()
    }

    async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            let v = self
                .call(
                    "POST",
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(e) = v[ELEMENT].as_str() {
                return e.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let source = self.call("GET", "/source", None).await;
        panic!("no `{css}`:\n{}", source.as_str().unwrap_or_default());
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/click"), None)
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_fills_the_status_form_and_reads_the_answer() {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            !ci(),
            "REGLAMENT_CI=1 but chromium or chromedriver is missing"
        );
        say("SKIPPED: the status page's browser test needs chromium and chromedriver");
        return;
    }
    let (s, case) = server(30).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let http = reqwest::Client::new();
    let driver = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if http
            .get(format!("{driver}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "chromedriver did not come up");
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}
    }}});
    let r: Value = http
        .post(format!("{driver}/session"))
        .json(&caps)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let id = r["value"]["sessionId"]
        .as_str()
        .expect("a session")
        .to_string();
    let b = WebDriver {
        http,
        session: format!("{driver}/session/{id}"),
    };
    b.call(
        "POST",
        "/url",
        Some(json!({"url": format!("{}/status?lang=kk", s.base)})),
    )
    .await;
    b.type_into("#number", &case).await;
    b.type_into("#iin", IIN).await;
    b.click("form[action^=\"/status\"] button[type=submit]")
        .await;
    assert_eq!(b.text("#status-state").await, "Қаралуда");
    assert_eq!(b.text("#status-due").await, "28.04.2026 18:00");
    // A wrong ИИН: the one message, and no answer.
    b.type_into("#number", &case).await;
    b.type_into("#iin", "880101300124").await;
    b.click("form[action^=\"/status\"] button[type=submit]")
        .await;
    let error = b.text("#status-error").await;
    assert!(
        error.starts_with("Осы нөмір мен ЖСН бойынша өтініш табылмады"),
        "{error}"
    );
    let source = b.call("GET", "/source", None).await;
    assert!(!source.as_str().unwrap_or_default().contains("status-state"));
    b.call("DELETE", "", None).await;
    s.stop().await;
}
