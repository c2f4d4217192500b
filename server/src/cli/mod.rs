//! One module per subcommand of `reglament`.

pub mod calendar;
pub mod find;
pub mod inspect;
pub mod render;
pub mod simulate;
pub mod validate;
