//! The synthetic regulation that `engine/model/benches/load.rs` times is a valid one: the benchmark
//! measures a regulation the validator accepts without a word, not an early rejection.

use std::time::Instant;

use reglament_model::validate;
use reglament_suite::synthetic_regulation;

fn check(steps: usize) -> validate::Report {
    let text = synthetic_regulation(steps);
    let report = validate::check_str(&text, "synthetic.yaml", None);
    let found: Vec<String> = report
        .diagnostics
        .iter()
        .take(20)
        .map(|d| d.render(Some(&text)))
        .collect();
    assert!(
        report.diagnostics.is_empty(),
        "{steps} steps:\n{}",
        found.join("\n")
    );
    report
}

#[test]
fn small_synthetic_regulations_are_clean() {
    for steps in [33, 34, 42, 100, 257] {
        let report = check(steps);
        let process = report.process.expect("compiled");
        assert_eq!(process.regulation.steps.len(), steps);
    }
}

#[test]
fn five_thousand_steps_validate_with_no_error_and_no_warning() {
    let started = Instant::now();
    let report = check(5_000);
    let process = report.process.expect("compiled");
    assert_eq!(process.regulation.steps.len(), 5_000);
    assert_eq!(process.regulation.channels.len(), 2);
    eprintln!(
        "5,000 steps checked in {:?} (debug build)",
        started.elapsed()
    );
}
