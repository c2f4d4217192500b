//! A synthetic regulation of any size, for the loading benchmark (`engine/model/benches/load.rs`) and
//! the scale test (`tests/synthetic_scale.rs`).
//!
//! It lives in the engine, hidden from the documentation, because the benchmark belongs to the
//! engine and cannot depend on the root package that holds the tests; with one generator the
//! benchmark measures exactly the text the test proves valid.
//!
//! The shape follows the bundled regulations, scaled up: blocks of ten steps, each opening
//! with a decision whose paths rejoin three steps later, then a chain of tasks.
//! - outcome blocks: a review with `approve`, `amend` (both rejoin) and a reasoned `refuse`;
//!   every tenth one also has `redo`, a loop back to the previous review;
//! - choice blocks: an exclusive choice on the applicant's data, on the channel, or on the
//!   previous review's outcome, with a default; their chain holds a scheduled dispatch;
//! - every tenth block is a parallel split and join instead.
//!
//! Two channels: the provider's office, and the e-gov portal through an authorisation step.

use std::fmt::Write as _;

/// The smallest size that holds one block of each kind.
pub const MIN_STEPS: usize = 33;

/// The YAML text of a regulation of exactly `steps` steps (at least [`MIN_STEPS`]) that
/// validates with no error and no warning.
pub fn regulation(steps: usize) -> String {
    assert!(
        steps >= MIN_STEPS,
        "a synthetic regulation needs at least {MIN_STEPS} steps"
    );
    // `authorize`, `granted` and `refused` are outside the blocks.
    let body = steps - 3;
    let blocks = body / 10;
    let tail = body % 10;
    // No step takes more than two hours, so a term of a quarter working day per step holds.
    let term_days = steps.div_ceil(4);
    let portal_days = (term_days * 7).div_ceil(5) + 7;

    let mut y = String::with_capacity(steps * 260);
    let w = &mut y;
    let _ = write!(
        w,
        "\
# yaml-language-server: $schema=../schema/regulation.schema.json
id: synthetic-{steps}
version: 1
valid_from: 2024-01-01
calendar: kz
region: atyrau
title:
  kk: Синтетикалық регламент ({steps} қадам)
  ru: Синтетический регламент ({steps} шагов)
source:
  act: Синтетический акт для замеров
  appendix: Приложение 1
roles:
  - {{id: registrar, kind: person, name: {{kk: Тіркеуші, ru: Регистратор}}}}
  - {{id: executor, kind: person, name: {{kk: Орындаушы, ru: Исполнитель}}}}
  - {{id: inspector, kind: person, name: {{kk: Инспектор, ru: Инспектор}}}}
  - {{id: head, kind: person, name: {{kk: Басшы, ru: Руководитель}}}}
  - {{id: clerk, kind: person, name: {{kk: Іс жүргізуші, ru: Делопроизводитель}}}}
  - {{id: portal, kind: system, name: {{kk: Портал, ru: Портал}}}}
channels:
  - id: provider
    kind: provider_office
    start: {first}
    term:
      text: в течение {term_days} рабочих дней
      duration: {term_days} working days
    counting:
      receipt_and_issue_days_excluded: true
  - id: portal
    kind: egov_portal
    start: authorize
    term:
      text: не более {portal_days} календарных дней
      duration: {portal_days} календарных дней
application_form:
  type: object
  required: [full_name, amount]
  properties:
    full_name: {{type: string, minLength: 1}}
    amount: {{type: integer, minimum: 0}}
steps:
  - id: authorize
    kind: system
    name: {{kk: Авторизация, ru: Авторизация}}
    role: portal
    integration: egov.authorization
    source: {{paragraph: \"9\"}}
    outcomes:
      - {{id: ok, next: {first}}}
      - {{id: failed, next: refused}}
",
        first = block_start(0, blocks),
    );

    let mut last_review: Option<usize> = None;
    for b in 0..blocks {
        let after = if b + 1 < blocks {
            block_start(b + 1, blocks)
        } else if tail > 0 {
            "tail_0".to_string()
        } else {
            "granted".to_string()
        };
        match block_kind(b) {
            Kind::Outcome => {
                let redo = last_review.filter(|_| b % 20 == 10);
                outcome_block(w, b, redo);
                last_review = Some(b);
            }
            Kind::Choice => choice_block(w, b, last_review),
            Kind::Parallel => parallel_block(w, b),
        }
        chain(w, b, &after, block_kind(b) == Kind::Choice);
    }
    for t in 0..tail {
        let next = if t + 1 < tail {
            format!("tail_{}", t + 1)
        } else {
            "granted".to_string()
        };
        task(w, &format!("tail_{t}"), "executor", "15 minutes", &next, t);
    }
    w.push_str(
        "  - id: granted
    kind: end
    name: {kk: Берілді, ru: Оказано}
    result: granted
  - id: refused
    kind: end
    name: {kk: Бас тартылды, ru: Отказано}
    result: refused
",
    );
    y
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Outcome,
    Choice,
    Parallel,
}

fn block_kind(b: usize) -> Kind {
    if b % 10 == 9 {
        Kind::Parallel
    } else if b.is_multiple_of(2) {
        Kind::Outcome
    } else {
        Kind::Choice
    }
}

fn block_start(b: usize, blocks: usize) -> String {
    if blocks == 0 {
        return "tail_0".to_string();
    }
    match block_kind(b) {
        Kind::Outcome => format!("b{b}_review"),
        Kind::Choice => format!("b{b}_choice"),
        Kind::Parallel => format!("b{b}_split"),
    }
}

fn task(w: &mut String, id: &str, role: &str, duration: &str, next: &str, action: usize) {
    let _ = write!(
        w,
        "  - id: {id}
    kind: task
    name: {{kk: Қадам {id}, ru: Шаг {id}}}
    role: {role}
    duration: {duration}
    source: {{appendix: \"2\", table: \"1\", action: \"{action}\"}}
    next: {next}
"
    );
}

/// A review whose `approve` and `amend` paths rejoin at step 3 of the block.
fn outcome_block(w: &mut String, b: usize, redo: Option<usize>) {
    let _ = write!(
        w,
        "  - id: b{b}_review
    kind: task
    name: {{kk: Қарау {b}, ru: Рассмотрение {b}}}
    role: head
    duration: 1 hour
    durations: {{portal: 2 hours}}
    produces: {{kk: Шешім, ru: Решение}}
    form:
      type: object
      properties:
        remarks: {{type: string}}
        score: {{type: integer, minimum: 0, maximum: 10}}
    escalation:
      - {{action: notify, role: head}}
    source: {{appendix: \"2\", table: \"1\", action: \"{b}\"}}
    outcomes:
      - {{id: approve, next: b{b}_1}}
      - {{id: amend, next: b{b}_2}}
      - {{id: refuse, next: refused, requires_reason: true}}
"
    );
    if let Some(prev) = redo {
        let _ = writeln!(w, "      - {{id: redo, next: b{prev}_review}}");
    }
    task(
        w,
        &format!("b{b}_1"),
        "executor",
        "30 minutes",
        &format!("b{b}_3"),
        b,
    );
    task(
        w,
        &format!("b{b}_2"),
        "inspector",
        "1 working hour",
        &format!("b{b}_3"),
        b,
    );
    task(
        w,
        &format!("b{b}_3"),
        "registrar",
        "15 minutes",
        &format!("b{b}_4"),
        b,
    );
}

/// An exclusive choice whose two paths rejoin at step 3 of the block.
fn choice_block(w: &mut String, b: usize, last_review: Option<usize>) {
    let when = match (b % 3, last_review) {
        (0, _) | (_, None) => format!("data.amount > {b}"),
        (1, _) => "channel == \"portal\"".to_string(),
        (_, Some(r)) => format!("outcomes.b{r}_review == \"amend\""),
    };
    let _ = write!(
        w,
        "  - id: b{b}_choice
    kind: exclusive
    name: {{kk: Таңдау {b}, ru: Выбор {b}}}
    branches:
      - when: '{when}'
        next: b{b}_1
    default: b{b}_2
"
    );
    task(
        w,
        &format!("b{b}_1"),
        "executor",
        "20 минут",
        &format!("b{b}_3"),
        b,
    );
    task(
        w,
        &format!("b{b}_2"),
        "inspector",
        "2 часа",
        &format!("b{b}_3"),
        b,
    );
    task(
        w,
        &format!("b{b}_3"),
        "registrar",
        "15 minutes",
        &format!("b{b}_4"),
        b,
    );
}

/// A parallel split into two tasks that meet at a join.
fn parallel_block(w: &mut String, b: usize) {
    let _ = write!(
        w,
        "  - id: b{b}_split
    kind: parallel
    branches: [b{b}_1, b{b}_2]
"
    );
    task(
        w,
        &format!("b{b}_1"),
        "executor",
        "1 hour",
        &format!("b{b}_3"),
        b,
    );
    task(
        w,
        &format!("b{b}_2"),
        "inspector",
        "45 minutes",
        &format!("b{b}_3"),
        b,
    );
    let _ = write!(
        w,
        "  - id: b{b}_3
    kind: join
    next: b{b}_4
"
    );
}

/// Steps 4 to 9 of block `b`: a chain of tasks, the last leading to `after`. In a choice
/// block one of them is a scheduled dispatch.
fn chain(w: &mut String, b: usize, after: &str, with_dispatch: bool) {
    const ROLES: [&str; 3] = ["executor", "registrar", "inspector"];
    for i in 4..10 {
        let id = format!("b{b}_{i}");
        let next = if i == 9 {
            after.to_string()
        } else {
            format!("b{b}_{}", i + 1)
        };
        if with_dispatch && i == 6 {
            let _ = write!(
                w,
                "  - id: {id}
    kind: dispatch
    name: {{kk: Жіберу {b}, ru: Отправка {b}}}
    role: clerk
    at: [\"11:00\", \"16:00\"]
    text: не менее двух раз в день
    source: {{paragraph: \"9\"}}
    next: {next}
"
            );
        } else {
            task(w, &id, ROLES[i % 3], "15 minutes", &next, b);
        }
    }
}
