//! Named fixture regulations. Each is a small, valid regulation of the Atyrau region (so the
//! bundled calendars and offices apply), written out here once and used by the tests,
//! benches and examples that need "a regulation of this shape" rather than a real one.

/// The office of the Atyrau region that fixture cases run in.
pub const OFFICE: &str = "atyrau-city-ozsp";

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
