//! The regulation page's comparison of two deployed versions: the analyst deploys a new
//! version (a step renamed in its place with a new duration, a step removed, a role added);
//! the page lists the changes in the page's language with both versions' lines, marks the
//! steps on the diagram with a legend in words, lists the removed step, and lets any two
//! versions be chosen (404 for one that is not deployed).

mod support;

use support::browser::Browser;
use support::{Server, TestDb, test_config};

const ID: &str = "nko-social-assistance";

async fn demo_server() -> Server {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    Server::start_with(db, config).await
}

/// No parse errors and no id twice (the page holds one diagram, marked).
fn check_html(path: &str, body: &str) {
    let doc = scraper::Html::parse_document(body);
    assert!(doc.errors.is_empty(), "{path}: {:?}", doc.errors);
    let sel = scraper::Selector::parse("[id]").expect("selector");
    let mut ids: Vec<&str> = doc
        .select(&sel)
        .filter_map(|e| e.value().attr("id"))
        .collect();
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all, "{path}: duplicate ids");
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

/// The rows of the changes table: (data-change, the row's text).
fn rows(body: &str) -> Vec<(String, String)> {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse("#diff-table tr[data-change]").expect("selector");
    doc.select(&sel)
        .map(|r| {
            (
                r.value()
                    .attr("data-change")
                    .unwrap_or_default()
                    .to_string(),
                r.text().collect::<String>(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_regulation_page_shows_what_changed_between_two_versions() {
    let s = demo_server().await;
    let old = std::fs::read_to_string(
        support::regulations_dir().join("north-kazakhstan/nko-social-assistance.yaml"),
    )
    .expect("regulation");
    let v: u32 = old
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("version");
    let new = old
        .replacen(&format!("\nversion: {v}\n"), &format!("\nversion: {}\n", v + 1), 1)
        .replacen("  - id: send_to_head\n", "  - id: hand_to_head\n", 1)
        .replacen("next: send_to_head\n", "next: hand_to_head\n", 1)
        .replacen("duration: 2 hours", "duration: 3 hours", 1)
        .replacen(
            "roles:\n",
            "roles:\n  - id: deputy\n    kind: person\n    office: provider_office\n    name: {kk: Орынбасар, ru: Заместитель, en: Deputy}\n",
            1,
        );
    assert_ne!(new.matches("hand_to_head").count(), 0);

    let mut analyst = Browser::new(&s);
    analyst.sign_in("analyst").await;
    let form = analyst.get("/analyst").await;
    let r = analyst
        .post(
            "/analyst",
            &[
                ("_csrf", &form.csrf()),
                ("source", &new),
                ("_action", "deploy"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Default: the newest version against the one before it, in the page's language.
    let page = analyst.get(&format!("/regulations/{ID}?lang=en")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    check_html("/regulations/…", &page.body);
    assert!(
        page.body
            .contains(&format!("What changed between versions: {v} → {}", v + 1))
    );
    let rows_en = rows(&page.body);
    let find = |rows: &[(String, String)], tag: &str| -> String {
        rows.iter()
            .find(|(t, _)| t == tag)
            .map(|(_, text)| text.clone())
            .unwrap_or_else(|| panic!("no {tag} in {rows:?}"))
    };
    let renamed = find(&rows_en, "step_renamed");
    assert!(
        renamed.contains("send_to_head") && renamed.contains("hand_to_head"),
        "{renamed}"
    );
    assert!(
        renamed.contains(&format!("{ID}@{v}:{}", line_of(&old, "- id: send_to_head")))
            && renamed.contains(&format!(
                "{ID}@{}:{}",
                v + 1,
                line_of(&new, "- id: hand_to_head")
            )),
        "both places: {renamed}"
    );
    let duration = find(&rows_en, "duration_changed");
    assert!(duration.contains("2 hours → 3 hours"), "{duration}");
    assert!(
        duration.contains(&format!("{ID}@{v}:{}", line_of(&old, "duration: 2 hours")))
            && duration.contains(&format!(
                "{ID}@{}:{}",
                v + 1,
                line_of(&new, "duration: 3 hours")
            )),
        "{duration}"
    );
    let role = find(&rows_en, "role_added");
    assert!(
        role.contains("deputy") && role.contains(&format!("{ID}@{}:", v + 1)),
        "{role}"
    );
    // The diagram marks the renamed (and retimed) step, with a legend; its predecessor still
    // leads to it (under its new id), so it is unchanged.
    assert!(
        page.body
            .contains(r#"class="step mark-changed" id="step-hand_to_head""#)
    );
    assert!(page.body.contains(r#"class="step" id="step-register""#));
    assert_eq!(page.body.matches("data-mark=").count(), 1);
    assert!(
        page.body.contains("step changed"),
        "the legend says it in words"
    );
    assert!(!page.body.contains("diff-removed"), "nothing removed");

    // In Russian: no English words of the diff.
    let ru = analyst.get(&format!("/regulations/{ID}?lang=ru")).await;
    assert!(ru.body.contains("Что изменилось между версиями"));
    let duration = find(&rows(&ru.body), "duration_changed");
    assert!(
        duration.contains("срок по каналу") && duration.contains("2 часа → 3 часа"),
        "{duration}"
    );
    assert!(!ru.body.contains("step changed") && ru.body.contains("шаг изменён"));
    let kk = analyst.get(&format!("/regulations/{ID}?lang=kk")).await;
    assert!(
        kk.body.contains("Нұсқалар арасындағы өзгерістер") && kk.body.contains("қадам өзгертілді")
    );

    // The other way round: the older version shown, compared with the newer one; the renamed
    // step reads as renamed back.
    let back = analyst
        .get(&format!(
            "/regulations/{ID}?version={v}&from={}&lang=en",
            v + 1
        ))
        .await;
    assert_eq!(back.status, 200);
    check_html("/regulations/…?from", &back.body);
    let rows_back = rows(&back.body);
    assert!(find(&rows_back, "step_renamed").contains("hand_to_head"));
    assert!(find(&rows_back, "role_removed").contains("deputy"));
    // A version against itself: no differences.
    let same = analyst
        .get(&format!("/regulations/{ID}?from={}&lang=en", v + 1))
        .await;
    assert!(rows(&same.body).is_empty() && same.body.contains("No differences"));
    // A version that is not deployed: 404.
    for from in ["999", "abc", "-1"] {
        let missing = analyst.get(&format!("/regulations/{ID}?from={from}")).await;
        assert_eq!(missing.status, 404, "from={from}");
    }

    // A removed step is listed, since it is not in the new diagram: deploy a third version
    // without the akim's hand-over to the provider.
    let third = new
        .replacen(
            &format!("\nversion: {}\n", v + 1),
            &format!("\nversion: {}\n", v + 2),
            1,
        )
        .replacen("next: akim_send_to_provider\n", "next: register\n", 1);
    let start = third.find("  - id: akim_send_to_provider\n").expect("step");
    let end = start
        + third[start..]
            .find("  - id: register\n")
            .expect("next step");
    let third = format!("{}{}", &third[..start], &third[end..]);
    let form = analyst.get("/analyst").await;
    let r = analyst
        .post(
            "/analyst",
            &[
                ("_csrf", &form.csrf()),
                ("source", &third),
                ("_action", "deploy"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = analyst.get(&format!("/regulations/{ID}?lang=en")).await;
    check_html("/regulations/… v+2", &page.body);
    let removed = find(&rows(&page.body), "step_removed");
    assert!(
        removed.contains("akim_send_to_provider") && removed.contains(&format!("{ID}@{}:", v + 1))
    );
    assert!(
        page.body
            .contains("<li><code translate=\"no\">akim_send_to_provider</code></li>")
    );

    // Staff see it too; nobody signed in does not.
    let mut clerk = Browser::new(&s);
    clerk.sign_in("nko-petropavl.registrar").await;
    let p = clerk.get(&format!("/regulations/{ID}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("id=\"diff-table\""));
    let mut nobody = Browser::new(&s);
    let p = nobody.get(&format!("/regulations/{ID}")).await;
    assert_ne!(p.status, 200);
    assert!(!p.body.contains("diff-table"));
    s.stop().await;
}
