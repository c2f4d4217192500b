//! The `reglament` command line: validation and inspection for analysts, the calendar,
//! simulation, the server, the database and audit tools.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

// glibc's allocator took a fifth of the server's CPU under load (many small, short-lived
// allocations crossing threads: requests, events, rows); mimalloc is built for that pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Draw the process: an SVG swimlane diagram (a lane per role), Mermaid or DOT text, or
    /// BPMN 2.0 with its diagram.
    Render(cli::render::RenderArgs),
    /// Read a BPMN 2.0 file back into a YAML draft of a regulation; what is not supported is
    /// listed with its line, what BPMN lacks is marked for `reglament validate`.
    ImportBpmn(cli::import_bpmn::ImportBpmnArgs),
    /// What a new version of a regulation changes: steps, durations, terms, outcomes,
    /// conditions, forms, roles, channels, with `file:line` of both sides (text, JSON or HTML).
    /// Exit status 0: no changes, 1: changes, 2: error.
    Diff(cli::diff::DiffArgs),
    /// Move the open cases of a regulation version onto another by a migration plan (one
    /// `case_migrated` event each); `--dry-run` shows each case's due instants before and
    /// after and changes nothing. Exit status 1 when a selected case could not move.
    Migrate(cli::migrate::MigrateArgs),
    /// Run one case in memory with simulated time and print its dates.
    Simulate(cli::simulate::SimulateArgs),
    /// Working-time calendar: due instants, elapsed working time, the list of days.
    #[command(subcommand)]
    Calendar(cli::calendar::CalendarCommand),
    /// Run the HTTP server: the API, the bundled regulations, the timer that fires deadlines.
    Serve(cli::serve::ServeArgs),
    /// The database: `migrate`, `rebuild` the projections from the log, `verify` the chains,
    /// `status`.
    #[command(subcommand)]
    Db(cli::db::DbCommand),
    /// Manage accounts: add, list, disable, enable, set a password.
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Manage API tokens: create, list, revoke.
    #[command(subcommand)]
    Token(cli::token::TokenCommand),
    /// Replay a case: check its hash chain, fold its events again on its pinned regulation and
    /// calendar, compare with the stored state, and show its timeline against the statutory
    /// times; `--at T` for the state at an instant, `--against DRAFT.yaml` for a what-if.
    Replay(cli::replay::ReplayArgs),
    /// Audit the database: `verify` checks every hash chain.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// Reports: `compliance` with statutory terms per regulation, office, step and case.
    #[command(subcommand)]
    Report(cli::report::ReportCommand),
    /// Export the event log: XES for process mining, CSV, JSON lines with hashes, OCEL 2.0.
    Export(cli::export::ExportArgs),
    /// Notifications stuck on their way: outbox rows not dispatched, notices not delivered
    /// (with attempts and the last error); exit status 1 when any.
    Outbox(cli::outbox::OutboxArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        quiet_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Validate(args) => cli::validate::run(args),
        Command::Inspect(args) => cli::inspect::run(args),
        Command::Render(args) => cli::render::run(args),
        Command::ImportBpmn(args) => cli::import_bpmn::run(args),
        Command::Diff(args) => cli::diff::run(args),
        Command::Migrate(args) => cli::migrate::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Calendar(cmd) => cli::calendar::run(cmd),
        Command::Serve(args) => cli::serve::run(args),
        Command::Db(cmd) => cli::db::run(cmd),
        Command::User(cmd) => cli::user::run(cmd),
        Command::Token(cmd) => cli::token::run(cmd),
        Command::Replay(args) => cli::replay::run(args),
        Command::Audit(cmd) => cli::audit::run(cmd),
        Command::Report(cmd) => cli::report::run(cmd),
        Command::Export(args) => cli::export::run(args),
        Command::Outbox(args) => cli::outbox::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Rust ignores SIGPIPE, so `reglament inspect ID | head` would panic when `head` closes the
/// pipe; a command-line tool should stop quietly instead, as `cat` and `grep` do. The server
/// keeps the default of Rust: a peer closing a socket is an error to handle, not a reason to die.
fn quiet_on_closed_pipe() {
    // Called once at start-up, before any thread exists (what `sigpipe::reset` asks).
    sigpipe::reset();
}
