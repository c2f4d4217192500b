//! Reglament's engine: the regulation model and its loader, the working-time calendar,
//! the case runtime, the durable store and the audit tools.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of modules and the data flow.

pub mod audit;
pub mod calendar;
pub mod compile;
pub mod condition;
pub mod diagnostic;
pub mod duration;
pub mod lint;
pub mod load;
pub mod model;
pub mod paths;
pub mod render;
pub mod runtime;
pub mod sample;
pub mod schema;
pub mod store;
#[doc(hidden)]
pub mod synthetic;
pub mod text;
pub mod validate;
pub mod yaml;

pub use duration::{Term, Unit};
pub use text::{Lang, Text};
