//! What the server keeps besides cases (migrations `0010_accounts` and `1001_known_devices`,
//! in `server/migrations/`): users and the roles they hold in offices, API tokens and browser
//! sessions (only hashes of their secrets), sign-in attempts and known devices for
//! throttling, and idempotency keys with the first response they got.
//!
//! None of this is in the hash chain: the log records who acted on every event; these tables
//! only decide who may act. The policy itself (who may see or do what) is `auth::policy`;
//! here are plain reads and writes, on whichever back end, through the store's tables-beside-
//! the-log interface (`reglament_store::side`): on SQLite every write goes through the
//! store's single writer, in turn with the appends, so it never meets a locked database.

use chrono::{DateTime, Utc};

use reglament_store::migrate::Migration;
use reglament_store::rows::{instant, micros};
use reglament_store::side::{SqlArg as Arg, Statement};
use reglament_store::{Store, StoreError, StoreOptions};

/// The server's tables, applied with the store's own migrations.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 10,
        description: "accounts",
        sqlite: include_str!("../migrations/sqlite/0010_accounts.sql"),
        postgres: include_str!("../migrations/postgres/0010_accounts.sql"),
    },
    // Sign-in throttling: known devices, and the device of each attempt.
    Migration {
        version: 1001,
        description: "known devices",
        sqlite: include_str!("../migrations/sqlite/1001_known_devices.sql"),
        postgres: include_str!("../migrations/postgres/1001_known_devices.sql"),
    },
    // Notifications: users' settings, webhook subscribers, notices and their deliveries.
    Migration {
        version: 1002,
        description: "notices",
        sqlite: include_str!("../migrations/sqlite/1002_notices.sql"),
        postgres: include_str!("../migrations/postgres/1002_notices.sql"),
    },
    // Migrations of running cases proposed, decided by a second person, and run.
    Migration {
        version: 1003,
        description: "migration requests",
        sqlite: include_str!("../migrations/sqlite/1003_migration_requests.sql"),
        postgres: include_str!("../migrations/postgres/1003_migration_requests.sql"),
    },
    // The daily digest: a digest notice's office and day, unique with its recipient, and the
    // office-days done.
    Migration {
        version: 1004,
        description: "digests",
        sqlite: include_str!("../migrations/sqlite/1004_digests.sql"),
        postgres: include_str!("../migrations/postgres/1004_digests.sql"),
    },
    // Inbox views shared within an office, named by its head.
    Migration {
        version: 1005,
        description: "inbox views",
        sqlite: include_str!("../migrations/sqlite/1005_inbox_views.sql"),
        postgres: include_str!("../migrations/postgres/1005_inbox_views.sql"),
    },
    // Changes to cases by hand that wait for a second administrator.
    Migration {
        version: 1006,
        description: "interventions",
        sqlite: include_str!("../migrations/sqlite/1006_interventions.sql"),
        postgres: include_str!("../migrations/postgres/1006_interventions.sql"),
    },
    // Deputy rules: who acts for whom, in which roles and office, from when to when, by which
    // order.
    Migration {
        version: 1007,
        description: "deputy rules",
        sqlite: include_str!("../migrations/sqlite/1007_deputy_rules.sql"),
        postgres: include_str!("../migrations/postgres/1007_deputy_rules.sql"),
    },
];

/// Opens (and migrates) the store with the server's tables too: every opening of a server's
/// database goes through here, since a migrator that does not know a version the database
/// recorded refuses it.
pub async fn open_store(url: &str, mut options: StoreOptions) -> Result<Store, StoreError> {
    options.migrations.extend_from_slice(MIGRATIONS);
    Store::open_with(url, options).await
}

/// The accounts tables of a store. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("user `{0}` already exists")]
    UserExists(String),
    #[error("no user `{0}`")]
    NoSuchUser(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(StoreError::Database(e))
    }
}

/// A role held in an office (`office` is `*` for every office).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct GrantRecord {
    pub role: String,
    pub office: String,
}

