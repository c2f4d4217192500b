//! Runtime benchmarks (issue 4): task completions per second in memory with deadlines, a
//! whole nine-step case, memory per open case, and `tick` over a million open deadlines.
//!
//! Run: `cargo bench -p reglament-runtime --bench runtime`. The memory figure and the thread-CPU
//! figures (which other load on the machine does not inflate) are printed before divan's wall-time
//! table; set `RUNTIME_BENCH_SKIP_TICK=1` to skip the million-case tick.

use std::alloc::System;
use std::sync::Arc;

use cap::Cap;
use chrono::{DateTime, Duration, Utc};
use divan::Bencher;
use reglament_calendar::{Calendars, OfficeClock};
use reglament_model::compile::Process;
use reglament_model::validate;
use reglament_runtime::{Actor, CaseId, Command, Engine, NewCase, TaskId};
use serde_json::json;

use reglament_testkit::cpu::thread_cpu;

/// Counts live heap bytes, to measure what an open case costs.
#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

use reglament_testkit::fixtures::NINE_STEP_CHAIN as CHAIN;

use reglament_testkit::fixtures::OFFICE;

fn clock() -> OfficeClock {
    let root = reglament_testkit::regulations_dir();
    let calendars = Calendars::load(&root).expect("calendars");
    calendars.clock(Some(OFFICE)).expect("office")
}

fn process() -> Arc<Process> {
    let report = validate::check_str(CHAIN, "chain.yaml", None);
    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics);
    Arc::new(report.process.expect("compiles"))
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T10:00:00+05:00")
        .expect("t")
        .with_timezone(&Utc)
}

fn role_of(task: u32) -> &'static str {
    match task {
        2 | 4 | 7 => "head",
        _ => "executor",
    }
}

fn new_case(n: usize) -> NewCase {
    NewCase {
        case: CaseId::new(format!("C-{n}")),
        channel: "provider".into(),
        office: OFFICE.into(),
        data: json!({}),
    }
}

fn main() {
    memory_per_case();
    cpu_per_command();
    divan::main();
}

/// Median thread CPU time per completion and per whole case, over fifteen rounds each.
fn cpu_per_command() {
    const ROUNDS: usize = 15;
    const N: usize = 20_000;
    let clock = clock();
    let p = process();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut per_completion = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut engine = Engine::new(Arc::new(clock.clone()));
        let registrar = Actor::new("u", "executor");
        for i in 0..N {
            engine
                .start(&p, new_case(i), &registrar, t0())
                .expect("start");
        }
        let ids: Vec<CaseId> = (0..N).map(|i| CaseId::new(format!("C-{i}"))).collect();
        let actor = Actor::new("u", role_of(1));
        let now = t0() + Duration::minutes(5);
        let done = Command::Complete {
            task: TaskId(1),
            outcome: None,
            data: serde_json::Value::Null,
            reason: None,
        };
        let before = thread_cpu();
        for id in &ids {
            engine.execute(id, &done, &actor, now).expect("complete");
        }
        per_completion.push((thread_cpu() - before).as_nanos() as f64 / N as f64);
        std::hint::black_box(engine);
    }
    let mut per_case = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        const CASES: usize = 2_000;
        let mut engine = Engine::new(Arc::new(clock.clone()));
        engine.deploy(p.clone());
        let cases: Vec<NewCase> = (0..CASES).map(new_case).collect();
        let registrar = Actor::new("u", "executor");
        let actors: Vec<Actor> = (1..=9).map(|t| Actor::new("u", role_of(t))).collect();
        let before = thread_cpu();
        let mut now = t0();
        for c in cases {
            let id = c.case.clone();
            engine.start(&p, c, &registrar, now).expect("start");
            for task in 1..=9u32 {
                now += Duration::minutes(1);
                let done = Command::Complete {
                    task: TaskId(task),
                    outcome: None,
                    data: serde_json::Value::Null,
                    reason: None,
                };
                engine
                    .execute(&id, &done, &actors[task as usize - 1], now)
                    .expect("complete");
            }
        }
        per_case.push((thread_cpu() - before).as_nanos() as f64 / CASES as f64);
        std::hint::black_box(engine);
    }
    let c = median(per_completion);
    let w = median(per_case);
    println!(
        "thread CPU, median of {ROUNDS}: {c:.0} ns per completion ({:.0} completions/s on one core); \
         {:.2} µs per whole nine-step case",
        1e9 / c,
        w / 1000.0
    );
}

