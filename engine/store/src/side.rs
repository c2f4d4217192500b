//! Tables the store's users keep beside the log, in the same database (the server's
//! accounts, sessions, tokens and idempotency keys): plain statements with bound values,
//! the same text on both back ends, run in one transaction — on SQLite through the single
//! writer, in turn with the appends, so they never meet a locked database.
//!
//! Nothing written here is part of a case: it is not hashed, not in the log, not in the
//! projections. The tables themselves come with the user's migrations
//! ([`crate::migrate::Migration`], [`crate::StoreOptions::migrations`]).

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::{Backend, Store, StoreError};

/// A value bound to a statement (`$1`, `$2`, … in the statement text).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlArg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

/// A statement and its values.
pub type Statement = (&'static str, Vec<SqlArg>);

impl Store {
    /// Runs statements in one transaction; returns the rows each one changed.
    pub async fn write_side(&self, statements: Vec<Statement>) -> Result<Vec<u64>, StoreError> {
        use sqlx::Connection as _;
        match &self.inner.backend {
            Backend::Sqlite(s) => {
                s.write(move |c| {
                    Box::pin(async move {
                        let mut tx = c.begin().await?;
                        let mut changed = Vec::with_capacity(statements.len());
                        for (sql, args) in statements {
                            let r = bind_all!(sqlx::query(sql), args).execute(&mut *tx).await?;
                            changed.push(r.rows_affected());
                        }
                        tx.commit().await?;
                        Ok(changed)
                    })
                })
                .await
            }
            Backend::Postgres(s) => {
                let mut tx = s.pool.begin().await?;
                let mut changed = Vec::with_capacity(statements.len());
                for (sql, args) in statements {
                    let r = bind_all!(sqlx::query(sql), args).execute(&mut *tx).await?;
                    changed.push(r.rows_affected());
                }
                tx.commit().await?;
                Ok(changed)
            }
        }
    }

    /// Reads rows of type `R` (which decodes from both back ends) on the read pool.
    pub async fn read_side<R>(
        &self,
        sql: &'static str,
        args: Vec<SqlArg>,
    ) -> Result<Vec<R>, StoreError>
    where
        R: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        let rows = match &self.inner.backend {
            Backend::Sqlite(s) => {
                bind_all!(sqlx::query_as::<_, R>(sql), args)
                    .fetch_all(&s.read)
                    .await?
            }
            Backend::Postgres(s) => {
                bind_all!(sqlx::query_as::<_, R>(sql), args)
                    .fetch_all(&s.pool)
                    .await?
            }
        };
        Ok(rows)
    }
}
