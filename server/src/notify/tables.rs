//! The notification tables (migration `1002_notices`): reads and writes through the store's
//! tables-beside-the-log interface, the same SQL on both back ends.

use reglament_model::text::Lang;
use reglament_store::side::SqlArg as Arg;
use reglament_store::{Store, StoreError};
use serde::Serialize;

/// The kinds of notice staff may choose.
pub const STAFF_KINDS: &[&str] = &["task", "warning", "breach", "escalation", "digest"];

/// The daily digest of an office's overdue tasks ([`super::digest`]): it comes at the
/// opening or not at all, and only to those who asked for it.
pub const DIGEST: &str = "digest";

/// What a kind of notice is when the user never chose: `opening` for the notices of
/// events, `off` for the digest (a daily e-mail nobody asked for would be noise).
pub fn default_mode(kind: &str) -> Mode {
    if kind == DIGEST {
        Mode::Off
    } else {
        Mode::Opening
    }
}
/// The events a webhook subscriber may hear.
pub const WEBHOOK_EVENTS: &[&str] = &["registered", "result_ready", "cancelled"];

/// When a user gets a kind of notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// At once, whatever the hour.
    Now,
    /// At the next opening of the office when it comes after hours (the default).
    Opening,
    /// Never.
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Now => "now",
            Mode::Opening => "opening",
            Mode::Off => "off",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "now" => Some(Mode::Now),
            "opening" => Some(Mode::Opening),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

/// A user's settings: address, language, a mode per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub email: Option<String>,
    pub language: Lang,
    /// One per [`STAFF_KINDS`], in that order.
    pub modes: Vec<(String, Mode)>,
}

impl Profile {
    pub fn mode(&self, kind: &str) -> Mode {
        self.modes
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, m)| *m)
            .unwrap_or_else(|| default_mode(kind))
    }
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    email: Option<String>,
    language: String,
}

#[derive(sqlx::FromRow)]
struct ChoiceRow {
    kind: String,
    mode: String,
}

/// A user's settings (defaults when they never set any: no e-mail, Russian, `opening`).
pub async fn profile(store: &Store, login: &str) -> Result<Profile, StoreError> {
    let rows: Vec<ProfileRow> = store
        .read_side(
            "SELECT email, language FROM notify_profiles WHERE login = $1",
            vec![Arg::Text(login.to_string())],
        )
        .await?;
    let choices: Vec<ChoiceRow> = store
        .read_side(
            "SELECT kind, mode FROM notify_choices WHERE login = $1",
            vec![Arg::Text(login.to_string())],
        )
        .await?;
    let (email, language) = rows
        .into_iter()
        .next()
        .map(|r| (r.email, Lang::parse(&r.language).unwrap_or_default()))
        .unwrap_or((None, Lang::default()));
    let modes = STAFF_KINDS
        .iter()
        .map(|k| {
            let m = choices
                .iter()
                .find(|c| c.kind == *k)
                .and_then(|c| Mode::parse(&c.mode))
                .unwrap_or_else(|| default_mode(k));
            (k.to_string(), m)
        })
        .collect();
    Ok(Profile {
        email,
        language,
        modes,
    })
}

/// Replaces a user's settings, in one transaction.
pub async fn set_profile(
    store: &Store,
    login: &str,
    profile: &Profile,
    now: i64,
) -> Result<(), StoreError> {
    let mut statements = vec![
        (
            "DELETE FROM notify_profiles WHERE login = $1",
            vec![Arg::Text(login.to_string())],
        ),
        (
            "INSERT INTO notify_profiles (login, email, language, updated_at) VALUES ($1, $2, $3, $4)",
            vec![
                Arg::Text(login.to_string()),
                Arg::OptText(profile.email.clone()),
                Arg::Text(profile.language.code().to_string()),
                Arg::Int(now),
            ],
        ),
        (
            "DELETE FROM notify_choices WHERE login = $1",
            vec![Arg::Text(login.to_string())],
        ),
    ];
    for (kind, mode) in &profile.modes {
        statements.push((
            "INSERT INTO notify_choices (login, kind, mode) VALUES ($1, $2, $3)",
            vec![
                Arg::Text(login.to_string()),
                Arg::Text(kind.clone()),
                Arg::Text(mode.as_str().to_string()),
            ],
        ));
    }
    store.write_side(statements).await?;
    Ok(())
}

/// The enabled users who hold `role` at `office` itself (not through `*`: a grant for every
/// office is an auditor's or an administrator's, who do not work the office's tasks).
pub async fn holders(store: &Store, role: &str, office: &str) -> Result<Vec<String>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct L {
        login: String,
    }
    let rows: Vec<L> = store
        .read_side(
            "SELECT r.login FROM user_roles r JOIN users u ON u.login = r.login \
             WHERE r.role = $1 AND r.office = $2 AND NOT u.disabled ORDER BY r.login",
            vec![Arg::Text(role.to_string()), Arg::Text(office.to_string())],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.login).collect())
}

