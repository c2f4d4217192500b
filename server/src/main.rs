//! The `reglament` command line: validation and inspection for analysts, the calendar,
//! simulation, the server, the database and audit tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(
    name = "reglament",
    version,
    about = "Runs government service regulations as processes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check regulation files: syntax, schema, references, the process graph, and lint.
    Validate(cli::validate::ValidateArgs),
    /// Print a regulation's roles, channels, steps and, per channel, each path with its time.
    Inspect(cli::inspect::InspectArgs),
    /// Draw the process: an SVG swimlane diagram (a lane per role), or Mermaid or DOT text.
    Render(cli::render::RenderArgs),
    /// Run one case in memory with simulated time and print its dates.
    Simulate(cli::simulate::SimulateArgs),
    /// Working-time calendar: due instants, elapsed working time, the list of days.
    #[command(subcommand)]
    Calendar(cli::calendar::CalendarCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => cli::validate::run(args),
        Command::Inspect(args) => cli::inspect::run(args),
        Command::Render(args) => cli::render::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
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
