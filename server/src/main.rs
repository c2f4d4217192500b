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
    /// Run the HTTP server: the API, the bundled regulations, the timer that fires deadlines.
    Serve(cli::serve::ServeArgs),
    /// Manage accounts: add, list, disable, enable, set a password.
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Manage API tokens: create, list, revoke.
    #[command(subcommand)]
    Token(cli::token::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => cli::validate::run(args),
        Command::Inspect(args) => cli::inspect::run(args),
        Command::Render(args) => cli::render::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Calendar(cmd) => cli::calendar::run(cmd),
        Command::Serve(args) => cli::serve::run(args),
        Command::User(cmd) => cli::user::run(cmd),
        Command::Token(cmd) => cli::token::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
