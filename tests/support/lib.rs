//! Shared helpers for the whole-flow tests in `tests/`.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled regulations folder.
pub fn regulations_dir() -> PathBuf {
    repo_root().join("regulations")
}

/// The YAML text of a valid regulation of exactly `steps` steps: tasks in blocks of ten, each
/// opening with an outcome branch, an exclusive choice or a parallel split that rejoins.
/// The generator lives in the engine so that `engine/model/benches/load.rs` measures the same text.
pub fn synthetic_regulation(steps: usize) -> String {
    reglament_model::synthetic::regulation(steps)
}
