//! Named fixture regulations. Each is a small, valid regulation of the Atyrau region (so the
//! bundled calendars and offices apply), written out here once and used by the tests,
//! benches and examples that need "a regulation of this shape" rather than a real one.

/// The office of the Atyrau region that fixture cases run in.
pub const OFFICE: &str = "atyrau-city-ozsp";

/// The text of `register-review` with its id and the lines that go between the review's
/// source and its outcomes (an escalation, or nothing).
macro_rules! register_review {
    ($id:literal, $review_extra:literal) => {
        concat!(
            "
id: ",
            $id,
            r#"
version: 1
valid_from: 2012-11-16
title: {kk: Сынақ, ru: Проверка, en: Check}
source: {act: Тест}
region: atyrau
roles:
  - {id: executor, kind: person, name: {kk: Орындаушы, ru: Исполнитель, en: Executor}}
  - {id: head, kind: person, name: {kk: Басшы, ru: Руководитель, en: Head}}
channels:
  - id: provider
    kind: provider_office
    start: register
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
application_form:
  type: object
  required: [full_name]
  properties:
    full_name: {type: string, minLength: 1}
steps:
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация, en: Registration}
    role: executor
    duration: 15 minutes
    source: {paragraph: "9"}
    next: review
  - id: review
    kind: task
    name: {kk: Қарау, ru: Рассмотрение, en: Review}
    role: executor
    duration: 1 working day
    source: {paragraph: "9"}
"#,
            $review_extra,
            r#"    outcomes:
      - {id: again, next: review}
      - {id: grant, next: granted}
      - {id: refuse, next: refused, requires_reason: true}
  - {id: granted, kind: end, name: {kk: Берілді, ru: Оказано, en: Granted}, result: granted}
  - {id: refused, kind: end, name: {kk: Бас тарту, ru: Отказ, en: Refused}, result: refused}
"#
        )
    };
}

/// `register-review`: the smallest regulation with a loop and a refusal. The executor
/// registers (15 minutes), then reviews (1 working day) and either reviews again, grants or
/// refuses (with a reason); 10 working days on the provider channel; the application form
/// asks for `full_name`. A `head` role exists but does nothing.
pub const REGISTER_REVIEW: &str = register_review!("register-review", "");

/// `register-review-escalated`: [`REGISTER_REVIEW`] whose review, when breached, notifies
/// the head (an `escalated` event beside the breach).
pub const REGISTER_REVIEW_ESCALATED: &str = register_review!(
    "register-review-escalated",
    "    escalation:\n      - {action: notify, role: head}\n"
);

/// `bench-chain`: nine tasks in a chain, each with a deadline, two roles (executor and
/// head), an escalation on `s3`, a 30-calendar-day statutory term on the provider channel.
/// Durations mix minutes, hours, working days and calendar days, so a case touches every
/// kind of deadline arithmetic.
pub const NINE_STEP_CHAIN: &str = r#"
id: bench-chain
version: 1
valid_from: 2012-11-16
title: {kk: Бенч, ru: Бенч}
source: {act: Бенч}
region: atyrau
roles:
  - {id: executor, kind: person, name: {kk: Орындаушы, ru: Исполнитель}}
  - {id: head, kind: person, name: {kk: Басшы, ru: Руководитель}}
channels:
  - id: provider
    kind: provider_office
    start: s1
    term: {text: тридцать календарных дней, duration: 30 calendar days}
steps:
  - {id: s1, kind: task, name: {kk: a, ru: a}, role: executor, duration: 15 minutes, source: {action: "1"}, next: s2}
  - {id: s2, kind: task, name: {kk: a, ru: a}, role: head, duration: 2 hours, source: {action: "2"}, next: s3}
  - {id: s3, kind: task, name: {kk: a, ru: a}, role: executor, duration: 5 working days, source: {action: "3"}, escalation: [{action: notify, role: head}], next: s4}
  - {id: s4, kind: task, name: {kk: a, ru: a}, role: head, duration: 1 working day, source: {action: "4"}, next: s5}
  - {id: s5, kind: task, name: {kk: a, ru: a}, role: executor, duration: 30 minutes, source: {action: "5"}, next: s6}
  - {id: s6, kind: task, name: {kk: a, ru: a}, role: executor, duration: 3 working days, source: {action: "6"}, next: s7}
  - {id: s7, kind: task, name: {kk: a, ru: a}, role: head, duration: 1 working day, source: {action: "7"}, next: s8}
  - {id: s8, kind: task, name: {kk: a, ru: a}, role: executor, duration: 10 calendar days, source: {action: "8"}, next: s9}
  - {id: s9, kind: task, name: {kk: a, ru: a}, role: executor, duration: 15 minutes, source: {action: "9"}, next: done}
  - {id: done, kind: end, name: {kk: a, ru: a}, result: granted}
