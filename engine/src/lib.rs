//! Reglament's engine: the regulation model and its loader, the working-time calendar,
//! the case runtime, the durable store and the audit tools.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of modules and the data flow.

pub mod calendar;
pub mod duration;
pub mod model;
pub mod schema;
pub mod text;

pub use duration::{Term, Unit};
pub use text::{Lang, Text};
