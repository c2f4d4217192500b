//! The `reglament` command line: validation and inspection for analysts, the calendar,
//! simulation, the server, the database and audit tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(name = "reglament", version, about = "Runs government service regulations as processes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Working-time calendar: due instants, elapsed working time, the list of days.
    #[command(subcommand)]
    Calendar(cli::calendar::CalendarCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Calendar(cmd) => cli::calendar::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
