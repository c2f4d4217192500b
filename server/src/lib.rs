//! The Reglament server: role-based task inboxes over HTTP with authentication, office
//! scoping and an OpenAPI contract, on the engine's durable store.
//!
//! - [`access`] — which case a caller may see (the API and the web ask the same question);
//! - [`accounts`] — users, grants, tokens, sessions and idempotency keys in the store's database;
//! - [`app`] — state, start-up, the router, serving with graceful shutdown;
//! - [`config`] — settings (flags and environment variables of `reglament serve`);
//! - [`auth`] — credentials (tokens, sessions, passwords) and the access policy, shared with
//!   the web interface;
//! - [`api`] — the JSON API under `/api/v1` and its OpenAPI document;
//! - [`problem`] — every error as `application/problem+json`;
//! - [`headers`] — the security headers of every answer (CSP, nosniff, referrer policy);
//! - [`limits`] — the length of free text in forms and requests;
//! - [`idempotency`] — `Idempotency-Key` on state-changing requests;
//! - [`metrics`] — Prometheus metrics;
//! - [`migration_requests`] — migrations of running cases proposed by an analyst and approved
//!   by a second person (the API's `/api/v1/migrations` and the `/migrations` pages);
//! - [`notify`] — notifications by e-mail and webhook from the store's outbox, and the
//!   public status page's lookup;
//! - [`timer`] — the clock and the worker that fires deadlines;
//! - [`calendar_horizon`] — how far the working calendars reach (start-up log, `/healthz`,
//!   `/metrics`);
//! - [`demo`] — demo accounts and cases;
//! - [`versions`] — which version of a regulation a registration starts on (the one in force
//!   on the day where the office is), and the refusal when none is;
//! - [`web`] — the web interface (server-rendered pages in kk/ru/en).

#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod calendar_horizon;
pub mod checkpoints;
pub mod config;
pub mod demo;
pub mod demo_history;
pub mod deputies;
pub mod headers;
pub mod idempotency;
pub mod interventions;
pub mod limits;
pub mod metrics;
pub mod migration_requests;
pub mod notify;
pub mod problem;
pub mod routing;
pub mod state;
pub mod timer;
pub mod versions;
pub mod views;
pub mod web;

pub use app::Started;
pub use config::Config;
pub use state::AppState;
