//! The server as a whole: its shared state, start-up (calendars, store, bundled regulations,
//! first accounts), the router with its middleware, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::accounts::{AccountError, GrantRecord, NewUser};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use reglament_calendar::Calendars;
use reglament_store::{Service, StoreError, StoreOptions};

use crate::accounts::{self, Accounts};
use reglament_model::validate::{self, Known};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::password::{self, PasswordError};
use crate::auth::{Authenticator, secret};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::problem;
use crate::state::{AppState, Inner};
use crate::timer::{Clock, Timer};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the calendars and offices under {root} do not load:\n{errors}")]
    Calendars { root: String, errors: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Random(#[from] secret::RandomError),
    #[error("demo data: {0}")]
    Demo(String),
    #[error(transparent)]
    CheckpointKey(#[from] crate::checkpoints::KeyError),
}

/// The outcome of deploying one bundled regulation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundledDeploy {
    pub file: String,
    /// `id vN`, or why the file was skipped.
    pub result: Result<(String, u32, bool), String>,
}

/// What start-up did, for the operator.
#[derive(Debug)]
pub struct Started {
    pub state: AppState,
    /// The first administrator's password, when this start created it (shown once).
    pub first_admin_password: Option<String>,
    pub deployed: Vec<BundledDeploy>,
    pub demo_users: usize,
    pub demo_cases: usize,
}

/// The login of the administrator made on a first start.
pub const FIRST_ADMIN: &str = "admin";

/// Opens everything the server needs: calendars, the store (migrated), the bundled
/// regulations (deployed), and the first accounts.
pub async fn open(config: Config, clock: Clock) -> Result<Started, StartError> {
    let calendars =
        Calendars::load(&config.regulations).map_err(|errors| StartError::Calendars {
            root: config.regulations.display().to_string(),
            errors: errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        })?;
    let options = StoreOptions {
        pool_size: config.db_pool,
        ..StoreOptions::default()
    };
    let store = accounts::open_store(&config.db, options).await?;
    let accounts = Accounts::new(store.clone());
    let service = Service::new(store.clone(), Arc::new(calendars.clone()))
        .with_cache_capacity(config.case_cache);
    let mut offices: Vec<String> = calendars.offices().map(|o| o.data.id.clone()).collect();
    offices.sort();
    let known = Known {
        regions: calendars.regions().map(|r| r.id().to_string()).collect(),
        calendars: calendars.nationals().map(|c| c.id().to_string()).collect(),
        days: calendars.day_lengths(),
    };
    let auth = Authenticator::new(accounts.clone(), config.auth_cache_ttl);
    let signer = match &config.checkpoints {
        Some(c) => Some(Arc::new(crate::checkpoints::Signer::open(&c.key)?)),
        None => None,
    };
    let state = AppState::new(Inner {
        signer,
        config,
        store,
        accounts,
        service,
        calendars,
        clock,
        metrics: Metrics::default(),
        auth,
        offices,
        known,
        task_facts: Default::default(),
        status_limiter: Default::default(),
    });
    crate::calendar_horizon::log_warnings(&state.calendars, state.now());
    let deployed = if state.config.deploy_bundled {
        deploy_bundled(&state).await
    } else {
        Vec::new()
    };
    let mut started = Started {
        state: state.clone(),
        first_admin_password: None,
        deployed,
        demo_users: 0,
        demo_cases: 0,
    };
    if state.config.demo {
        let (users, cases) = crate::demo::load(&state).await?;
        started.demo_users = users;
        started.demo_cases = cases;
    } else if state.accounts.user_count().await? == 0 {
        started.first_admin_password = Some(create_first_admin(&state).await?);
    }
    Ok(started)
}

/// Makes `admin` (administrator for every office) with a random password it must change.
async fn create_first_admin(state: &AppState) -> Result<String, StartError> {
    let password_text = secret::new_password()?;
    let hash = password::hash(password_text.clone(), state.config.password_cost).await?;
    let user = NewUser {
        login: FIRST_ADMIN.to_string(),
        display_name: "Administrator".to_string(),
        password_hash: Some(hash),
        must_change_password: true,
        grants: vec![GrantRecord {
            role: crate::auth::policy::ADMINISTRATOR.to_string(),
            office: "*".to_string(),
        }],
        created_by: "reglament serve (first start)".to_string(),
    };
    match state.accounts.create_user(&user, state.now()).await {
        Ok(()) => Ok(password_text),
        // Another process sharing the database made it first.
        Err(AccountError::UserExists(_)) => Ok(String::new()),
        Err(e) => Err(e.into()),
    }
}

/// Deploys every regulation file under the regulations folder. Deploying is idempotent by
/// digest; a file changed with a higher version becomes the new latest version, and cases
/// already running stay on the version they started on. A file that does not validate, or
/// that changed without a new version number, is skipped with a message.
pub async fn deploy_bundled(state: &AppState) -> Vec<BundledDeploy> {
    let files = match validate::regulation_files(std::slice::from_ref(&state.config.regulations)) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the bundled regulations");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for path in files {
        let file = path.display().to_string();
        let result = deploy_file(state, &path, &file).await;
        match &result {
            Ok((id, version, true)) => tracing::info!(%file, %id, version, "deployed"),
            Ok((id, version, false)) => tracing::debug!(%file, %id, version, "already deployed"),
            Err(why) => tracing::warn!(%file, "not deployed: {why}"),
        }
        out.push(BundledDeploy { file, result });
    }
    out
}

