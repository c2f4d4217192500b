//! Authentication: who is calling. Shared by the JSON API and the web interface.
//!
//! Two kinds of credential, both random 256-bit secrets of which only the SHA-256 is stored:
//! - **API tokens** (`rgt_…`, `reglament token create`), sent as `Authorization: Bearer`;
//! - **sessions** (`rgs_…`), made by signing in with a password ([`login::sign_in`]), sent as
//!   the `reglament_session` cookie by browsers, or as a bearer token by API clients.
//!
//! A request under a session cookie that changes something must prove it came from our own
//! page: the API wants the session's CSRF token in the `X-CSRF-Token` header (the API router
//! marks its requests with [`CsrfHeaderRequired`]); the web interface checks its forms' hidden
//! field with [`Principal::check_csrf`]. Bearer tokens need no CSRF token: a browser never
//! sends one on its own.
//!
//! An account whose password was set by someone else (an administrator, or the one-time
//! password of the first start) must change it before anything else: a session of such an
//! account is refused everywhere with 403 `password-change-required` except by the calls
//! that take [`SignedIn`] (who am I, change my password, sign out), and the web pages send
//! it to the change-password page. API tokens are not held back: an administrator hands
//! them out deliberately and they never use the password.
//!
//! The user behind a credential is cached for a few seconds ([`Authenticator`]), so a burst of
//! requests costs one hash and one map lookup each; disabling a user or revoking a token takes
//! effect within that time on every server process.

pub mod login;
pub mod password;
pub mod policy;
pub mod secret;
pub mod strength;
pub mod throttle;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::accounts::Accounts;
use crate::accounts::UserRecord;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chrono::{DateTime, Utc};
use reglament_runtime::Actor;

pub use policy::{Denied, Grant, Grants, TaskAction};

use crate::deputies::Acting;
use crate::problem::Problem;
use crate::state::AppState;

/// The browser session cookie.
pub const SESSION_COOKIE: &str = "reglament_session";
/// Where the API expects the CSRF token of a session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Token,
    Session {
        /// SHA-256 of the session secret (to sign out).
        secret_hash: Arc<str>,
        csrf: Arc<str>,
        /// The secret came in the cookie (a browser), not as a bearer token.
        cookie: bool,
    },
}

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub login: Arc<str>,
    pub display_name: Arc<str>,
    /// Every grant the user works with now: their own, and those they hold for someone else
    /// by a deputy rule (see [`crate::deputies`]).
    pub grants: Arc<[Grant]>,
    /// The user's own grants, without the deputy rules' (who may record rules, whose work a
    /// deputy would sign).
    pub own: Arc<[Grant]>,
    /// The roles the user holds for others by deputy rules.
    pub acting: Arc<[Acting]>,
    pub must_change_password: bool,
    pub via: Via,
}

impl Principal {
    /// The rules over this user's grants.
    pub fn grants(&self) -> Grants<'_> {
        Grants {
            login: &self.login,
            grants: &self.grants,
        }
    }

    /// The rules over the user's own grants, without what deputy rules give them.
    pub fn own_grants(&self) -> Grants<'_> {
        Grants {
            login: &self.login,
            grants: &self.own,
        }
    }

    /// The actor to record when this user acts in `actor.role` on a task at `office` held by
    /// `holder` (claimed by them, or handed to them): acting for the holder when a deputy rule
    /// covers that role and office for them; otherwise, acting for a principal when the user
    /// holds the role only by a deputy rule. A rule that has ended counts only for a task the
    /// user holds themselves (they finish what they took on).
    pub fn deputy_actor(&self, actor: Actor, office: &str, holder: Option<&str>) -> Actor {
        let covers = |a: &&Acting| *a.role == *actor.role && *a.office == *office;
        let mut rules = self.acting.iter().filter(covers);
        let for_holder = rules
            .clone()
            .find(|a| a.in_force && holder == Some(&*a.principal));
        if let Some(a) = for_holder {
            return Actor::on_behalf(&*actor.user, &*actor.role, &a.principal);
        }
        let own = self.own_grants().holds(&actor.role, office);
        let by_rule = if holder == Some(&*self.login) {
            rules.next()
        } else {
            rules.find(|a| a.in_force)
        };
        match by_rule {
            Some(a) if !own => Actor::on_behalf(&*actor.user, &*actor.role, &a.principal),
            _ => actor,
        }
    }

    /// The CSRF token forms must carry (sessions only).
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Token => None,
        }
    }

    /// Whether a change may be made on behalf of this caller with this CSRF token: always
    /// for bearer credentials, for a cookie session only with the session's token.
    /// Whether this caller must change their password before anything else: a session of
    /// an account whose password someone else set.
    pub fn held_for_password_change(&self) -> bool {
        self.must_change_password && matches!(self.via, Via::Session { .. })
    }

    pub fn check_csrf(&self, supplied: Option<&str>) -> bool {
        match &self.via {
            Via::Session {
                csrf, cookie: true, ..
            } => supplied.is_some_and(|s| secret::constant_time_eq(s, csrf)),
            _ => true,
        }
    }

    fn from_user(user: UserRecord, acting: Vec<Acting>, via: Via) -> Principal {
        let own: Vec<Grant> = user
            .grants
            .iter()
            .map(|g| Grant::new(&g.role, (g.office != "*").then_some(g.office.as_str())))
            .collect();
        let mut grants = own.clone();
        for a in &acting {
            let g = a.grant();
            if !grants.contains(&g) {
                grants.push(g);
            }
        }
        Principal {
            login: Arc::from(user.login.as_str()),
            display_name: Arc::from(user.display_name.as_str()),
            grants: grants.into(),
            own: own.into(),
            acting: acting.into(),
            must_change_password: user.must_change_password,
            via,
        }
    }
}

