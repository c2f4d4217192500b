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
