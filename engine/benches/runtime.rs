//! Runtime benchmarks (issue 4): task completions per second in memory with deadlines, a
//! whole nine-step case, memory per open case, and `tick` over a million open deadlines.
//!
//! Run: `cargo bench -p reglament-engine --bench runtime`. The memory figure and the thread-CPU
//! figures (which other load on the machine does not inflate) are printed before divan's wall-time
//! table; set `RUNTIME_BENCH_SKIP_TICK=1` to skip the million-case tick.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use divan::Bencher;
use reglament_engine::calendar::{Calendars, OfficeClock};
use reglament_engine::compile::Process;
use reglament_engine::runtime::{Actor, CaseId, Command, Engine, NewCase, TaskId};
use reglament_engine::validate;
use serde_json::json;

#[path = "support/cpu.rs"]
mod cpu;
use cpu::thread_cpu;

/// Counts live heap bytes, to measure what an open case costs.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Nine tasks in a chain, each with a deadline, the statutory term on the channel.
const CHAIN: &str = r#"
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

const OFFICE: &str = "atyrau-city-ozsp";

fn clock() -> OfficeClock {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../regulations");
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
    let before = LIVE.load(Ordering::Relaxed);
    for c in ids {
        engine.start(&p, c, &actor, t0()).expect("start");
    }
    let after = LIVE.load(Ordering::Relaxed);
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
