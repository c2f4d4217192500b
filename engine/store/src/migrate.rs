//! The schema migrations, embedded in the binary: one folder per back end
//! (`engine/store/migrations/sqlite`, `engine/store/migrations/postgres`), plus those the
//! store's user brings for the tables it keeps beside the log ([`crate::side`]), passed in
//! [`crate::StoreOptions::migrations`].
//!
//! They are listed with `include_str!` and handed to [`Migrator::with_migrations`] rather than
//! found by `sqlx::migrate!`, which needs sqlx's `macros` feature (a proc-macro build of sqlx
//! and of the bundled SQLite for the host). A unit test keeps this list and the folder in
//! step, so a migration file cannot be forgotten.
//!
//! Versions share one sequence (sqlx's `_sqlx_migrations` table): the store's own are 1–9 and
//! 11–999; version 10 and those from 1000 are the user's (the server's accounts were version
//! 10 when they lived in this crate, and a database keeps the versions it recorded).

use std::borrow::Cow;

use sqlx::migrate::{MigrationType, Migrator};

use crate::StoreError;

/// One schema change, in the text of each back end. A released migration is never edited
/// (sqlx refuses a changed checksum); versions only ever grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// The store's own: the log and its projections.
pub const STORE: &[Migration] = &[
    Migration {
        version: 1,
        description: "store",
        sqlite: include_str!("../migrations/sqlite/0001_store.sql"),
        postgres: include_str!("../migrations/postgres/0001_store.sql"),
    },
    // The inbox indexes: partial (open, or claimed, tasks only) and covering.
    Migration {
        version: 2,
        description: "inbox indexes",
        sqlite: include_str!("../migrations/sqlite/0002_inbox_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0002_inbox_indexes.sql"),
    },
    // Cases waiting for an administrator after an incident.
    Migration {
        version: 3,
        description: "incidents",
        sqlite: include_str!("../migrations/sqlite/0003_incidents.sql"),
        postgres: include_str!("../migrations/postgres/0003_incidents.sql"),
    },
    // Signed checkpoints of the chain heads.
    Migration {
        version: 4,
        description: "checkpoints",
        sqlite: include_str!("../migrations/sqlite/0004_checkpoints.sql"),
        postgres: include_str!("../migrations/postgres/0004_checkpoints.sql"),
    },
    // Cases held because their history did not verify.
    Migration {
        version: 5,
        description: "case holds",
        sqlite: include_str!("../migrations/sqlite/0005_case_holds.sql"),
        postgres: include_str!("../migrations/postgres/0005_case_holds.sql"),
    },
    // Suspended tasks in the projection; calendar versions open cases were moved onto.
    Migration {
        version: 6,
        description: "suspensions and calendar adoptions",
        sqlite: include_str!("../migrations/sqlite/0006_suspensions_and_calendar_adoptions.sql"),
        postgres: include_str!(
            "../migrations/postgres/0006_suspensions_and_calendar_adoptions.sql"
        ),
    },
    // Each deployed version's window: the day it takes effect and the day it stops.
    Migration {
        version: 7,
        description: "regulation windows",
        sqlite: include_str!("../migrations/sqlite/0007_regulation_windows.sql"),
        postgres: include_str!("../migrations/postgres/0007_regulation_windows.sql"),
    },
    // The outbox of notifications, filled by a trigger on `events` (see `outbox.rs`).
    Migration {
        version: 9,
        description: "outbox",
        sqlite: include_str!("../migrations/sqlite/0009_outbox.sql"),
        postgres: include_str!("../migrations/postgres/0009_outbox.sql"),
    },
    // Finding a case: the offices a case has been at, its name words and ИИН (`search.rs`).
    Migration {
        version: 11,
        description: "case search",
        sqlite: include_str!("../migrations/sqlite/0011_case_search.sql"),
        postgres: include_str!("../migrations/postgres/0011_case_search.sql"),
    },
];

/// Whether a version is one a user of the store may take.
pub fn is_user_version(version: i64) -> bool {
    version == 10 || version >= 1000
}

/// The store's migrations and the user's, in order; a user's migration with a version that
/// is not theirs to take, or taken twice, is refused.
pub fn all(user: &[Migration]) -> Result<Vec<Migration>, StoreError> {
    let mut all: Vec<Migration> = STORE.to_vec();
    for m in user {
        if !is_user_version(m.version) || all.iter().any(|s| s.version == m.version) {
            return Err(StoreError::MigrationVersion(m.version));
        }
        all.push(*m);
    }
    all.sort_by_key(|m| m.version);
    Ok(all)
}

fn migrator(all: &[Migration], pick: impl Fn(&Migration) -> &'static str) -> Migrator {
    let migrations = all
        .iter()
        .map(|m| {
            sqlx::migrate::Migration::new(
                m.version,
                Cow::Borrowed(m.description),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(pick(m)),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

pub fn sqlite(all: &[Migration]) -> Migrator {
    migrator(all, |m| m.sqlite)
}

pub fn postgres(all: &[Migration]) -> Migrator {
    migrator(all, |m| m.postgres)
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
            assert_eq!(
                on_disk.len(),
                STORE.len(),
                "{backend}: embed every file in STORE"
            );
            for (file, m) in on_disk.iter().zip(STORE) {
                let version: i64 = file[..4].parse().expect("NNNN_ prefix");
                assert_eq!(version, m.version, "{file}");
                assert!(!is_user_version(version), "{file}: a user's version");
            }
        }
    }

    #[test]
    fn a_user_migration_takes_only_the_users_versions() {
        let m = |version| Migration {
            version,
            description: "x",
            sqlite: "",
            postgres: "",
        };
        assert_eq!(all(&[m(10), m(1000)]).expect("ok").len(), STORE.len() + 2);
        assert!(matches!(all(&[m(3)]), Err(StoreError::MigrationVersion(3))));
        assert!(matches!(
            all(&[m(10), m(10)]),
            Err(StoreError::MigrationVersion(10))
        ));
    }
}