/// Whether an account exists and is enabled.
pub async fn enabled(store: &Store, login: &str) -> Result<bool, StoreError> {
    #[derive(sqlx::FromRow)]
    struct L {
        #[allow(dead_code)]
        login: String,
    }
    let rows: Vec<L> = store
        .read_side(
            "SELECT login FROM users WHERE login = $1 AND NOT disabled",
            vec![Arg::Text(login.to_string())],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// A webhook subscriber (its secret is read only to sign).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub secret: String,
    /// Comma-separated [`WEBHOOK_EVENTS`].
    pub events: String,
    pub created_by: String,
    pub created_at: i64,
    pub reason: String,
}

impl Webhook {
    pub fn hears(&self, event: &str) -> bool {
        self.events.split(',').any(|e| e.trim() == event)
    }
}

/// The subscribers not removed.
pub async fn webhooks(store: &Store) -> Result<Vec<Webhook>, StoreError> {
    store
        .read_side(
            "SELECT id, url, secret, events, created_by, created_at, reason FROM webhooks \
             WHERE removed_at IS NULL ORDER BY id",
            Vec::new(),
        )
        .await
}

/// Adds a subscriber; `false` when the id is taken (even by a removed one: ids name
/// notices, and are not reused).
pub async fn add_webhook(store: &Store, w: &Webhook) -> Result<bool, StoreError> {
    let changed = store
        .write_side(vec![(
            "INSERT INTO webhooks (id, url, secret, events, created_by, created_at, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            vec![
                Arg::Text(w.id.clone()),
                Arg::Text(w.url.clone()),
                Arg::Text(w.secret.clone()),
                Arg::Text(w.events.clone()),
                Arg::Text(w.created_by.clone()),
                Arg::Int(w.created_at),
                Arg::Text(w.reason.clone()),
            ],
        )])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) == 1)
}

/// Removes a subscriber (its notices not yet delivered are given up); `false` if there was
/// none.
pub async fn remove_webhook(store: &Store, id: &str, now: i64) -> Result<bool, StoreError> {
    let changed = store
        .write_side(vec![
            (
                "UPDATE webhooks SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL",
                vec![Arg::Int(now), Arg::Text(id.to_string())],
            ),
            (
                "UPDATE notices SET status = 'failed', last_error = 'the subscriber was removed' \
                 WHERE channel = 'webhook' AND recipient = $1 AND status = 'pending'",
                vec![Arg::Text(id.to_string())],
            ),
        ])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) == 1)
}

/// A notice with its delivery.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Notice {
    pub id: String,
    pub outbox_id: i64,
    pub case_id: String,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub target: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub not_before: i64,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_at: i64,
    pub delivered_at: Option<i64>,
    /// A digest's office and office-local day (`YYYY-MM-DD`); `None` for an event's notice.
    pub digest_office: Option<String>,
    pub digest_day: Option<String>,
}

const NOTICE_COLUMNS: &str = "id, outbox_id, case_id, kind, channel, recipient, target, \
    language, subject, body, created_at, not_before, status, attempts, last_error, next_at, \
    delivered_at, digest_office, digest_day";

/// The statement that records a notice, for the dispatcher's transaction (a notice already
/// made is left as it is: the same id, or a digest for the same office, day and recipient).
pub fn insert_notice(n: &Notice) -> reglament_store::side::Statement {
    (
        "INSERT INTO notices (id, outbox_id, case_id, kind, channel, recipient, target, \
         language, subject, body, created_at, not_before, status, attempts, next_at, \
         digest_office, digest_day) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', 0, $13, $14, $15) \
         ON CONFLICT DO NOTHING",
        vec![
            Arg::Text(n.id.clone()),
            Arg::Int(n.outbox_id),
            Arg::Text(n.case_id.clone()),
            Arg::Text(n.kind.clone()),
            Arg::Text(n.channel.clone()),
            Arg::Text(n.recipient.clone()),
            Arg::Text(n.target.clone()),
            Arg::Text(n.language.clone()),
            Arg::Text(n.subject.clone()),
            Arg::Text(n.body.clone()),
            Arg::Int(n.created_at),
            Arg::Int(n.not_before),
            Arg::Int(n.next_at),
            Arg::OptText(n.digest_office.clone()),
            Arg::OptText(n.digest_day.clone()),
        ],
    )
}

/// Pending notices due by `now` on `channel`, oldest first.
pub async fn due(
    store: &Store,
    channel: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<Notice>, StoreError> {
    // The text is built once; `read_side` wants a `'static` statement.
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE status = 'pending' AND channel = $1 \
             AND next_at <= $2 ORDER BY next_at, id LIMIT $3"
        )
    });
    store
        .read_side(
            sql.as_str(),
            vec![
                Arg::Text(channel.to_string()),
                Arg::Int(now),
                Arg::Int(limit),
            ],
        )
        .await
}