/// Request extension set by the API router: a cookie session must send the CSRF header on
/// requests that change something.
#[derive(Debug, Clone, Copy)]
pub struct CsrfHeaderRequired;

struct Cached {
    principal: Principal,
    at: Instant,
}

/// Resolves credentials to users, with a short-lived cache.
pub struct Authenticator {
    accounts: Accounts,
    ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
}

/// Entries kept before the cache is cleared wholesale (a cheap bound; it refills in one TTL).
const CACHE_CAP: usize = 50_000;

impl Authenticator {
    pub fn new(accounts: Accounts, ttl: Duration) -> Authenticator {
        Authenticator {
            accounts,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached credential (after an account changed).
    pub fn forget_all(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Forgets one credential (after signing out).
    pub fn forget(&self, secret_hash: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(secret_hash);
        }
    }

    fn cached(&self, hash: &str) -> Option<Principal> {
        let c = self.cache.lock().ok()?;
        let e = c.get(hash)?;
        (e.at.elapsed() < self.ttl).then(|| e.principal.clone())
    }

    fn remember(&self, hash: String, principal: &Principal) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_CAP {
                c.clear();
            }
            c.insert(
                hash,
                Cached {
                    principal: principal.clone(),
                    at: Instant::now(),
                },
            );
        }
    }

    /// The caller of a request, from its bearer token or session cookie.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<Principal, Problem> {
        let (secret, cookie) = match credential(headers)? {
            Some(c) => c,
            None => {
                return Err(Problem::unauthorized(
                    "sign in: send `Authorization: Bearer <token>` (see `reglament token create`) or the session cookie",
                ));
            }
        };
        let hash = secret::sha256_hex(&secret);
        if let Some(p) = self.cached(&hash) {
            return Ok(p);
        }
        let principal = if secret.starts_with(secret::SESSION_PREFIX) {
            let Some(session) = self.accounts.session(&hash, now).await? else {
                return Err(Problem::unauthorized(
                    "the session has ended or was never valid; sign in again",
                ));
            };
            let via = Via::Session {
                secret_hash: Arc::from(hash.as_str()),
                csrf: Arc::from(session.csrf_token.as_str()),
                cookie,
            };
            self.user(&session.login, via, now).await?
        } else {
            let Some(token) = self.accounts.token(&hash, now).await? else {
                return Err(Problem::unauthorized(
                    "the token is unknown, revoked or expired",
                ));
            };
            self.user(&token.login, Via::Token, now).await?
        };
        self.remember(hash, &principal);
        Ok(principal)
    }

    async fn user(&self, login: &str, via: Via, now: DateTime<Utc>) -> Result<Principal, Problem> {
        match self.accounts.user(login).await? {
            Some(u) if !u.disabled => {
                let acting = crate::deputies::acting(self.accounts.store(), login, now).await?;
                Ok(Principal::from_user(u, acting, via))
            }
            _ => Err(Problem::unauthorized("the account is disabled")),
        }
    }
}

/// The secret of a request and whether it came in the cookie. A malformed `Authorization`
/// header is an error rather than "no credential", so that a typo is not silently ignored.
fn credential(headers: &HeaderMap) -> Result<Option<(String, bool)>, Problem> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default();
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        return match token {
            Some(t) => Ok(Some((t.to_string(), false))),
            None => Err(Problem::unauthorized(
                "the Authorization header must be `Bearer <token>`",
            )),
        };
    }
    Ok(session_cookie(headers).map(|s| (s, true)))
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The caller, authenticated and (for a cookie session changing something through the API)
/// CSRF-checked, whether or not their password must be changed first.
async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Principal, Problem> {
    if let Some(p) = parts.extensions.get::<Principal>() {
        return Ok(p.clone());
    }
    let principal = state.auth.authenticate(&parts.headers, state.now()).await?;
    if parts.extensions.get::<CsrfHeaderRequired>().is_some() && changes_something(&parts.method) {
        let supplied = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !principal.check_csrf(supplied) {
            return Err(Problem::forbidden(
                "csrf",
                "a change under a browser session needs the session's X-CSRF-Token header",
            ));
        }
    }
    parts.extensions.insert(principal.clone());
    Ok(principal)
}

/// The answer to a session that must change its password first.
pub fn password_change_required() -> Problem {
    Problem::forbidden(
        "password-change-required",
        "the password of this account was set by someone else: change it first (PUT /api/v1/me/password)",
    )
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = resolve(parts, state).await?;
        if principal.held_for_password_change() {
            return Err(password_change_required());
        }
        Ok(principal)
    }
}

/// The caller even while their password must be changed: for the few calls that stay open
/// then (who am I, change my password, sign out).
#[derive(Debug, Clone)]
pub struct SignedIn(pub Principal);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        resolve(parts, state).await.map(SignedIn)
    }
}

/// The caller if signed in, for pages that show a sign-in form otherwise.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybePrincipal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(MaybePrincipal(Some(p.clone())));
        }
        let p = state
            .auth
            .authenticate(&parts.headers, state.now())
            .await
            .ok();
        if let Some(p) = &p {
            parts.extensions.insert(p.clone());
        }
        Ok(MaybePrincipal(p))
    }
}

impl From<Denied> for Problem {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Hidden => Problem::not_found("no such case, or it is not visible to you"),
            Denied::Forbidden { code, reason } => Problem::forbidden(code, reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_come_from_the_bearer_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert!(matches!(credential(&h), Ok(None)));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; reglament_session=rgs_x; c=d"),
        );
        assert_eq!(credential(&h).ok().flatten(), Some(("rgs_x".into(), true)));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer rgt_y"),
        );
        assert_eq!(credential(&h).ok().flatten(), Some(("rgt_y".into(), false)));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(credential(&h).is_err());
    }
}