/// Live heap per open case (at its first task), excluding the applicant's data.
fn memory_per_case() {
    const N: usize = 100_000;
    let clock = clock();
    let p = process();
    let actor = Actor::new("u", "executor");
    let mut engine = Engine::new(Arc::new(clock));
    engine.deploy(p.clone());
    let ids: Vec<NewCase> = (0..N).map(new_case).collect();
    let before = ALLOC.allocated() as isize;
    for c in ids {
        engine.start(&p, c, &actor, t0()).expect("start");
    }
    let after = ALLOC.allocated() as isize;
    let per_case = (after - before) as f64 / N as f64;
    println!("memory per open case (one open task, engine index included): {per_case:.0} bytes");
    drop(engine);
}

/// Completing a task: decide, fold, and the next task's deadline on the calendar.
#[divan::bench(sample_count = 30, sample_size = 1)]
fn complete_task(bencher: Bencher) {
    const N: usize = 20_000;
    let clock = clock();
    let p = process();
    bencher
        .with_inputs(|| {
            let mut engine = Engine::new(Arc::new(clock.clone()));
            let actor = Actor::new("u", "executor");
            for i in 0..N {
                engine.start(&p, new_case(i), &actor, t0()).expect("start");
            }
            let ids: Vec<CaseId> = (0..N).map(|i| CaseId::new(format!("C-{i}"))).collect();
            (engine, ids)
        })
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local_values(|(mut engine, ids)| {
            let actor = Actor::new("u", role_of(1));
            let now = t0() + Duration::minutes(5);
            for id in &ids {
                let done = Command::Complete {
                    task: TaskId(1),
                    outcome: None,
                    data: serde_json::Value::Null,
                    reason: None,
                };
                engine.execute(id, &done, &actor, now).expect("complete");
            }
            engine
        });
}

/// One case from registration to its end: nine tasks.
#[divan::bench(sample_count = 30, sample_size = 1)]
fn whole_case(bencher: Bencher) {
    const N: usize = 2_000;
    let clock = clock();
    let p = process();
    bencher
        .with_inputs(|| {
            let mut engine = Engine::new(Arc::new(clock.clone()));
            engine.deploy(p.clone());
            (engine, (0..N).map(new_case).collect::<Vec<_>>())
        })
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local_values(|(mut engine, cases)| {
            let registrar = Actor::new("u", "executor");
            let mut now = t0();
            for c in cases {
                let id = c.case.clone();
                engine.start(&p, c, &registrar, now).expect("start");
                for task in 1..=9 {
                    now += Duration::minutes(1);
                    let actor = Actor::new("u", role_of(task));
                    let done = Command::Complete {
                        task: TaskId(task),
                        outcome: None,
                        data: serde_json::Value::Null,
                        reason: None,
                    };
                    engine.execute(&id, &done, &actor, now).expect("complete");
                }
            }
            engine
        });
}

/// A million open deadlines, a tenth of them due at the same 09:00.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn tick_million_deadlines(bencher: Bencher) {
    if std::env::var_os("RUNTIME_BENCH_SKIP_TICK").is_some() {
        return;
    }
    const N: usize = 1_000_000;
    let clock = clock();
    let p = process();
    // Monday 2 March at 08:45: a 15-minute task counts from the 09:00 opening, so it is due at
    // 09:15; cases started at 10:00 are due later. Tick at 09:15.
    let early = DateTime::parse_from_rfc3339("2026-03-02T08:45:00+05:00")
        .expect("t")
        .with_timezone(&Utc);
    let due = DateTime::parse_from_rfc3339("2026-03-02T09:15:00+05:00")
        .expect("t")
        .with_timezone(&Utc);
    bencher
        .with_inputs(|| {
            let mut engine = Engine::new(Arc::new(clock.clone()));
            let actor = Actor::new("u", "executor");
            for i in 0..N {
                let at = if i % 10 == 0 { early } else { t0() };
                engine.start(&p, new_case(i), &actor, at).expect("start");
            }
            engine
        })
        .bench_local_values(|mut engine| {
            let ticked = engine.tick(due);
            assert_eq!(ticked.events.len(), N / 10, "one breach per due case");
            engine
        });
}
