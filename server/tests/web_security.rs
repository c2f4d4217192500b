//! The web interface against an attacker (issue 12, "Security"): `next` and `back` targets
//! that would lead off the site (characters browsers strip, backslashes, schemes) or break
//! the answer (CR, LF) land on the inbox; the security headers on every answer, with no
//! inline script on any page; a form that is not UTF-8 is refused; an account whose password
//! someone else set changes it first, on a page in each language; free text is limited.

mod support;

use reglament_server::accounts::{GrantRecord, NewUser};
use reglament_server::auth::password;
use reglament_server::demo::DEMO_PASSWORD;
use support::browser::{Browser, Page};
use support::{Server, TestDb, t0, test_config};

async fn demo_server() -> Server {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    Server::start_with(db, config).await
}

/// Targets that lead elsewhere or cannot be a header, as they arrive after the query or
/// form is decoded.
const HOSTILE: &[&str] = &[
    "/\t/evil.example",
    "/\t\\evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    "//evil.example",
    "/\\evil.example",
    "/%09/evil.example",
    "/%2F/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "/a\r\nSet-Cookie: reglament_session=forged",
    "/a%0d%0aSet-Cookie:%20x=1",
    "/\u{85}/evil.example",
];

fn query(name: &str, value: &str) -> String {
    serde_urlencoded::to_string([(name, value)]).expect("query")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_and_next_lead_only_to_paths_of_this_server() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    // The issue's own example.
    let r = b.get("/lang/en?back=%2F%09%2Fevil.example").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/inbox"));
    for target in HOSTILE {
        let r = b.get(&format!("/lang/kk?{}", query("back", target))).await;
        assert_eq!(r.status, 303, "{target:?}: {} {}", r.status, r.body);
        assert_eq!(r.location.as_deref(), Some("/inbox"), "{target:?}");
        // Not signed in: the sign-in page keeps only a local `next` in its form.
        let r = b.get(&format!("/signin?{}", query("next", target))).await;
        assert_eq!(r.status, 200, "{target:?}");
        assert_eq!(
            support::browser::hidden(&r.body, "next").as_deref(),
            Some("/inbox"),
            "{target:?}"
        );
    }
    // A local target is followed, normalised.
    let r = b.get("/lang/ru?back=%2Fregulations%3Fx%3D1").await;
    assert_eq!(r.location.as_deref(), Some("/regulations?x=1"));

    // Right after a real sign-in too.
    for target in HOSTILE {
        let mut b = Browser::new(&s);
        let r = b
            .sign_in_with("nko-petropavl.registrar", DEMO_PASSWORD, target)
            .await;
        assert_eq!(r.status, 303, "{target:?}: {}", r.body);
        assert_eq!(r.location.as_deref(), Some("/inbox"), "{target:?}");
        assert!(b.cookies.contains_key("reglament_session"));
        // Signed in, `GET /signin?next=…` goes on at once: to the inbox.
        let r = b.get(&format!("/signin?{}", query("next", target))).await;
        assert_eq!(r.location.as_deref(), Some("/inbox"), "{target:?}");
    }
    let mut b = Browser::new(&s);
    let r = b
        .sign_in_with("nko-petropavl.registrar", DEMO_PASSWORD, "/regulations")
        .await;
    assert_eq!(r.location.as_deref(), Some("/regulations"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cr_or_lf_in_a_target_is_never_a_500() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    for raw in [
        "%2Fa%0D%0Ab",
        "%2Fa%0Ab",
        "%2Fa%0Db",
        "%0D%0A",
        "%2F%0D%0ALocation:%20x",
    ] {
        let r = b.get(&format!("/lang/en?back={raw}")).await;
        assert_eq!(r.status, 303, "{raw}: {}", r.body);
        assert_eq!(r.location.as_deref(), Some("/inbox"), "{raw}");
        let r = b.get(&format!("/signin?next={raw}")).await;
        assert_eq!(r.status, 200, "{raw}: {}", r.body);
    }
    // On POST /signin the session is made first: the answer must still be a redirect.
    let r = b
        .sign_in_with("nko-petropavl.head", DEMO_PASSWORD, "/a\r\nb")
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/inbox"));
    let inbox = b.get("/inbox").await;
    assert_eq!(inbox.status, 200);
    // A task id with CR/LF in a path of the pages: a page, not a 500.
    let r = b
        .post("/tasks/A%0D%0AB:1/claim", &[("_csrf", &inbox.csrf())])
        .await;
    assert!(r.status < 500, "{} {}", r.status, r.body);
    s.stop().await;
}

fn assert_security_headers(path: &str, p: &Page) {
    let h = |n: &str| {
        p.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no {n}"))
            .to_string()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{path}: {csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(h("referrer-policy"), "same-origin", "{path}");
}

/// No script but `/static/app.js`, and no inline event handler or `javascript:` link.
fn assert_no_inline_script(path: &str, body: &str) {
    let doc = scraper::Html::parse_document(body);
    let sel = |s: &str| scraper::Selector::parse(s).expect("selector");
    for script in doc.select(&sel("script")) {
        assert_eq!(
            script.value().attr("src"),
            Some("/static/app.js"),
            "{path}: an inline or foreign script"
        );
        assert!(script.text().all(|t| t.trim().is_empty()), "{path}");
    }
    for el in doc.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            assert!(!name.starts_with("on"), "{path}: inline handler {name}");
            assert!(
                !value.trim_start().to_lowercase().starts_with("javascript:"),
                "{path}: {name}={value}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_has_the_security_headers_and_no_page_has_inline_script() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    let signin = b.get("/signin").await;
    assert_security_headers("/signin", &signin);
    assert_no_inline_script("/signin", &signin.body);
    b.sign_in("nko-petropavl.head").await;
    let inbox = b.get("/inbox").await;
    let case = inbox
        .body
        .split("href=\"/cases/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string);
    let mut pages = vec![
        "/inbox".to_string(),
        "/dashboard".to_string(),
        "/regulations".to_string(),
        "/regulations/nko-social-assistance".to_string(),
        "/password".to_string(),
        "/notifications".to_string(),
        "/register".to_string(),
        "/cases/NO-SUCH".to_string(),
    ];
    if let Some(c) = case {
        pages.push(format!("/cases/{c}"));
    }
    for path in &pages {
        let p = b.get(path).await;
        assert!(p.status < 500, "{path}: {}", p.status);
        assert_security_headers(path, &p);
        assert_no_inline_script(path, &p.body);
    }
    // The report keeps its own <style>: allowed by its hash, nothing else inline.
    let report = b.get("/report").await;
    assert_eq!(report.status, 200);
    assert_security_headers("/report", &report);
    assert_no_inline_script("/report", &report.body);
    let csp = report.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("style-src 'self' 'sha256-"), "{csp}");
    // The API, static files, errors, redirects.
    for path in [
        "/api/v1/openapi.json",
        "/api/v1/cases/NO-SUCH",
        "/static/app.js",
        "/static/style.css",
        "/healthz",
        "/nowhere",
        "/",
    ] {
        let p = b.get(path).await;
        assert_security_headers(path, &p);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_that_is_not_utf8_is_refused_with_a_page() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    b.sign_in("nko-petropavl.registrar").await;
    let form = b.get("/register/nko-social-assistance").await;
    let csrf = form.csrf();
    let mut body = format!(
        "_csrf={csrf}&regulation=nko-social-assistance&channel=provider&office=nko-petropavl-ozsp\
         &d.iin=900101400123&d.address=x&d.consent_personal_data=on&d.full_name="
    )
    .into_bytes();
    for bad in [&b"%D0%90%FF%FE"[..], &b"\xff\xfe"[..]] {
        let mut body = body.clone();
        body.extend_from_slice(bad);
        let req = b
            .client
            .post(format!("{}/register", b.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        let r = b.send(req).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.headers["content-type"]
                .to_str()
                .is_ok_and(|c| c.starts_with("text/html")),
            "a page, not problem+json"
        );
    }
    // Nothing was registered: the same form in UTF-8 is accepted.
    body.extend_from_slice("Ержанова Айгүл".as_bytes());
    let req = b
        .client
        .post(format!("{}/register", b.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    assert_eq!(b.send(req).await.status, 303);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_someone_else_set_is_changed_first_in_every_language() {
    let s = demo_server().await;
    let hash = password::hash("Given-by-admin-1".into(), password::Cost::Fast)
        .await
        .expect("hash");
    s.state
        .accounts
        .create_user(
            &NewUser {
                login: "dana".into(),
                display_name: "Dana".into(),
                password_hash: Some(hash),
                must_change_password: true,
                grants: vec![GrantRecord {
                    role: "executor".into(),
                    office: "nko-petropavl-ozsp".into(),
                }],
                created_by: "admin".into(),
            },
            t0(),
        )
        .await
        .expect("user");
    let mut b = Browser::new(&s);
    let r = b
        .sign_in_with("dana", "Given-by-admin-1", "/regulations")
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/password?next=%2Fregulations"));
    // Nothing else opens until it is changed.
    for path in ["/inbox", "/regulations", "/cases/X"] {
        let r = b.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(
            r.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/password?next=")),
            "{path}: {:?}",
            r.location
        );
    }
    for (lang, title, notice) in [
        ("kk", "Құпиясөзді өзгерту", "басқа адам орнатқан"),
        ("ru", "Смена пароля", "задан другим человеком"),
        ("en", "Change password", "set by someone else"),
    ] {
        let p = b.get(&format!("/password?lang={lang}")).await;
        assert_eq!(p.status, 200, "{lang}");
        assert!(
            p.body.contains(title) && p.body.contains(notice),
            "{lang}: {}",
            p.body
        );
        assert_no_inline_script("/password", &p.body);
    }
    let page = b.get("/password?next=%2Fregulations&lang=en").await;
    let csrf = page.csrf();
    let change = |new: &'static str, repeat: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("next", "/regulations".to_string()),
            ("current", "Given-by-admin-1".to_string()),
            ("new", new.to_string()),
            ("repeat", repeat.to_string()),
        ]
    };
    for (new, repeat, says) in [
        ("short", "short", "at least 10 characters"),
        ("qwertyuiop", "qwertyuiop", "too common"),
        ("aaaaaaaaaaaaa", "aaaaaaaaaaaaa", "4 different characters"),
        (
            "dana-spring-26",
            "dana-spring-26",
            "must not contain your login",
        ),
        ("Steppe wind 2026", "Steppe wind 2027", "do not match"),
    ] {
        let fields = change(new, repeat);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.post("/password?lang=en", &fields).await;
        assert_eq!(r.status, 422, "{new}");
        assert!(r.body.contains(says), "{new}: {}", r.body);
    }
    let fields = change("Steppe wind 2026", "Steppe wind 2026");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post("/password", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/regulations?notice=password_changed")
    );
    assert_eq!(b.get("/regulations").await.status, 200);
    assert_eq!(b.get("/inbox").await.status, 200);
    // The demo accounts are not held back: the demo works with the demo password.
    let mut demo = Browser::new(&s);
    demo.sign_in("nko-petropavl.executor").await;
    assert_eq!(demo.get("/inbox").await.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_in_a_web_form_has_a_limit() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    b.sign_in("nko-petropavl.registrar").await;
    let form = b.get("/register/nko-social-assistance").await;
    // A field without maxLength of its own gets the default, and says so to the browser.
    assert!(
        form.body
            .contains("name=\"d.life_situation\" value=\"\" maxlength=\"1000\""),
        "{}",
        form.body
    );
    let long = "ә".repeat(1001);
    let r = b
        .post(
            "/register?lang=en",
            &[
                ("_csrf", &form.csrf()),
                ("regulation", "nko-social-assistance"),
                ("channel", "provider"),
                ("office", "nko-petropavl-ozsp"),
                ("d.full_name", "Ержанова Айгүл"),
                ("d.iin", "900101400123"),
                ("d.address", "Петропавл"),
                ("d.family_members", "3"),
                ("d.consent_personal_data", "on"),
                ("d.life_situation", &long),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("At most 1000 characters"), "{}", r.body);
    s.stop().await;
}
