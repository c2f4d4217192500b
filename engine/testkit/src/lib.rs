//! What Reglament's tests, benches and examples share: where the bundled data is, named
//! fixture regulations (written out once here, not in every test), the frozen case
//! histories that every future version must still replay, and CPU-time measurement for
//! benchmarks on a shared machine.
//!
//! The crate depends on no Reglament crate on purpose: unit tests inside `reglament-model`
//! or `reglament-runtime` use these fixtures too, and a dependency back on them would give
//! those tests a second copy of every type. So the fixtures are text and paths; each test
//! loads them with the crate it tests.

#![forbid(unsafe_code)]

pub mod cpu;
pub mod fixtures;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled regulations folder (with `calendars/` and `offices/`).
pub fn regulations_dir() -> PathBuf {
    repo_root().join("regulations")
}

/// The frozen case histories (`engine/testkit/histories/*.jsonl`), see [`fixtures`].
pub fn histories_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories")
}