/// A user account with its grants.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRecord {
    pub login: String,
    pub display_name: String,
    /// The argon2 PHC string; `None` for accounts that sign in with tokens only.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub grants: Vec<GrantRecord>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub grants: Vec<GrantRecord>,
    pub created_by: String,
}

/// An API token as listed (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    pub prefix: String,
    pub login: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub login: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One sign-in attempt, as throttling reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttemptRecord {
    /// The order attempts were recorded in (several may share an instant).
    pub id: i64,
    pub login: String,
    pub ip: String,
    /// The hash of the device cookie, when the attempt came from a device known for the login.
    pub device: Option<String>,
    pub ok: bool,
    pub at: DateTime<Utc>,
}

/// What [`Store::set_password`] ended besides setting the password.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordSet {
    /// Sessions of the account that were ended.
    pub sessions_ended: u64,
    /// The prefixes of the tokens that were revoked.
    pub tokens_revoked: Vec<String>,
}

/// The response kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

/// What [`Store::idempotency_begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is new (or its old record expired): handle the request, then
    /// [`Store::idempotency_finish`] or [`Store::idempotency_abort`].
    New,
    /// The same request was answered before: send this again.
    Replay(StoredResponse),
    /// The same key is being handled right now by another request.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    login: String,
    display_name: String,
    password_hash: Option<String>,
    disabled: bool,
    must_change_password: bool,
    created_at: i64,
    created_by: String,
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    login: String,
    role: String,
    office: String,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    prefix: String,
    login: String,
    name: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    login: String,
    csrf_token: String,
    created_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct IdempotencyRow {
    fingerprint: String,
    created_at: i64,
    status: Option<i32>,
    content_type: Option<String>,
    location: Option<String>,
    body: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    login: String,
    ip: String,
    device: Option<String>,
    ok: bool,
    at: i64,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    n: i64,
}

impl Accounts {
    pub fn new(store: Store) -> Accounts {
        Accounts { store }
    }

    /// The store the tables are in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs statements in one transaction; returns the rows each one changed.
    async fn write_all(&self, statements: Vec<Statement>) -> Result<Vec<u64>, StoreError> {
        self.store.write_side(statements).await
    }

    async fn write_one(&self, sql: &'static str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(self.write_all(vec![(sql, args)]).await?.pop().unwrap_or(0))
    }

