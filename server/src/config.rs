//! The server's settings. `reglament serve` fills them from flags and environment variables
//! (see README, "Configuration"); tests build them directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::password::Cost;
use crate::auth::throttle::Throttle;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The database URL (`sqlite:data/reglament.db` or `postgres://…`).
    pub db: String,
    /// The regulations folder: `*.yaml` regulations, `calendars/`, `offices/`.
    pub regulations: PathBuf,
    /// Deploy the regulations found under `regulations` at start-up.
    pub deploy_bundled: bool,
    /// Load demo users (and a few demo cases) instead of creating a first administrator.
    pub demo: bool,
    /// How many months of finished cases `demo` makes (tests make fewer).
    pub demo_history: crate::demo_history::HistorySize,
    /// How often the timer fires due deadlines; `None`: never (tests tick by hand).
    pub tick_interval: Option<Duration>,
    /// Largest request body.
    pub body_limit: usize,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// How long a resolved credential is trusted before it is looked up again.
    pub auth_cache_ttl: Duration,
    /// How long a signed-in session lasts.
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// How failed sign-ins slow down further attempts.
    pub throttle: Throttle,
    /// `/metrics` on the main address answers only `Authorization: Bearer <this>`; without
    /// it, `/metrics` is not served there.
    pub metrics_token: Option<String>,
    /// A second address serving `/metrics` (and `/healthz`) without a token, for a
    /// monitoring network.
    pub metrics_listen: Option<SocketAddr>,
    /// How long an idempotency key keeps its response.
    pub idempotency_ttl: Duration,
    /// argon2 cost of new password hashes.
    pub password_cost: Cost,
    /// Database connections (SQLite readers or the PostgreSQL pool).
    pub db_pool: u32,
    /// Case states kept in memory.
    pub case_cache: usize,
    /// Signed checkpoints of every chain head; `None`: none are made (tests, unless they
    /// ask). `reglament serve` makes them by default.
    pub checkpoints: Option<crate::checkpoints::CheckpointConfig>,
    /// Notifications (e-mail, webhooks); `None`: the worker does not run and the outbox
    /// waits (tests, unless they ask). `reglament serve` runs it unless `--no-notify`.
    pub notify: Option<crate::notify::NotifyConfig>,
    /// Lookups per client address per hour on the public status page.
    pub status_limit: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "sqlite:data/reglament.db".to_string(),
            regulations: PathBuf::from("regulations"),
            deploy_bundled: true,
            demo: false,
            demo_history: Default::default(),
            tick_interval: Some(Duration::from_secs(5)),
            body_limit: 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            auth_cache_ttl: Duration::from_secs(10),
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            trust_forwarded_for: false,
            throttle: Throttle::default(),
            metrics_token: None,
            metrics_listen: None,
            idempotency_ttl: Duration::from_secs(24 * 3600),
            password_cost: Cost::Standard,
            db_pool: 8,
            case_cache: 100_000,
            checkpoints: None,
            notify: None,
            status_limit: crate::web::status::DEFAULT_LIMIT,
        }
    }
}
