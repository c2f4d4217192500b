//! Finding a regulation file by its `id:` among the files under the regulations folder.

use std::path::{Path, PathBuf};

use reglament_model::duration::suggest;
use reglament_model::validate;

/// A path to a `.yaml` file is taken as is; anything else is looked up as a regulation id.
pub fn find_regulation(root: &Path, id_or_path: &str) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(id_or_path);
    if id_or_path.ends_with(".yaml") || id_or_path.ends_with(".yml") {
        if as_path.is_file() {
            return Ok(as_path.to_path_buf());
        }
        anyhow::bail!("{id_or_path}: no such file");
    }
    let files = validate::regulation_files(&[root.to_path_buf()])
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", root.display()))?;
    let mut ids = Vec::new();
    for file in files {
        if let Some(id) = declared_id(&file) {
            if id == id_or_path {
                return Ok(file);
            }
            ids.push(id);
        }
    }
    let hint = suggest(id_or_path, ids.iter().map(String::as_str))
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    anyhow::bail!(
        "no regulation with id `{id_or_path}` under {}/{hint}",
        root.display()
    )
}

/// The `id:` at the top level of a file, read without parsing the whole document.
fn declared_id(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("id:")?;
        Some(rest.trim().trim_matches(['"', '\'']).to_string())
    })
}
