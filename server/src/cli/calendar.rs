//! `reglament calendar ...` (placeholder: being written).

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum CalendarCommand {}

pub fn run(cmd: CalendarCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
