//! The schema migrations, embedded in the binary: one folder per back end
//! (`engine/migrations/sqlite`, `engine/migrations/postgres`).
//!
//! They are listed here with `include_str!` and handed to [`Migrator::with_migrations`]
//! rather than found by `sqlx::migrate!`, which needs sqlx's `macros` feature (a proc-macro
//! build of sqlx and of the bundled SQLite for the host). A unit test keeps this list and the
//! folders in step, so a migration file cannot be forgotten.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// (version, description, SQLite text, PostgreSQL text). Versions only ever grow; a released
/// migration is never edited (sqlx refuses a changed checksum).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "store",
        include_str!("../../migrations/sqlite/0001_store.sql"),
        include_str!("../../migrations/postgres/0001_store.sql"),
    ),
    // The inbox indexes: partial (open, or claimed, tasks only) and covering.
    (
        2,
        "inbox indexes",
        include_str!("../../migrations/sqlite/0002_inbox_indexes.sql"),
        include_str!("../../migrations/postgres/0002_inbox_indexes.sql"),
    ),
    // The server's accounts (users, tokens, sessions, login attempts, idempotency keys).
    (
        10,
        "accounts",
        include_str!("../../migrations/sqlite/0010_accounts.sql"),
        include_str!("../../migrations/postgres/0010_accounts.sql"),
    ),
];

/// The files, for the test that compares them with the folders.
#[cfg(test)]
const FILES: &[&str] = &[
    "0001_store.sql",
    "0002_inbox_indexes.sql",
    "0010_accounts.sql",
];

fn migrator(pick: impl Fn(&(i64, &str, &'static str, &'static str)) -> &'static str) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|m| {
            Migration::new(
                m.0,
                Cow::Borrowed(m.1),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(pick(m)),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

pub fn sqlite() -> Migrator {
    migrator(|m| m.2)
}

pub fn postgres() -> Migrator {
    migrator(|m| m.3)
}

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_for_both_back_ends() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for backend in ["sqlite", "postgres"] {
            let mut on_disk: Vec<String> = std::fs::read_dir(root.join(backend))
                .expect("migrations folder")
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            on_disk.sort();
            assert_eq!(on_disk, FILES, "{backend}: embed every file in MIGRATIONS");
        }
        for (i, file) in FILES.iter().enumerate() {
            let version: i64 = file[..4].parse().expect("NNNN_ prefix");
            assert_eq!(version, MIGRATIONS[i].0, "{file}");
        }
    }
}