    async fn count(&self, sql: &'static str, args: Vec<Arg>) -> Result<i64, StoreError> {
        let rows: Vec<CountRow> = self.store.read_side::<CountRow>(sql, args).await?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    // ------------------------------------------------------------------------- users

    /// Creates an account with its grants.
    pub async fn create_user(
        &self,
        user: &NewUser,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut statements: Vec<Statement> = vec![(
            "INSERT INTO users (login, display_name, password_hash, disabled, must_change_password, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Arg::Text(user.login.clone()),
                Arg::Text(user.display_name.clone()),
                Arg::OptText(user.password_hash.clone()),
                Arg::Bool(false),
                Arg::Bool(user.must_change_password),
                Arg::Int(micros(now)),
                Arg::Text(user.created_by.clone()),
            ],
        )];
        statements.extend(grant_inserts(&user.login, &user.grants));
        match self.write_all(statements).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(AccountError::UserExists(user.login.clone())),
            Err(e) => Err(e.into()),
        }
    }

    /// One account, with its grants.
    pub async fn user(&self, login: &str) -> Result<Option<UserRecord>, AccountError> {
        let sql = "SELECT login, display_name, password_hash, disabled, must_change_password, created_at, created_by \
                   FROM users WHERE login = $1";
        let rows: Vec<UserRow> = self
            .store
            .read_side::<UserRow>(sql, vec![Arg::Text(login.to_string())])
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let grants: Vec<GrantRow> = self
            .store
            .read_side::<GrantRow>(
                "SELECT login, role, office FROM user_roles WHERE login = $1 ORDER BY role, office",
                vec![Arg::Text(login.to_string())],
            )
            .await?;
        Ok(Some(user_record(row, grants)))
    }

    /// Every account, by login.
    pub async fn users(&self) -> Result<Vec<UserRecord>, AccountError> {
        let rows: Vec<UserRow> = self.store.read_side::<UserRow>("SELECT login, display_name, password_hash, disabled, must_change_password, created_at, created_by \
             FROM users ORDER BY login", Vec::new()).await?;
        let grants: Vec<GrantRow> = self
            .store
            .read_side::<GrantRow>(
                "SELECT login, role, office FROM user_roles ORDER BY login, role, office",
                Vec::new(),
            )
            .await?;
        let mut by_login: std::collections::HashMap<String, Vec<GrantRow>> =
            std::collections::HashMap::new();
        for g in grants {
            by_login.entry(g.login.clone()).or_default().push(g);
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let g = by_login.remove(&r.login).unwrap_or_default();
                user_record(r, g)
            })
            .collect())
    }

    /// How many accounts exist (zero on a first start).
    pub async fn user_count(&self) -> Result<i64, AccountError> {
        Ok(self
            .count("SELECT COUNT(*) AS n FROM users", Vec::new())
            .await?)
    }

    /// Disables or enables an account. A disabled account's tokens and sessions stop working.
    pub async fn set_user_disabled(&self, login: &str, disabled: bool) -> Result<(), AccountError> {
        let n = self
            .write_one(
                "UPDATE users SET disabled = $2 WHERE login = $1",
                vec![Arg::Text(login.to_string()), Arg::Bool(disabled)],
            )
            .await?;
        if n == 0 {
            return Err(AccountError::NoSuchUser(login.to_string()));
        }
        if disabled {
            self.write_one(
                "DELETE FROM sessions WHERE login = $1",
                vec![Arg::Text(login.to_string())],
            )
            .await?;
        }
        Ok(())
    }

    /// Sets a new password hash and, in the same transaction, ends the account's sessions
    /// (all but `keep_session`, the hash of the one that asked, if any) and revokes the
    /// account's tokens whose prefixes are listed (other accounts' tokens are left alone).
    pub async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        revoke_tokens: &[String],
        now: DateTime<Utc>,
    ) -> Result<PasswordSet, AccountError> {
        let mut statements: Vec<Statement> = vec![
            (
                "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE login = $1",
                vec![
                    Arg::Text(login.to_string()),
                    Arg::Text(password_hash.to_string()),
                    Arg::Bool(must_change),
                ],
            ),
            (
                "DELETE FROM sessions WHERE login = $1 AND session_hash <> $2",
                vec![
                    Arg::Text(login.to_string()),
                    Arg::Text(keep_session.unwrap_or_default().to_string()),
                ],
            ),
        ];
        for prefix in revoke_tokens {
            statements.push((
                "UPDATE api_tokens SET revoked_at = $3 WHERE login = $1 AND prefix = $2 AND revoked_at IS NULL",
                vec![
                    Arg::Text(login.to_string()),
                    Arg::Text(prefix.clone()),
                    Arg::Int(micros(now)),
                ],
            ));
        }
        let changed = self.write_all(statements).await?;
        if changed.first().copied().unwrap_or(0) == 0 {
            return Err(AccountError::NoSuchUser(login.to_string()));
        }
        Ok(PasswordSet {
            sessions_ended: changed.get(1).copied().unwrap_or(0),
            tokens_revoked: revoke_tokens
                .iter()
                .zip(changed.iter().skip(2))
                .filter(|(_, n)| **n > 0)
                .map(|(p, _)| p.clone())
                .collect(),
        })
    }

    /// Replaces an account's grants.
    pub async fn set_grants(
        &self,
        login: &str,
        grants: &[GrantRecord],
    ) -> Result<(), AccountError> {
        if self.user(login).await?.is_none() {
            return Err(AccountError::NoSuchUser(login.to_string()));
        }
        let mut statements: Vec<Statement> = vec![(
            "DELETE FROM user_roles WHERE login = $1",
            vec![Arg::Text(login.to_string())],
        )];
        statements.extend(grant_inserts(login, grants));
        self.write_all(statements).await?;
        Ok(())
    }

    // ------------------------------------------------------------------------ tokens

    /// Records a token by the SHA-256 of its secret.
    pub async fn create_token(
        &self,
        token_hash: &str,
        prefix: &str,
        login: &str,
        name: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), AccountError> {
        if self.user(login).await?.is_none() {
            return Err(AccountError::NoSuchUser(login.to_string()));
        }
        self.write_one(
            "INSERT INTO api_tokens (token_hash, prefix, login, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Arg::Text(token_hash.to_string()),
                Arg::Text(prefix.to_string()),
                Arg::Text(login.to_string()),
                Arg::Text(name.to_string()),
                Arg::Int(micros(now)),
                Arg::OptInt(expires_at.map(micros)),
            ],
        )
        .await?;
        Ok(())
    }

    /// The live token with this hash: not revoked, not expired at `now`.
    pub async fn token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, AccountError> {
        let rows: Vec<TokenRow> = self.store.read_side::<TokenRow>("SELECT prefix, login, name, created_at, expires_at, revoked_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)", vec![Arg::Text(token_hash.to_string()), Arg::Int(micros(now))]).await?;
        Ok(rows.into_iter().next().map(token_record))
    }

    /// Tokens, of one account or of all.
    pub async fn tokens(&self, login: Option<&str>) -> Result<Vec<TokenRecord>, AccountError> {
        let rows: Vec<TokenRow> = match login {
            Some(l) => self.store.read_side::<TokenRow>("SELECT prefix, login, name, created_at, expires_at, revoked_at FROM api_tokens \
                 WHERE login = $1 ORDER BY created_at", vec![Arg::Text(l.to_string())]).await?,
            None => self.store.read_side::<TokenRow>("SELECT prefix, login, name, created_at, expires_at, revoked_at FROM api_tokens \
                 ORDER BY login, created_at", Vec::new()).await?,
        };
        Ok(rows.into_iter().map(token_record).collect())
    }

    /// Revokes the tokens whose prefix is given; returns how many.
    pub async fn revoke_token(
        &self,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, AccountError> {
        Ok(self
            .write_one(
                "UPDATE api_tokens SET revoked_at = $2 WHERE prefix = $1 AND revoked_at IS NULL",
                vec![Arg::Text(prefix.to_string()), Arg::Int(micros(now))],
            )
            .await?)
    }

    // ---------------------------------------------------------------------- sessions

    pub async fn create_session(
        &self,
        session_hash: &str,
        login: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.write_one(
            "INSERT INTO sessions (session_hash, login, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::Text(session_hash.to_string()),
                Arg::Text(login.to_string()),
                Arg::Text(csrf_token.to_string()),
                Arg::Int(micros(now)),
                Arg::Int(micros(expires_at)),
            ],
        )
        .await?;
        Ok(())
    }

    /// The live session with this hash.
    pub async fn session(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, AccountError> {
        let rows: Vec<SessionRow> = self.store.read_side::<SessionRow>("SELECT login, csrf_token, created_at, expires_at FROM sessions WHERE session_hash = $1 AND expires_at > $2", vec![Arg::Text(session_hash.to_string()), Arg::Int(micros(now))]).await?;
        Ok(rows.into_iter().next().map(|r| SessionRecord {
            login: r.login,
            csrf_token: r.csrf_token,
            created_at: instant(r.created_at),
            expires_at: instant(r.expires_at),
        }))
    }

    pub async fn delete_session(&self, session_hash: &str) -> Result<(), AccountError> {
        self.write_one(
            "DELETE FROM sessions WHERE session_hash = $1",
            vec![Arg::Text(session_hash.to_string())],
        )
        .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- login attempts

    /// Records a sign-in attempt that checked a password. `device` is the hash of the device
    /// cookie when it is known for this login.
    pub async fn record_login_attempt(
        &self,
        login: &str,
        ip: &str,
        device: Option<&str>,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.write_one(
            "INSERT INTO login_attempts (login, ip, at, ok, device) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::Text(login.to_string()),
                Arg::Text(ip.to_string()),
                Arg::Int(micros(now)),
                Arg::Bool(ok),
                Arg::OptText(device.map(str::to_string)),
            ],
        )
        .await?;
        Ok(())
    }

    /// The attempts since `since` of this login (from anywhere) or from this address (for
    /// any login), newest first, at most `limit`: what throttling decides on.
    pub async fn login_attempts_since(
        &self,
        login: &str,
        ip: &str,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<LoginAttemptRecord>, AccountError> {
        let rows: Vec<AttemptRow> = self
            .store
            .read_side::<AttemptRow>(
                "SELECT id, login, ip, device, ok, at FROM login_attempts \
                 WHERE (login = $1 OR ip = $2) AND at >= $3 ORDER BY at DESC, id DESC LIMIT $4",
                vec![
                    Arg::Text(login.to_string()),
                    Arg::Text(ip.to_string()),
                    Arg::Int(micros(since)),
                    Arg::Int(limit),
                ],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| LoginAttemptRecord {
                id: r.id,
                login: r.login,
                ip: r.ip,
                device: r.device,
                ok: r.ok,
                at: instant(r.at),
            })
            .collect())
    }

    // ------------------------------------------------------------------ known devices

    /// Remembers that `login` signed in on the device whose cookie has this hash.
    pub async fn remember_device(
        &self,
        device_hash: &str,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.write_one(
            "INSERT INTO known_devices (device_hash, login, created_at, last_seen) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (device_hash, login) DO UPDATE SET last_seen = excluded.last_seen",
            vec![
                Arg::Text(device_hash.to_string()),
                Arg::Text(login.to_string()),
                Arg::Int(micros(now)),
            ],
        )
        .await?;
        Ok(())
    }

    /// Whether `login` signed in on this device since `seen_after`.
    pub async fn known_device(
        &self,
        device_hash: &str,
        login: &str,
        seen_after: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let n = self
            .count(
                "SELECT COUNT(*) AS n FROM known_devices WHERE device_hash = $1 AND login = $2 AND last_seen > $3",
                vec![
                    Arg::Text(device_hash.to_string()),
                    Arg::Text(login.to_string()),
                    Arg::Int(micros(seen_after)),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    // ------------------------------------------------------------- idempotency keys

    /// Takes an idempotency key for a request with this fingerprint, or finds what became of it.
    /// A record older than `stale_before` counts as gone.
    pub async fn idempotency_begin(
        &self,
        login: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<IdempotencyBegin, AccountError> {
        let insert = "INSERT INTO idempotency_keys (login, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
                      ON CONFLICT (login, key) DO NOTHING";
        let args = vec![
            Arg::Text(login.to_string()),
            Arg::Text(key.to_string()),
            Arg::Text(fingerprint.to_string()),
            Arg::Int(micros(now)),
        ];
        if self.write_one(insert, args).await? == 1 {
            return Ok(IdempotencyBegin::New);
        }
        let rows: Vec<IdempotencyRow> = self.store.read_side::<IdempotencyRow>("SELECT fingerprint, created_at, status, content_type, location, body FROM idempotency_keys \
             WHERE login = $1 AND key = $2", vec![Arg::Text(login.to_string()), Arg::Text(key.to_string())]).await?;
        let Some(row) = rows.into_iter().next() else {
            // Expired and purged between the two statements: take it again.
            return Box::pin(self.idempotency_begin(login, key, fingerprint, now, stale_before))
                .await;
        };
        if row.created_at < micros(stale_before) {
            // An old record: the key may be used again. Only one request wins the update.
            let n = self
                .write_one(
                    "UPDATE idempotency_keys SET fingerprint = $3, created_at = $4, status = NULL, \
                     content_type = NULL, location = NULL, body = NULL \
                     WHERE login = $1 AND key = $2 AND created_at = $5",
                    vec![
                        Arg::Text(login.to_string()),
                        Arg::Text(key.to_string()),
                        Arg::Text(fingerprint.to_string()),
                        Arg::Int(micros(now)),
                        Arg::Int(row.created_at),
                    ],
                )
                .await?;
            return Ok(if n == 1 {
                IdempotencyBegin::New
            } else {
                IdempotencyBegin::InFlight
            });
        }
        if row.fingerprint != fingerprint {
            return Ok(IdempotencyBegin::Mismatch);
        }
        Ok(match row.status {
            None => IdempotencyBegin::InFlight,
            Some(status) => IdempotencyBegin::Replay(StoredResponse {
                status: u16::try_from(status).unwrap_or(500),
                content_type: row.content_type,
                location: row.location,
                body: row.body.unwrap_or_default(),
            }),
        })
    }

    /// Keeps the response of the request that took the key.
    pub async fn idempotency_finish(
        &self,
        login: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), AccountError> {
        self.write_one(
            "UPDATE idempotency_keys SET status = $3, content_type = $4, location = $5, body = $6 \
             WHERE login = $1 AND key = $2",
            vec![
                Arg::Text(login.to_string()),
                Arg::Text(key.to_string()),
                Arg::Int(i64::from(response.status)),
                Arg::OptText(response.content_type.clone()),
                Arg::OptText(response.location.clone()),
                Arg::Text(response.body.clone()),
            ],
        )
        .await?;
        Ok(())
    }

    /// Gives a key back (the request failed on the server's side, so a retry must run again).
    pub async fn idempotency_abort(&self, login: &str, key: &str) -> Result<(), AccountError> {
        self.write_one(
            "DELETE FROM idempotency_keys WHERE login = $1 AND key = $2",
            vec![Arg::Text(login.to_string()), Arg::Text(key.to_string())],
        )
        .await?;
        Ok(())
    }

    /// Deletes what is no longer needed: idempotency keys and login attempts older than
    /// `before`, devices not seen since `devices_before`, expired sessions. Returns the rows
    /// deleted.
    pub async fn purge_accounts(
        &self,
        before: DateTime<Utc>,
        devices_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, AccountError> {
        let changed = self
            .write_all(vec![
                (
                    "DELETE FROM idempotency_keys WHERE created_at < $1",
                    vec![Arg::Int(micros(before))],
                ),
                (
                    "DELETE FROM login_attempts WHERE at < $1",
                    vec![Arg::Int(micros(before))],
                ),
                (
                    "DELETE FROM sessions WHERE expires_at <= $1",
                    vec![Arg::Int(micros(now))],
                ),
                (
                    "DELETE FROM known_devices WHERE last_seen < $1",
                    vec![Arg::Int(micros(devices_before))],
                ),
            ])
            .await?;
        Ok(changed.iter().sum())
    }
}

fn grant_inserts(login: &str, grants: &[GrantRecord]) -> Vec<Statement> {
    let mut unique: Vec<&GrantRecord> = grants.iter().collect();
    unique.sort();
    unique.dedup();
    unique
        .into_iter()
        .map(|g| {
            (
                "INSERT INTO user_roles (login, role, office) VALUES ($1, $2, $3)",
                vec![
                    Arg::Text(login.to_string()),
                    Arg::Text(g.role.clone()),
                    Arg::Text(g.office.clone()),
                ],
            )
        })
        .collect()
}

fn user_record(r: UserRow, grants: Vec<GrantRow>) -> UserRecord {
    UserRecord {
        login: r.login,
        display_name: r.display_name,
        password_hash: r.password_hash,
        disabled: r.disabled,
        must_change_password: r.must_change_password,
        created_at: instant(r.created_at),
        created_by: r.created_by,
        grants: grants
            .into_iter()
            .map(|g| GrantRecord {
                role: g.role,
                office: g.office,
            })
            .collect(),
    }
}

fn token_record(r: TokenRow) -> TokenRecord {
    TokenRecord {
        prefix: r.prefix,
        login: r.login,
        name: r.name,
        created_at: instant(r.created_at),
        expires_at: r.expires_at.map(instant),
        revoked_at: r.revoked_at.map(instant),
    }
}
