//! One module per subcommand of `reglament`.

pub mod audit;
pub mod calendar;
pub mod db;
pub mod diff;
pub mod export;
pub mod find;
pub mod import_bpmn;
pub mod inspect;
pub mod migrate;
pub mod outbox;
pub mod render;
pub mod replay;
pub mod report;
pub mod serve;
pub mod simulate;
pub mod token;
pub mod user;
pub mod validate;
