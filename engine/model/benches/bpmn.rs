//! Cost of the BPMN 2.0 interchange.
//!
//! `cargo bench -p reglament-model --bench bpmn`
//!
//! - `export`: a synthetic regulation of 500 and 5,000 steps (see `reglament_model::synthetic`)
//!   as a BPMN document with its diagram: the plan of pools and lanes, the layout, the XML
//!   (target: under 1 s for 5,000 steps).
//! - `import`: the same documents read back into a YAML draft.
//!
//! Before divan's wall-time table, the median thread CPU time of the 5,000-step export, which
//! a busy machine disturbs less.

use std::hint::black_box;

use reglament_model::bpmn::{self, ImportOptions};
use reglament_model::compile::Process;
use reglament_model::synthetic;
use reglament_model::text::Lang;
use reglament_model::validate;

use reglament_testkit::cpu;

const STEPS: [usize; 2] = [500, 5_000];

fn main() {
    let process = synthetic_process(5_000);
    let export = cpu::median_cpu(7, || (), |()| bpmn::export(&process, Lang::Ru));
    let xml = bpmn::export(&process, Lang::Ru);
    let import = cpu::median_cpu(7, || (), |()| bpmn::import(&xml, &ImportOptions::default()));
    println!(
        "thread CPU, median: export of 5,000 steps {:.0} ms ({} KiB of XML); import {:.0} ms",
        export.as_secs_f64() * 1e3,
        xml.len() / 1024,
        import.as_secs_f64() * 1e3
    );
    divan::main();
}

fn synthetic_process(steps: usize) -> Process {
    let text = synthetic::regulation(steps);
    validate::check_str(&text, "synthetic.yaml", None)
        .process
        .expect("the synthetic regulation compiles")
}

#[divan::bench(args = STEPS, sample_count = 10)]
fn export(bencher: divan::Bencher, steps: usize) {
    let process = synthetic_process(steps);
    bencher.bench(|| bpmn::export(black_box(&process), Lang::Ru));
}

#[divan::bench(args = STEPS, sample_count = 10)]
fn import(bencher: divan::Bencher, steps: usize) {
    let xml = bpmn::export(&synthetic_process(steps), Lang::Ru);
    bencher.bench(|| bpmn::import(black_box(&xml), &ImportOptions::default()));
}
