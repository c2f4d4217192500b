//! The regulation format: the YAML front end with its `file:line:column` diagnostics, the
//! typed model and its JSON Schema, validation and lint, the compiled [`compile::Process`],
//! branch conditions, the drawings of a process ([`render`]) and its BPMN 2.0 interchange
//! ([`bpmn`]).
//!
//! This crate reads only the files it is given and knows nothing of cases, calendars,
//! databases or async runtimes: an editor plug-in or a CI check of a regulations repository
//! depends on it alone. See `ARCHITECTURE.md` at the repository root for the other crates.

#![forbid(unsafe_code)]

pub mod bpmn;
pub mod compile;
pub mod condition;
pub mod diagnostic;
pub mod diff;
pub mod duration;
pub mod lint;
pub mod load;
pub mod markup;
pub mod migration_plan;
pub mod model;
pub mod paths;
pub mod render;
pub mod sample;
pub mod schema;
pub mod scope;
#[doc(hidden)]
pub mod synthetic;
pub mod text;
pub mod typecheck;
pub mod validate;
pub mod yaml;

pub use duration::{Term, Unit};
pub use text::{Lang, Text};
