//! Cost of drawing a process.
//!
//! `cargo bench -p reglament-model --bench render`
//!
//! - `layout`: the swimlane layout of a synthetic regulation of 50, 500 and 5,000 steps
//!   (blocks of ten with a choice, a rework loop, a refusal, a parallel split and join);
//!   5,000 steps must stay well under a second.
//! - `svg`, `mermaid`, `dot`: the whole text output for the same regulations.

use std::hint::black_box;

use reglament_model as crate_under_test;
use reglament_model::render::{self, Options};

include!("../src/render/testdata/synthetic.rs");

const BLOCKS: [usize; 3] = [5, 50, 500];

fn main() {
    divan::main();
}

#[divan::bench(args = BLOCKS, sample_count = 20)]
fn layout(bencher: divan::Bencher, blocks: usize) {
    let process = synthetic_process(blocks);
    let options = Options::default();
    bencher.bench(|| render::layout(black_box(&process), black_box(&options)));
}

#[divan::bench(args = BLOCKS, sample_count = 20)]
fn svg(bencher: divan::Bencher, blocks: usize) {
    let process = synthetic_process(blocks);
    let options = Options::default();
    bencher.bench(|| render::svg(black_box(&process), black_box(&options)));
}

#[divan::bench(args = BLOCKS, sample_count = 20)]
fn mermaid(bencher: divan::Bencher, blocks: usize) {
    let process = synthetic_process(blocks);
    let options = Options::default();
    bencher.bench(|| render::mermaid(black_box(&process), black_box(&options)));
}

#[divan::bench(args = BLOCKS, sample_count = 20)]
fn dot(bencher: divan::Bencher, blocks: usize) {
    let process = synthetic_process(blocks);
    let options = Options::default();
    bencher.bench(|| render::dot(black_box(&process), black_box(&options)));
}
