//! `reglament serve`: the HTTP server with the bundled regulations, the timer and, on a first
//! start, an administrator (or, with `--demo`, demo accounts and cases).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use reglament_server::app;
use reglament_server::checkpoints::CheckpointConfig;
use reglament_server::config::Config;
use reglament_server::timer::Clock;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "REGLAMENT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB` (several servers may share
    /// one PostgreSQL database). Default: `sqlite:<data>/reglament.db`.
    #[arg(long, env = "REGLAMENT_DB")]
    pub db: Option<String>,
    /// The data folder, where the default SQLite database lives.
    #[arg(long, env = "REGLAMENT_DATA", default_value = "data")]
    pub data: PathBuf,
    /// The regulations folder: regulations (deployed at start-up), `calendars/`, `offices/`.
    #[arg(long, env = "REGLAMENT_REGULATIONS", default_value = "regulations")]
    pub regulations: PathBuf,
    /// Load demo accounts for every role in two offices of each region, and a few cases.
    #[arg(long, env = "REGLAMENT_DEMO")]
    pub demo: bool,
    /// With `--demo`: how many months of finished cases to make through the engine (0: none).
    #[arg(long, env = "REGLAMENT_DEMO_HISTORY_MONTHS", default_value_t = 6)]
    pub demo_history_months: u32,
    /// Do not deploy the regulations under the regulations folder at start-up.
    #[arg(long, env = "REGLAMENT_NO_DEPLOY")]
    pub no_deploy: bool,
    /// How often due deadlines are fired, e.g. `5s`, `1m`.
    #[arg(long, env = "REGLAMENT_TICK_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub tick_interval: Duration,
    /// Log format: `text` for people, `json` for log collectors. Levels come from RUST_LOG.
    #[arg(long, env = "REGLAMENT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Largest request body in bytes.
    #[arg(long, env = "REGLAMENT_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Database connections (SQLite readers, or the PostgreSQL pool).
    #[arg(long, env = "REGLAMENT_DB_POOL", default_value_t = 8)]
    pub db_pool: u32,
    /// How long a signed-in session lasts, e.g. `12h`.
    #[arg(long, env = "REGLAMENT_SESSION_TTL", default_value = "12h", value_parser = parse_duration)]
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (when served over HTTPS by a proxy).
    #[arg(long, env = "REGLAMENT_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    #[arg(long, env = "REGLAMENT_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Failed sign-ins of one login from one address before each further attempt from there
    /// waits (1 s, doubling up to --login-delay-max).
    #[arg(long, env = "REGLAMENT_LOGIN_FREE", default_value_t = 3)]
    pub login_free: u32,
    /// Failed sign-ins of one login from anywhere (devices it never signed in on) before each
    /// further attempt waits.
    #[arg(long, env = "REGLAMENT_LOGIN_FREE_ANY", default_value_t = 10)]
    pub login_free_any: u32,
    /// The longest wait between sign-in attempts, e.g. `15m`.
    #[arg(long, env = "REGLAMENT_LOGIN_DELAY_MAX", default_value = "15m", value_parser = parse_duration)]
    pub login_delay_max: Duration,
    /// Failed sign-ins from one client address (any login, devices unknown to it) within
    /// --login-window after which the address must wait.
    #[arg(long, env = "REGLAMENT_LOGIN_LIMIT_IP", default_value_t = 200)]
    pub login_limit_ip: u32,
    /// How far back failed sign-ins count, e.g. `1h`.
    #[arg(long, env = "REGLAMENT_LOGIN_WINDOW", default_value = "1h", value_parser = parse_duration)]
    pub login_window: Duration,
    /// Serve /metrics on the main address to `Authorization: Bearer <TOKEN>` only (at least
    /// 16 characters; prefer the environment variable, which `ps` does not show).
    #[arg(long, env = "REGLAMENT_METRICS_TOKEN", value_parser = parse_metrics_token, hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve /metrics (and /healthz) without a token on this address too, e.g.
    /// `127.0.0.1:9090`: bind it where only monitoring reaches.
    #[arg(long, env = "REGLAMENT_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// How long shutdown waits for requests in flight, e.g. `30s`.
    #[arg(long, env = "REGLAMENT_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// The Ed25519 key that signs checkpoints of every case's chain head: a file outside the
    /// database, made on first start (keep it out of the database's backups). Default:
    /// `<data>/checkpoint.key`.
    #[arg(long, env = "REGLAMENT_CHECKPOINT_KEY")]
    pub checkpoint_key: Option<PathBuf>,
    /// How often a checkpoint is signed (one more is signed at shutdown), e.g. `10m`.
    #[arg(long, env = "REGLAMENT_CHECKPOINT_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub checkpoint_interval: Duration,
    /// Sign no checkpoints (the chains are then only as good as the database's access rules).
    #[arg(long, env = "REGLAMENT_NO_CHECKPOINTS")]
    pub no_checkpoints: bool,
    /// Notifications and the public status page.
    #[command(flatten)]
    pub notify: Box<NotifyArgs>,
    /// For tests only: run as if the clock read this instant at start-up (RFC 3339); time
    /// then passes as usual. Hidden from `--help`; never set it on a real server.
    #[arg(long, env = "REGLAMENT_FAKE_NOW", hide = true, value_parser = parse_instant)]
    pub fake_now: Option<chrono::DateTime<chrono::Utc>>,
}