/// Claims a due notice for one attempt: moves its next attempt a lease ahead, if nobody moved
/// it since it was read. `false`: another sender has it.
pub async fn claim(store: &Store, n: &Notice, until: i64) -> Result<bool, StoreError> {
    let changed = store
        .write_side(vec![(
            "UPDATE notices SET next_at = $1 WHERE id = $2 AND next_at = $3 AND status = 'pending'",
            vec![
                Arg::Int(until),
                Arg::Text(n.id.clone()),
                Arg::Int(n.next_at),
            ],
        )])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) == 1)
}

/// Records a delivered attempt.
pub async fn delivered(store: &Store, id: &str, now: i64) -> Result<(), StoreError> {
    store
        .write_side(vec![(
            "UPDATE notices SET status = 'delivered', attempts = attempts + 1, \
             delivered_at = $1, last_error = NULL WHERE id = $2 AND status = 'pending'",
            vec![Arg::Int(now), Arg::Text(id.to_string())],
        )])
        .await?;
    Ok(())
}

/// Records a failed attempt: the error, and the next attempt (`None`: given up).
pub async fn attempt_failed(
    store: &Store,
    id: &str,
    error: &str,
    next_at: Option<i64>,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(1000).collect();
    let statement = match next_at {
        Some(at) => (
            "UPDATE notices SET attempts = attempts + 1, last_error = $1, next_at = $2 \
             WHERE id = $3 AND status = 'pending'",
            vec![Arg::Text(error), Arg::Int(at), Arg::Text(id.to_string())],
        ),
        None => (
            "UPDATE notices SET attempts = attempts + 1, last_error = $1, status = 'failed' \
             WHERE id = $2 AND status = 'pending'",
            vec![Arg::Text(error), Arg::Text(id.to_string())],
        ),
    };
    store.write_side(vec![statement]).await?;
    Ok(())
}

/// Notices not delivered: given up, or pending with a failed attempt or due before `stale`.
pub async fn stuck(store: &Store, stale: i64) -> Result<Vec<Notice>, StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE status = 'failed' OR (status = 'pending' \
             AND (attempts > 0 OR not_before < $1)) ORDER BY created_at, id"
        )
    });
    store.read_side(sql.as_str(), vec![Arg::Int(stale)]).await
}

/// The notices of a case, oldest first.
pub async fn of_case(store: &Store, case: &str) -> Result<Vec<Notice>, StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE case_id = $1 ORDER BY outbox_id, id")
    });
    store
        .read_side(sql.as_str(), vec![Arg::Text(case.to_string())])
        .await
}

/// Every notice, oldest first (tests and the command line).
pub async fn all(store: &Store) -> Result<Vec<Notice>, StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql =
        SQL.get_or_init(|| format!("SELECT {NOTICE_COLUMNS} FROM notices ORDER BY outbox_id, id"));
    store.read_side(sql.as_str(), Vec::new()).await
}

/// The office-days among `days` whose digests were made: `(office, day)`.
pub async fn digest_days(
    store: &Store,
    days: &[String],
) -> Result<std::collections::BTreeSet<(String, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct D {
        office: String,
        day: String,
    }
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return Ok(Default::default());
    };
    let rows: Vec<D> = store
        .read_side(
            "SELECT office, day FROM digest_days WHERE day >= $1 AND day <= $2",
            vec![Arg::Text(first.clone()), Arg::Text(last.clone())],
        )
        .await?;
    Ok(rows.into_iter().map(|d| (d.office, d.day)).collect())
}

/// The statement that records an office-day's digests as made (a second maker changes
/// nothing).
pub fn digest_day_done(
    office: &str,
    day: &str,
    now: i64,
    notices: usize,
) -> reglament_store::side::Statement {
    (
        "INSERT INTO digest_days (office, day, made_at, notices) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        vec![
            Arg::Text(office.to_string()),
            Arg::Text(day.to_string()),
            Arg::Int(now),
            Arg::Int(i64::try_from(notices).unwrap_or(i64::MAX)),
        ],
    )
}

/// The enabled users with a role at `office` itself, and their roles there: `(login, role)`,
/// by login.
pub async fn office_staff(
    store: &Store,
    office: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct StaffRow {
        login: String,
        role: String,
    }
    let rows: Vec<StaffRow> = store
        .read_side(
            "SELECT r.login, r.role FROM user_roles r JOIN users u ON u.login = r.login \
             WHERE r.office = $1 AND NOT u.disabled ORDER BY r.login, r.role",
            vec![Arg::Text(office.to_string())],
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.login, r.role)).collect())
}
