//! Property tests: random but valid command sequences keep the engine's invariants.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::tests::{OFFICE, calendars, fixture};
use super::*;
use reglament_model::model::Step;
use reglament_model::sample::sample;

#[derive(Debug, Clone)]
enum Action {
    Complete { pick: usize, outcome: usize },
    Claim { pick: usize, user: usize },
    Release { pick: usize },
    Wait { minutes: i64 },
    DocumentsMissing,
    Withdraw,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (any::<usize>(), any::<usize>()).prop_map(|(pick, outcome)| Action::Complete { pick, outcome }),
        2 => (any::<usize>(), 0..3usize).prop_map(|(pick, user)| Action::Claim { pick, user }),
        1 => any::<usize>().prop_map(|pick| Action::Release { pick }),
        3 => (1..20_000i64).prop_map(|minutes| Action::Wait { minutes }),
        1 => Just(Action::DocumentsMissing),
        1 => Just(Action::Withdraw),
    ]
}

fn check_invariants(e: &Engine, id: &CaseId, log: &[Event]) {
    let live = e.case(id).expect("case");
    let p = live.process.clone();
    let folded = CaseState::fold(log, |d| (d == p.digest).then(|| p.clone())).expect("fold");
    assert_eq!(format!("{:?}", folded.tasks), format!("{:?}", live.tasks));
    assert_eq!(folded.version, live.version);
    assert_eq!(folded.status, live.status);
    assert_eq!(folded.deadline, live.deadline);
    assert_eq!(folded.breached, live.breached);
    assert_eq!(folded.joins, live.joins);
    assert_eq!(folded.dispatches, live.dispatches);
    // A task is open exactly where a path waits at a task or system step.
    for t in live.open_tasks() {
        assert!(matches!(
            p.step(t.step as usize),
            Step::Task(_) | Step::System(_)
        ));
    }
    if live.is_open() {
        assert!(
            live.open_tasks().next().is_some() || !live.dispatches.is_empty(),
            "an open case waits on something"
        );
    } else {
        assert_eq!(live.open_tasks().count(), 0);
        assert!(live.dispatches.is_empty() && live.joins.is_empty());
    }
    // No deadline is breached twice. (The case may be breached twice: once on its statutory
    // term and once on the extended term that documents found missing bring in.)
    let mut seen = HashSet::new();
    for ev in log {
        if let EventKind::DeadlineBreached { target, due, .. } = &ev.kind {
            assert!(
                seen.insert((*target, *due)),
                "breach of {target:?} due {due} emitted twice"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_commands_keep_the_invariants(
        channel in prop_oneof![Just("provider"), Just("portal"), Just("centre")],
        actions in proptest::collection::vec(action(), 1..40),
    ) {
        let mut e = Engine::new(calendars());
        let p = fixture();
        let id = CaseId::new("PROP-1");
        let mut now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-02T09:30:00+05:00").expect("t").with_timezone(&Utc);
        let clerk = Actor::new("u0", "executor");
        let mut log = e.start(&p, NewCase { case: id.clone(), channel: channel.into(), office: OFFICE.into(), data: json!({"full_name": "А", "iin": "900101400123"}) }, &clerk, now).expect("start");
        check_invariants(&e, &id, &log);
        for a in actions {
            let Some(state) = e.case(&id) else { break };
            let open: Vec<Task> = state.open_tasks().cloned().collect();
            let result = match a {
                Action::Complete { pick, outcome } if !open.is_empty() => {
                    let t = &open[pick % open.len()];
                    let step = p.step(t.step as usize);
                    let outcomes: Vec<String> = match step {
                        Step::Task(s) => s.outcomes.iter().map(|o| o.id.clone()).collect(),
                        Step::System(s) => s.outcomes.iter().map(|o| o.id.clone()).collect(),
                        _ => Vec::new(),
                    };
                    let outcome = (!outcomes.is_empty()).then(|| outcomes[outcome % outcomes.len()].clone());
                    let data = match step {
                        Step::Task(s) => s.form.as_ref().map(|f| sample(&f.0)).unwrap_or(json!({})),
                        _ => json!({}),
                    };
                    let actor = Actor::new(t.claimed_by.as_deref().or(t.assigned_to.as_deref()).unwrap_or("u0"), &*t.role);
                    e.execute(&id, &Command::Complete { task: t.id, outcome, data, reason: Some("основание".into()) }, &actor, now)
                }
                Action::Claim { pick, user } if !open.is_empty() => {
                    let t = &open[pick % open.len()];
                    e.execute(&id, &Command::Claim { task: t.id }, &Actor::new(format!("u{user}"), &*t.role), now)
                }
                Action::Release { pick } if !open.is_empty() => {
                    let t = &open[pick % open.len()];
                    let user = t.claimed_by.clone().unwrap_or_else(|| "u0".into());
                    e.execute(&id, &Command::Release { task: t.id }, &Actor::new(&*user, &*t.role), now)
                }
                Action::Wait { minutes } => {
                    now += Duration::minutes(minutes);
                    let ticked = e.tick(now);
                    prop_assert!(ticked.failed.is_empty(), "{:?}", ticked.failed);
                    Ok(ticked.events.into_iter().map(|(_, ev)| ev).collect())
                }
                Action::DocumentsMissing => e.execute(&id, &Command::DocumentsMissing { note: None }, &clerk, now),
                Action::Withdraw => e.execute(&id, &Command::Withdraw { reason: "отзыв".into() }, &clerk, now),
                _ => Ok(Vec::new()),
            };
            match result {
                Ok(events) => log.extend(events),
                // Refusals are fine (a closed case, documents already missing, not claimed);
                // what matters is that they changed nothing, which the fold check shows.
                Err(EngineError::Command(_)) => {}
                Err(other) => prop_assert!(false, "{other}"),
            }
            check_invariants(&e, &id, &log);
        }
    }
}