/// The flags of notifications (e-mail, webhooks) and of the public status page; boxed into
/// `ServeArgs` to keep the command enum small.
#[derive(clap::Args)]
pub struct NotifyArgs {
    /// The SMTP server for e-mail notices: `smtp://HOST:PORT` (no TLS: a local relay),
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS), `smtps://USER:PASSWORD@HOST:465`.
    /// Without it, e-mail notices wait (listed by `reglament outbox`). Prefer the environment
    /// variable, which `ps` does not show.
    #[arg(long, env = "REGLAMENT_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of e-mail notices, e.g. `Reglament <noreply@example.kz>`.
    #[arg(
        long,
        env = "REGLAMENT_SMTP_FROM",
        default_value = "Reglament <reglament@localhost>"
    )]
    pub smtp_from: String,
    /// Send no notifications: the outbox keeps what happened until a server that sends runs.
    #[arg(long, env = "REGLAMENT_NO_NOTIFY")]
    pub no_notify: bool,
    /// How often notifications are looked for and sent, e.g. `2s`.
    #[arg(long, env = "REGLAMENT_NOTIFY_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub notify_interval: Duration,
    /// The wait after a failed delivery; it doubles after each failure up to
    /// --notify-backoff-max.
    #[arg(long, env = "REGLAMENT_NOTIFY_BACKOFF", default_value = "10s", value_parser = parse_duration)]
    pub notify_backoff: Duration,
    #[arg(long, env = "REGLAMENT_NOTIFY_BACKOFF_MAX", default_value = "1h", value_parser = parse_duration)]
    pub notify_backoff_max: Duration,
    /// Attempts after which a notice is given up (and listed by `reglament outbox`).
    #[arg(long, env = "REGLAMENT_NOTIFY_ATTEMPTS", default_value_t = 20)]
    pub notify_attempts: u32,
    /// How long a notice being sent is kept from other servers (and, after a crash, from
    /// this one), e.g. `60s`.
    #[arg(long, env = "REGLAMENT_NOTIFY_LEASE", default_value = "60s", value_parser = parse_duration)]
    pub notify_lease: Duration,
    /// Lookups of the public status page (/status) per client address per hour.
    #[arg(long, env = "REGLAMENT_STATUS_LIMIT", default_value_t = reglament_server::web::status::DEFAULT_LIMIT)]
    pub status_limit: u32,
}

fn parse_instant(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 instant such as 2028-03-01T10:00:00+05:00: {e}")
        })
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `500ms`, `5s`, `2m`, `12h`, `1d`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 5s, 2m, 12h"))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{s}`: the unit is one of ms, s, m, h, d")),
    };
    Ok(Duration::from_secs(secs))
}

/// A metrics token: 16 to 256 visible ASCII characters.
fn parse_metrics_token(s: &str) -> Result<String, String> {
    let ok = (16..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(s.to_string())
    } else {
        Err("a metrics token is 16 to 256 visible ASCII characters".to_string())
    }
}

/// The default SQLite URL in a data folder.
pub fn default_db(data: &Path) -> String {
    format!("sqlite:{}", data.join("reglament.db").display())
}

pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    use std::io::IsTerminal as _;
    // Colour codes only for a person at a terminal: a log redirected to a file or a journal
    // stays plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