"#;

/// `dividing`: registration, then a choice whose condition divides the income by the family
/// size (`< 100` grants, otherwise refused). A family size of 0 makes the condition fail as it
/// is evaluated: the case goes into an incident at `route`.
pub const DIVIDING: &str = r#"
id: dividing
version: 1
valid_from: 2012-11-16
title: {kk: Сынақ, ru: Проверка, en: Check}
source: {act: Тест}
region: atyrau
roles:
  - {id: executor, kind: person, name: {kk: Орындаушы, ru: Исполнитель, en: Executor}}
channels:
  - id: provider
    kind: provider_office
    start: register
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
application_form:
  type: object
  required: [income, family_size]
  properties:
    income: {type: integer}
    family_size: {type: integer}
steps:
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация, en: Registration}
    role: executor
    duration: 15 minutes
    source: {paragraph: "9"}
    next: route
  - id: route
    kind: exclusive
    branches:
      - {when: 'int(data.income) / int(data.family_size) < 100', next: granted}
    default: refused
  - {id: granted, kind: end, name: {kk: Берілді, ru: Оказано, en: Granted}, result: granted}
  - {id: refused, kind: end, name: {kk: Бас тарту, ru: Отказ, en: Refused}, result: refused}
"#;

/// `long-review`: a 5-working-day term whose review alone takes 30 working days, so near the
/// end of the last calendar year a registration fits and the review's deadline does not.
pub const LONG_REVIEW: &str = r#"
id: long-review
version: 1
valid_from: 2012-11-16
title: {kk: Сынақ, ru: Проверка, en: Check}
source: {act: Тест}
region: atyrau
roles:
  - {id: executor, kind: person, name: {kk: Орындаушы, ru: Исполнитель, en: Executor}}
channels:
  - id: provider
    kind: provider_office
    start: register
    term: {text: в течение пяти рабочих дней, duration: 5 working days}
steps:
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация, en: Registration}
    role: executor
    duration: 15 minutes
    source: {paragraph: "9"}
    next: review
  - id: review
    kind: task
    name: {kk: Қарау, ru: Рассмотрение, en: Review}
    role: executor
    duration: 30 working days
    source: {paragraph: "9"}
    next: done
  - {id: done, kind: end, name: {kk: Берілді, ru: Оказано, en: Granted}, result: granted}
"#;

/// Version 2 of [`REGISTER_REVIEW`], as a decree amends it: the review renamed `examine`,
/// given to the head, 3 working days instead of 1.
pub fn register_review_v2() -> String {
    let v2 = REGISTER_REVIEW
        .replacen("version: 1", "version: 2", 1)
        .replace("  - id: review\n", "  - id: examine\n")
        .replace("next: review", "next: examine")
        .replace(
            "    role: executor\n    duration: 1 working day\n",
            "    role: head\n    duration: 3 working days\n",
        );
    assert!(
        v2.contains("role: head\n    duration: 3"),
        "the fixture changed"
    );
    v2
}

/// The migration plan from [`REGISTER_REVIEW`] to [`register_review_v2`]: the review mapped
/// onto `examine`, its due instants recomputed, the case's kept.
pub const REGISTER_REVIEW_PLAN: &str =
    "# yaml-language-server: $schema=../schema/migration-plan.schema.json
regulation: register-review
from_version: 1
to_version: 2
legal_basis:
  act: Decree No. 45 of 1 March 2026
  paragraph: p. 3
reason: the review is done by the head within three working days
mapping:
  review: examine
deadlines:
  default: recompute
  case: keep
";

#[cfg(test)]
mod tests {
    use reglament_model::validate;

    #[test]
    fn every_fixture_is_a_valid_regulation_with_the_id_its_name_says() {
        for (yaml, id) in [
            (super::REGISTER_REVIEW, "register-review"),
            (
                super::REGISTER_REVIEW_ESCALATED,
                "register-review-escalated",
            ),
            (super::NINE_STEP_CHAIN, "bench-chain"),
            (super::DIVIDING, "dividing"),
            (super::LONG_REVIEW, "long-review"),
        ] {
            let report = validate::check_str(yaml, &format!("{id}.yaml"), None);
            let process = report
                .process
                .unwrap_or_else(|| panic!("{id}: {:#?}", report.diagnostics));
            assert_eq!(process.regulation.id, id);
        }
    }

    #[test]
    fn the_escalated_review_notifies_the_head_and_the_plain_one_does_not() {
        assert!(
            super::REGISTER_REVIEW_ESCALATED
                .contains("escalation:\n      - {action: notify, role: head}\n    outcomes:")
        );
        assert!(!super::REGISTER_REVIEW.contains("escalation"));
    }
}
