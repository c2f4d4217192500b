//! Running cases: commands in, events out, state as the fold of events, and an in-memory
//! engine that keeps every open deadline in an ordered index.
//!
//! - [`decide`] — the pure state machine: `(state, command, now) → events`;
//! - [`state`] — [`CaseState`], the fold of a case's events;
//! - [`engine`] — [`Engine`], many cases in memory with the deadline index behind `tick`.

#![forbid(unsafe_code)]

pub mod command;
pub mod decide;
pub mod engine;
pub mod event;
pub mod migrate;
pub mod simulate;
pub mod state;

pub use command::{Command, CommandError, FieldError, FieldRule};
pub use decide::{Ctx, reschedule, reschedule_at, tick_at, warning_instants};
pub use engine::{Clocks, Engine, EngineError, NewCase, Ticked};
pub use event::{
    Actor, CaseId, Deadline, DeadlineTarget, Event, EventKind, Intervention, MigratedTask, Moved,
    TaskId, Warning,
};
pub use migrate::{MigrateError, migrate};
pub use state::{CaseState, CaseStatus, FoldError, Incident, Suspended, Task, TaskStatus};

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_clock;
#[cfg(test)]
mod tests_migrate;
#[cfg(test)]
mod tests_offices;
