//! One module per subcommand of `reglament`.

pub mod calendar;