async fn deploy_file(
    state: &AppState,
    path: &std::path::Path,
    file: &str,
) -> Result<(String, u32, bool), String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let report = validate::check_str(&source, file, Some(&state.known));
    if let Some(first) = report.diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!(
            "{} error(s), the first: {}",
            report.errors(),
            first.header()
        ));
    }
    let (deployed, _) = state
        .store
        .deploy_validated(report, "reglament (bundled)", state.now())
        .await
        .map_err(|e| e.to_string())?;
    Ok((deployed.id, deployed.version, deployed.new))
}

/// The whole HTTP surface: the API (with its OpenAPI document), `/healthz`, `/metrics`, and
/// the web interface.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let api = Router::new()
        .merge(crate::api::router(state.clone()))
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::middleware::from_fn(problem::ensure_problem_json));
    // The web pages answer their errors as HTML pages, so they sit outside the API's
    // problem+json layer.
    Router::new()
        .merge(api)
        .merge(crate::web::router())
        // Outside the API's layer: a browser gets the 404 page, the API problem+json.
        .fallback(crate::web::fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        // Outermost: even a panic's answer carries them.
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .with_state(state)
}

/// The router of the metrics address (`--metrics-listen`): `/metrics` without a token, and
/// `/healthz`. Whoever reaches this address may read them; bind it where only monitoring does.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(crate::api::system::exposition),
        )
        .route("/healthz", axum::routing::get(crate::api::system::healthz))
        .fallback(problem::not_found)
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops accepting connections, lets the requests in
/// flight finish (up to the configured grace), stops the timer after its current round and
/// closes the store (the SQLite writer commits what it was given first). No case is ever
/// half-written: every command is one transaction.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_all(state, listener, None, shutdown).await
}

/// [`serve`], plus the metrics address (`--metrics-listen`) on `metrics` when given.
pub async fn serve_all(
    state: AppState,
    listener: TcpListener,
    metrics: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timer = state
        .config
        .tick_interval
        .map(|every| Timer::spawn(state.clone(), every));
    let checkpointer = state
        .signer
        .clone()
        .zip(state.config.checkpoints.as_ref().map(|c| c.interval))
        .map(|(signer, every)| {
            crate::checkpoints::Checkpointer::spawn(state.clone(), signer, every)
        });
    let notifier = state
        .config
        .notify
        .clone()
        .map(|c| crate::notify::Notifier::spawn(state.clone(), c));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let metrics_server = metrics.map(|l| {
        let mut stopping = stopping_rx.clone();
        let app = metrics_router(state.clone());
        tokio::spawn(async move {
            axum::serve(l, app)
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|s| *s).await;
                })
                .await
        })
    });
    let grace = state.config.shutdown_grace;
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        let _ = stopping_tx.send(true);
        let _ = drained_tx.send(());
    });
    let result = tokio::select! {
        r = server => r,
        _ = async {
            let _ = drained_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "requests still in flight after the grace period; closing anyway");
            Ok(())
        }
    };
    if let Some(m) = metrics_server {
        // It stops with the main server (its sender is gone once that one is).
        if tokio::time::timeout(grace, m).await.is_err() {
            tracing::warn!("the metrics address did not stop in time");
        }
    }
    if let Some(t) = timer {
        t.stop().await;
    }
    if let Some(n) = notifier {
        n.stop().await;
    }
    // Last: the heads as the shutdown leaves them.
    if let Some(c) = checkpointer {
        c.stop().await;
    }
    state.store.close().await;
    tracing::info!("stopped");
    result
}
