//! The state every request handler shares, and the parts of it a handler that needs only
//! one can take on its own (`State<Store>`, `State<Accounts>`, through [`FromRef`]).

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use chrono::{DateTime, Utc};
use reglament_calendar::Calendars;
use reglament_model::validate::Known;
use reglament_store::{Service, Store};

use crate::accounts::Accounts;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::timer::Clock;

/// What every request handler shares.
pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub accounts: Accounts,
    pub service: Service,
    pub calendars: Calendars,
    pub clock: Clock,
    pub metrics: Metrics,
    pub auth: Authenticator,
    /// Every office id, sorted (to expand `role@*` grants).
    pub offices: Vec<String>,
    /// Regions and calendars a regulation may refer to.
    pub known: Known,
    /// The office and role of tasks already seen (fixed once a task opens).
    pub task_facts: crate::api::tasks::TaskFacts,
    /// The checkpoint signing key, when checkpoints are made.
    pub signer: Option<Arc<crate::checkpoints::Signer>>,
    /// Lookups of the public status page per client address.
    pub status_limiter: crate::web::status::Limiter,
}

/// The server's state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }

    /// The current instant: the only way request handling learns the time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.store.url())
            .finish()
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}

impl FromRef<AppState> for Accounts {
    fn from_ref(state: &AppState) -> Accounts {
        state.accounts.clone()
    }
}
