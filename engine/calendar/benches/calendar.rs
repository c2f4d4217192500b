//! Cost of deadline computations on the Kazakhstan calendar.
//!
//! `cargo bench -p reglament-calendar --bench calendar`
//!
//! - `due_one_million_mixed`: 1,000,000 `due` computations of mixed terms (minutes, hours,
//!   working days, calendar days; 1–250) from instants spread over 2013–2025: one sample is
//!   the whole million (target: under 0.5 s on one core).
//! - `due_1_working_day`, `due_250_working_days`: one `due` each; the cost must not depend
//!   on the length of the term.
//! - `add_working_minutes`: 1 hour against a year of working time.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use reglament_calendar::{OfficeClock, load_national};
use reglament_model::duration::{Term, Unit};
use reglament_model::model::Counting;

fn main() {
    divan::main();
}

fn clock() -> OfficeClock {
    let path = reglament_testkit::regulations_dir().join("calendars/kz.yaml");
    let national = load_national(&path).expect("kz.yaml loads");
    OfficeClock::standard(&national).expect("standard clock")
}

/// A fixed pseudo-random sequence, so every run measures the same work.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

const FROM: i64 = 1_357_000_000; // 2013-01-01
const SPAN: u64 = 410_000_000; // about 13 years

fn instants(n: usize) -> Vec<DateTime<Utc>> {
    let mut rng = Lcg(7);
    (0..n)
        .map(|_| DateTime::from_timestamp(FROM + (rng.next() % SPAN) as i64, 0).unwrap())
        .collect()
}

fn mixed(n: usize) -> Vec<(DateTime<Utc>, Term, Counting)> {
    let mut rng = Lcg(42);
    instants(n)
        .into_iter()
        .map(|from| {
            let unit = [
                Unit::Minutes,
                Unit::Hours,
                Unit::WorkingDays,
                Unit::CalendarDays,
            ][(rng.next() % 4) as usize];
            let amount = 1 + (rng.next() % 250) as u32;
            let counting = Counting {
                receipt_and_issue_days_excluded: rng.next().is_multiple_of(2),
            };
            (from, Term::new(amount, unit), counting)
        })
        .collect()
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn due_one_million_mixed(bencher: divan::Bencher) {
    let clock = clock();
    let inputs = mixed(1_000_000);
    bencher.bench_local(|| {
        let mut last = 0i64;
        for (from, term, counting) in &inputs {
            let due = clock
                .due(*from, *term, counting)
                .expect("inside the covered years");
            last ^= due.at.timestamp();
        }
        black_box(last)
    });
}

fn due_working_days(bencher: divan::Bencher, days: u32) {
    let clock = clock();
    let froms = instants(4096);
    let term = Term::working_days(days);
    let counting = Counting::default();
    let mut i = 0usize;
    bencher.bench_local(|| {
        i = (i + 1) & 4095;
        black_box(
            clock
                .due(black_box(froms[i]), term, &counting)
                .expect("due"),
        )
    });
}

/// Separate functions (not `args`) so that a filter can run one of them alone, e.g. under
/// `valgrind --tool=callgrind` for instruction counts.
#[divan::bench]
fn due_1_working_day(bencher: divan::Bencher) {
    due_working_days(bencher, 1);
}

#[divan::bench]
fn due_250_working_days(bencher: divan::Bencher) {
    due_working_days(bencher, 250);
}

#[divan::bench(args = [60, 120_000])]
fn add_working_minutes(bencher: divan::Bencher, minutes: u64) {
    let clock = clock();
    let froms = instants(4096);
    let mut i = 0usize;
    bencher.bench_local(|| {
        i = (i + 1) & 4095;
        black_box(
            clock
                .add_working_minutes(black_box(froms[i]), minutes)
                .expect("add"),
        )
    });
}
