//! Cost of loading and validating regulations: `validate::check_str`, which is everything
//! `reglament validate` does to a file (YAML with spans, JSON Schema, typed model, references,
//! forms, conditions, the process graph and the linter), with the text already in memory.
//!
//! `cargo bench -p reglament-model --bench load`
//!
//! - `bundled_nine`: the nine bundled regulations, one after another (target: under 20 ms for
//!   all nine together).
//! - `synthetic`: one generated regulation of 1,000 and of 5,000 steps (target: under 200 ms
//!   for 5,000); see `reglament_model::synthetic` for its shape. The two sizes show whether
//!   the cost grows linearly.
//! - `schema_compile`: building the JSON Schema validator, which a process does once and the
//!   samples above therefore leave out.

use std::hint::black_box;
use std::path::PathBuf;

use reglament_model::schema;
use reglament_model::synthetic;
use reglament_model::validate::{self, Known};

use reglament_testkit::cpu;

fn main() {
    cpu_figures();
    divan::main();
}

/// Median thread CPU time of the two targets, printed before divan's wall-time table.
fn cpu_figures() {
    let (files, known) = bundled();
    let nine = cpu::median_cpu(
        31,
        || (),
        |()| {
            for (name, text) in &files {
                black_box(validate::check_str(text, name, Some(&known)));
            }
        },
    );
    let text = synthetic::regulation(5_000);
    let five_thousand = cpu::median_cpu(
        7,
        || (),
        |()| validate::check_str(&text, "synthetic.yaml", None),
    );
    println!(
        "thread CPU, median: all nine bundled regulations {:.2} ms; synthetic 5,000 steps {:.1} ms",
        nine.as_secs_f64() * 1e3,
        five_thousand.as_secs_f64() * 1e3
    );
}

fn regulations_dir() -> PathBuf {
    reglament_testkit::regulations_dir()
}

/// The bundled regulation files as (name, text), and the regions and calendars they may name,
/// as `reglament validate` knows them.
fn bundled() -> (Vec<(String, String)>, Known) {
    let dir = regulations_dir();
    let files =
        validate::regulation_files(std::slice::from_ref(&dir)).expect("list the regulations");
    assert_eq!(
        files.len(),
        9,
        "the benchmark is for the nine bundled regulations"
    );
    let texts = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("read a regulation");
            (f.display().to_string(), text)
        })
        .collect();
    let stems = |sub: &str| {
        std::fs::read_dir(dir.join(sub))
            .expect("list")
            .filter_map(|e| {
                let p = e.ok()?.path();
                (p.extension()? == "yaml").then(|| p.file_stem()?.to_str().map(str::to_string))?
            })
            .collect()
    };
    let known = Known {
        regions: stems("offices"),
        calendars: stems("calendars"),
        days: Default::default(),
    };
    (texts, known)
}

#[divan::bench(sample_count = 50)]
fn bundled_nine(bencher: divan::Bencher) {
    let (files, known) = bundled();
    bencher.bench_local(|| {
        for (name, text) in &files {
            let report = validate::check_str(text, name, Some(&known));
            // A regulation rejected early would make the figure meaningless.
            assert_eq!(report.errors(), 0, "{name}");
            black_box(report);
        }
    });
}

#[divan::bench(args = [1_000, 5_000], sample_count = 10)]
fn synthetic(bencher: divan::Bencher, steps: usize) {
    let text = synthetic::regulation(steps);
    bencher.bench_local(|| {
        let report = validate::check_str(&text, "synthetic.yaml", None);
        assert!(
            report.diagnostics.is_empty(),
            "the generator is out of step"
        );
        black_box(report)
    });
}

#[divan::bench(sample_count = 10)]
fn schema_compile(bencher: divan::Bencher) {
    let schema = schema::regulation_schema();
    bencher.bench_local(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(black_box(&schema))
            .expect("the regulation schema compiles")
    });
}
