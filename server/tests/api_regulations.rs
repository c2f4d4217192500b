//! Regulations over the API: the list with versions, a version in full, its diagram, and
//! deploying from YAML — errors with line and column, idempotent redeploys, new versions that
//! new cases take while running cases stay on theirs, version numbers never reused.

mod support;

use serde_json::{Value, json};
use support::{Resp, Server, send};

const REGULATION: &str = "atyrau-wheelchair";

fn bundled() -> String {
    std::fs::read_to_string(support::regulations_dir().join("atyrau/atyrau-wheelchair.yaml"))
        .expect("bundled file")
}

/// The `version:` of a regulation's text.
fn bundled_version(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("version: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a version line")
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

async fn start(s: &Server, token: &str) -> Value {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": REGULATION, "channel": "provider", "office": "atyrau-city-ozsp", "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploying_checks_versions_and_keeps_running_cases_on_theirs() {
    let s = Server::start().await;
    let analyst = s.user("ana", &["analyst"]).await;
    let exec = s.user("exec", &["executor@atyrau-city-ozsp"]).await;

    let list = s.get("/api/v1/regulations", &exec).await;
    assert_eq!(list.status, 200);
    let ids: Vec<&str> = list
        .json
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 9, "{ids:?}");
    assert!(ids.contains(&REGULATION));

    // An error comes back at its line and column.
    let text = bundled();
    let broken = text.replacen("    role: executor\n", "    role: executr\n", 1);
    let line = text
        .lines()
        .position(|l| l == "    role: executor")
        .expect("line")
        + 1;
    let r = deploy(&s, &analyst, &broken).await;
    r.assert_problem(422, "invalid-regulation");
    let first = &r.json["errors"][0];
    assert_eq!(first["line"], line, "{}", r.text);
    // The place in the document too, as a JSON pointer to the step's role.
    assert!(
        first["pointer"]
            .as_str()
            .is_some_and(|p| p.starts_with("/steps/") && p.ends_with("/role")),
        "{}",
        r.text
    );
    assert_eq!(first["code"], "E021", "{}", r.text);
    assert!(
        first["column"].as_u64().is_some_and(|c| c >= 5),
        "{}",
        r.text
    );
    assert!(
        first["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{}",
        r.text
    );
    assert!(
        r.json["detail"]
            .as_str()
            .expect("detail")
            .contains(&format!("line {line}"))
    );
    // YAML that does not parse, also located.
    let r = deploy(&s, &analyst, "id: x\nsteps: [\n").await;
    r.assert_problem(422, "invalid-regulation");
    assert!(r.json["errors"][0]["line"].as_u64().is_some());

    // The same text again changes nothing.
    let r = deploy(&s, &analyst, &text).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["new"], false);
    // The bundled file's version (`v`), then the next ones.
    let v = bundled_version(&text);
    let version = |n: u64| format!("version: {n}\n");
    assert_eq!(r.json["version"], v);

    // A case on the bundled version, then on the next.
    let old_case = start(&s, &exec).await;
    assert_eq!(old_case["regulation_version"], v);
    let v2 = text.replacen(&version(v), &version(v + 1), 1).replacen(
        "  en: Processing documents for disabled persons to receive a wheelchair",
        "  en: Wheelchairs for disabled persons (version 2)",
        1,
    );
    let r = deploy(&s, &analyst, &v2).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.json["version"].as_u64(), r.json["new"].as_bool()),
        (Some(v + 1), Some(true))
    );
    // JSON with the source works too, and is idempotent.
    let r = send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&analyst)
            .json(&json!({"source": v2})),
    )
    .await;
    assert_eq!(
        (r.status, r.json["new"].as_bool()),
        (200, Some(false)),
        "{}",
        r.text
    );

    let new_case = start(&s, &exec).await;
    assert_eq!(new_case["regulation_version"], v + 1);
    assert_ne!(new_case["digest"], old_case["digest"]);
    let old_id = old_case["id"].as_str().expect("id");
    let again = s.get(&format!("/api/v1/cases/{old_id}"), &exec).await;
    assert_eq!(again.json["regulation_version"], v);
    assert_eq!(again.json["digest"], old_case["digest"]);
    // The old case still runs on its version.
    let r = s
        .post(
            &format!("/api/v1/tasks/{old_id}:1/complete"),
            &exec,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let detail = s
        .get(&format!("/api/v1/regulations/{REGULATION}"), &exec)
        .await;
    assert_eq!(detail.json["version"], v + 1);
    assert_eq!(detail.json["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail.json["versions"][1]["deployed_by"], "ana");
    assert_eq!(
        detail.json["title"]["en"],
        "Wheelchairs for disabled persons (version 2)"
    );
    assert!(
        detail.json["definition"]["steps"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    let v1 = s
        .get(
            &format!("/api/v1/regulations/{REGULATION}?version={v}"),
            &exec,
        )
        .await;
    assert_eq!(v1.json["version"], v);
    s.get(
        &format!("/api/v1/regulations/{REGULATION}?version={}", v + 5),
        &exec,
    )
    .await
    .assert_problem(404, "not-found");

    // A version number is never reused for other content, nor is an older one deployed.
    let r = deploy(
        &s,
        &analyst,
        &v2.replacen("(version 2)", "(version 2, edited)", 1),
    )
    .await;
    r.assert_problem(409, "version-taken");
    let r = deploy(
        &s,
        &analyst,
        &text.replacen("  en: Processing", "  en: Old processing", 1),
    )
    .await;
    r.assert_problem(409, "version-taken");
    let v4 = v2.replacen(&version(v + 1), &version(v + 3), 1);
    assert_eq!(deploy(&s, &analyst, &v4).await.status, 201);
    let v3 = v2.replacen(&version(v + 1), &version(v + 2), 1);
    deploy(&s, &analyst, &v3)
        .await
        .assert_problem(409, "version-too-low");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diagram_is_an_svg_per_channel_and_language() {
    let s = Server::start().await;
    let token = s.user("viewer", &["executor@atyrau-city-ozsp"]).await;
    let r = s
        .get(
            "/api/v1/regulations/atyrau-child-benefit/diagram.svg",
            &token,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("image/svg+xml"))
    );
    assert!(
        r.text.contains("<svg"),
        "{}",
        &r.text[..200.min(r.text.len())]
    );
    let kk = s
        .get(
            "/api/v1/regulations/atyrau-child-benefit/diagram.svg?channel=centre&lang=kk&highlight=centre_receive",
            &token,
        )
        .await;
    assert_eq!(kk.status, 200);
    assert_ne!(kk.text, r.text);
    assert!(kk.text.contains("data-highlight=\"true\""));
    s.get(
        "/api/v1/regulations/atyrau-child-benefit/diagram.svg?channel=fax",
        &token,
    )
    .await
    .assert_problem(400, "bad-query");
    s.get(
        "/api/v1/regulations/atyrau-child-benefit/diagram.svg?lang=fr",
        &token,
    )
    .await
    .assert_problem(400, "bad-query");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bpmn_export_is_the_regulation_in_bpmn_and_comes_back() {
    let s = Server::start().await;
    let token = s.user("viewer", &["executor@atyrau-city-ozsp"]).await;
    let r = s
        .get(
            "/api/v1/regulations/nko-social-assistance/bpmn?lang=en",
            &token,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/xml"))
    );
    assert!(r.text.contains("<bpmn:definitions"));
    assert!(
        r.text.contains("name=\"E-government portal\""),
        "names in English"
    );
    let ru = s
        .get("/api/v1/regulations/nko-social-assistance/bpmn", &token)
        .await;
    assert_ne!(ru.text, r.text);
    // The same version gives the same bytes.
    let version = s
        .state
        .store
        .latest("nko-social-assistance")
        .await
        .expect("deployed")
        .regulation
        .version;
    let again = s
        .get(
            &format!("/api/v1/regulations/nko-social-assistance/bpmn?lang=en&version={version}"),
            &token,
        )
        .await;
    assert_eq!(again.text, r.text);
    // Read back, it is the deployed regulation.
    let imported = reglament_model::bpmn::import(
        &r.text,
        &reglament_model::bpmn::ImportOptions {
            lang: reglament_model::text::Lang::En,
            ..Default::default()
        },
    )
    .expect("imports");
    let deployed = s
        .state
        .store
        .latest("nko-social-assistance")
        .await
        .expect("deployed");
    let back = reglament_model::load::load_str(&imported.yaml, "back.yaml")
        .expect("loads")
        .regulation;
    assert_eq!(back, deployed.regulation);

    s.get("/api/v1/regulations/no-such/bpmn", &token)
        .await
        .assert_problem(404, "not-found");
    s.get(
        "/api/v1/regulations/nko-social-assistance/bpmn?version=99",
        &token,
    )
    .await
    .assert_problem(404, "not-found");
    s.get(
        "/api/v1/regulations/nko-social-assistance/bpmn?lang=fr",
        &token,
    )
    .await
    .assert_problem(400, "bad-query");
    let anonymous = send(s.client.get(format!(
        "{}/api/v1/regulations/nko-social-assistance/bpmn",
        s.base
    )))
    .await;
    assert_eq!(anonymous.status, 401);
    s.stop().await;
}
