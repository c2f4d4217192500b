//! One module per subcommand of `reglament`.

pub mod calendar;
pub mod find;
pub mod inspect;
pub mod render;
pub mod serve;
pub mod simulate;
pub mod token;
pub mod user;
pub mod validate;
