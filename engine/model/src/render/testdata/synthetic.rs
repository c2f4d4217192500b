// A synthetic regulation of about `blocks * 10` steps for tests and benchmarks, included with
// `include!` by `render/tests.rs` and `benches/render.rs` so both measure the same shape.
//
// Each block of ten steps has a choice, a rework loop back to the block's first step, a
// refusal, a parallel split and join, a system step and a dispatch, spread over five people.

/// The regulation as JSON, to be deserialised into the model.
fn synthetic_regulation(blocks: usize) -> serde_json::Value {
    use serde_json::json;
    let name = |s: &str| json!({ "kk": s, "ru": s, "en": s });
    let role = |k: usize| format!("r{}", k % 5);
    let mut steps = Vec::new();
    for k in 0..blocks {
        let b = k * 10;
        let s = |i: usize| format!("s{}", b + i);
        let after = if k + 1 == blocks {
            "granted".to_string()
        } else {
            format!("s{}", b + 10)
        };
        steps.extend([
            json!({ "id": s(0), "kind": "task", "name": name(&format!("Приём документов, шаг {b}")),
                    "role": role(k), "duration": "15 minutes", "next": s(1) }),
            json!({ "id": s(1), "kind": "exclusive",
                    "branches": [{ "when": "data.x > 1", "next": s(2) }], "default": s(3) }),
            json!({ "id": s(2), "kind": "task", "name": name("Проверка сведений заявителя"),
                    "role": role(k + 1), "duration": "1 working day", "next": s(4) }),
            json!({ "id": s(3), "kind": "system", "name": name("Запрос в базу данных"),
                    "role": "sys", "integration": "db.query", "duration": "5 minutes", "next": s(4) }),
            json!({ "id": s(4), "kind": "task", "name": name("Рассмотрение"), "role": role(k + 2),
                    "duration": "2 working days",
                    "outcomes": [
                        { "id": "ok", "name": name("Одобрить"), "next": s(5) },
                        { "id": "refuse", "name": name("Отказать"), "next": "refused" },
                        { "id": "rework", "name": name("На доработку"), "next": s(0) }
                    ] }),
            json!({ "id": s(5), "kind": "parallel", "branches": [s(6), s(7)] }),
            json!({ "id": s(6), "kind": "task", "name": name("Подписание"), "role": role(k + 3),
                    "duration": "1 hour", "next": s(8) }),
            json!({ "id": s(7), "kind": "task", "name": name("Уведомление"), "role": role(k + 4),
                    "duration": "30 minutes", "next": s(8) }),
            json!({ "id": s(8), "kind": "join", "next": s(9) }),
            json!({ "id": s(9), "kind": "dispatch", "name": name("Отправка"), "role": role(k),
                    "at": ["11:00", "16:00"], "next": after }),
        ]);
    }
    steps.push(
        json!({ "id": "granted", "kind": "end", "name": name("Выдано"), "result": "granted" }),
    );
    steps.push(
        json!({ "id": "refused", "kind": "end", "name": name("Отказано"), "result": "refused" }),
    );
    let mut roles: Vec<serde_json::Value> = (0..5)
        .map(|i| json!({ "id": format!("r{i}"), "kind": "person", "name": name(&format!("Роль {i}")) }))
        .collect();
    roles.push(json!({ "id": "sys", "kind": "system", "name": name("Система") }));
    json!({
        "id": "synthetic", "version": 1, "valid_from": "2024-01-01", "region": "test",
        "title": name("Synthetic"), "source": { "act": "none" },
        "roles": roles,
        "channels": [{ "id": "main", "kind": "provider_office", "start": "s0" }],
        "steps": steps,
    })
}

/// The synthetic regulation compiled.
fn synthetic_process(blocks: usize) -> crate_under_test::compile::Process {
    let regulation: crate_under_test::model::Regulation =
        serde_json::from_value(synthetic_regulation(blocks))
            .expect("the synthetic regulation fits the model");
    crate_under_test::compile::Process::compile(regulation)
        .expect("the synthetic regulation compiles")
}