impl ServeArgs {
    pub fn config(&self) -> Config {
        let mut c = Config {
            listen: self.listen,
            db: self.db.clone().unwrap_or_else(|| default_db(&self.data)),
            regulations: self.regulations.clone(),
            deploy_bundled: !self.no_deploy,
            demo: self.demo,
            demo_history: reglament_server::demo_history::HistorySize {
                months: self.demo_history_months,
                ..Default::default()
            },
            tick_interval: Some(self.tick_interval.max(Duration::from_millis(100))),
            body_limit: self.body_limit,
            db_pool: self.db_pool.max(1),
            session_ttl: self.session_ttl,
            secure_cookies: self.secure_cookies,
            trust_forwarded_for: self.trust_forwarded_for,
            shutdown_grace: self.shutdown_grace,
            ..Config::default()
        };
        c.throttle.pair_free = self.login_free;
        c.throttle.login_free = self.login_free_any;
        c.throttle.max_delay = self.login_delay_max.max(c.throttle.first_delay);
        // Floor: a ceiling of 0 would shut every address out.
        c.throttle.per_address = self.login_limit_ip.max(1);
        c.throttle.window = self.login_window.max(Duration::from_secs(60));
        c.metrics_token = self.metrics_token.clone();
        c.metrics_listen = self.metrics_listen;
        c.status_limit = self.notify.status_limit;
        c.notify = (!self.notify.no_notify).then(|| reglament_server::notify::NotifyConfig {
            smtp_url: self.notify.smtp_url.clone().filter(|u| !u.is_empty()),
            from: self.notify.smtp_from.clone(),
            interval: self.notify.notify_interval.max(Duration::from_millis(20)),
            backoff_first: self.notify.notify_backoff,
            backoff_max: self
                .notify
                .notify_backoff_max
                .max(self.notify.notify_backoff),
            max_attempts: self.notify.notify_attempts.max(1),
            lease: self.notify.notify_lease.max(Duration::from_millis(100)),
            ..reglament_server::notify::NotifyConfig::default()
        });
        c.checkpoints = (!self.no_checkpoints).then(|| CheckpointConfig {
            key: self
                .checkpoint_key
                .clone()
                .unwrap_or_else(|| self.data.join("checkpoint.key")),
            interval: self.checkpoint_interval.max(Duration::from_secs(1)),
        });
        c
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    let config = args.config();
    let clock = match args.fake_now {
        Some(at) => {
            tracing::warn!(%at, "the clock is faked (--fake-now): for tests only");
            Clock::shifted_to(at)
        }
        None => Clock::System,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config, clock))
}

async fn serve(config: Config, clock: Clock) -> anyhow::Result<ExitCode> {
    let listen = config.listen;
    let started = app::open(config, clock)
        .await
        .context("the server cannot start")?;
    let state = started.state.clone();
    let new = started
        .deployed
        .iter()
        .filter(|d| matches!(d.result, Ok((_, _, true))))
        .count();
    let skipped = started
        .deployed
        .iter()
        .filter(|d| d.result.is_err())
        .count();
    tracing::info!(
        db = %state.store.url(),
        regulations = started.deployed.len(),
        newly_deployed = new,
        skipped,
        "store ready"
    );
    if let Some(password) = &started.first_admin_password
        && !password.is_empty()
    {
        println!(
            "\nFirst start: created the administrator `{}` with this one-time password:\n\n    {password}\n\n\
             It is not stored and will not be shown again. Sign in (POST /api/v1/session) and change it\n\
             (PUT /api/v1/me/password), or reset it with `reglament user password {}`.\n",
            app::FIRST_ADMIN,
            app::FIRST_ADMIN
        );
    }
    if state.config.demo {
        println!(
            "\nDemo: {} new account(s), {} new case(s). Every demo account's password is `{}`;\n\
             logins are listed in README.md (\"Demo accounts\"), e.g. atyrau-city.executor, analyst, admin.\n",
            started.demo_users,
            started.demo_cases,
            reglament_server::demo::DEMO_PASSWORD
        );
    }
    if let Some(signer) = &state.signer {
        if signer.created {
            println!(
                "\nFirst start: created the checkpoint signing key {}.\n\
                 Its public key is\n\n    {}\n\n\
                 Give it to your auditors (`reglament audit public-key` prints it again): with it,\n\
                 `reglament audit verify --public-key …` proves that no history was rewritten after it\n\
                 was checkpointed. Keep the key file off the database server's backups.\n",
                signer.path.display(),
                signer.public_key()
            );
        }
        tracing::info!(
            key = %signer.path.display(),
            public_key = %signer.public_key(),
            "checkpoints are signed"
        );
    }
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().unwrap_or(listen);
    let metrics = match state.config.metrics_listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for metrics on {addr}"))?;
            let at = l.local_addr().unwrap_or(addr);
            tracing::info!(address = %format!("http://{at}/metrics"), "metrics (no token)");
            println!("Metrics at http://{at}/metrics");
            Some(l)
        }
        None => None,
    };
    if state.config.metrics_token.is_none() && metrics.is_none() {
        tracing::info!("/metrics is not served: set --metrics-listen or --metrics-token");
    }
    tracing::info!(address = %format!("http://{local}"), "listening");
    println!(
        "Reglament is listening on http://{local} (API under /api/v1, OpenAPI at /api/v1/openapi.json)"
    );
    app::serve_all(state, listener, metrics, shutdown)
        .await
        .context("serving failed")?;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called (not when the
/// future is first polled), so a signal that comes right after start-up is not missed.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT received"),
                _ = terminate.recv() => tracing::info!("SIGTERM received"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    /// `reglament serve` with no arguments: loopback port 8080, SQLite in `./data`, the
    /// bundled regulations deployed, a timer, no demo accounts.
    #[test]
    fn no_arguments_mean_loopback_8080_and_sqlite_in_the_data_folder() {
        use clap::Parser as _;
        let overridden = [
            "REGLAMENT_LISTEN",
            "REGLAMENT_DB",
            "REGLAMENT_DATA",
            "REGLAMENT_REGULATIONS",
            "REGLAMENT_DEMO",
            "REGLAMENT_NO_DEPLOY",
            "REGLAMENT_TICK_INTERVAL",
            "REGLAMENT_BODY_LIMIT",
            "REGLAMENT_METRICS_TOKEN",
            "REGLAMENT_METRICS_LISTEN",
            "REGLAMENT_LOGIN_FREE",
            "REGLAMENT_LOGIN_FREE_ANY",
            "REGLAMENT_LOGIN_DELAY_MAX",
            "REGLAMENT_LOGIN_LIMIT_IP",
            "REGLAMENT_LOGIN_WINDOW",
        ];
        if overridden.iter().any(|v| std::env::var_os(v).is_some()) {
            return; // the environment configures the server; the defaults are not in play
        }
        let config = Cli::try_parse_from(["serve"])
            .expect("no arguments")
            .serve
            .config();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().expect("address"));
        assert_eq!(
            config.db,
            format!(
                "sqlite:{}",
                Path::new("data").join("reglament.db").display()
            )
        );
        assert_eq!(config.regulations, PathBuf::from("regulations"));
        assert!(config.deploy_bundled && !config.demo);
        assert_eq!(config.tick_interval, Some(Duration::from_secs(5)));
        assert_eq!(config.body_limit, 1024 * 1024);
        // Metrics are not public unless asked for.
        assert_eq!(
            (config.metrics_token.as_deref(), config.metrics_listen),
            (None, None)
        );
        assert_eq!(
            config.throttle,
            reglament_server::auth::throttle::Throttle::default()
        );

        let config = Cli::try_parse_from([
            "serve",
            "--demo",
            "--db",
            "postgres://u@127.0.0.1:5432/r",
            "--tick-interval",
            "10ms",
            "--login-limit-ip",
            "0",
            "--login-free",
            "5",
            "--metrics-listen",
            "127.0.0.1:9090",
        ])
        .expect("flags")
        .serve
        .config();
        assert!(config.demo);
        assert_eq!(config.db, "postgres://u@127.0.0.1:5432/r");
        // Floors: the timer never spins, a ceiling of 0 would shut every address out.
        assert_eq!(config.tick_interval, Some(Duration::from_millis(100)));
        assert_eq!(config.throttle.per_address, 1);
        assert_eq!(config.throttle.pair_free, 5);
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9090".parse().expect("addr"))
        );
        assert!(Cli::try_parse_from(["serve", "--tick-interval", "soon"]).is_err());
        assert!(Cli::try_parse_from(["serve", "--metrics-token", "short"]).is_err());
        // The old lock-out flag is gone rather than silently meaning something else.
        assert!(Cli::try_parse_from(["serve", "--login-limit", "5"]).is_err());
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
