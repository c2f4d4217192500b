//! `reglament user add|list|disable|enable|password`: accounts without the web interface.
//!
//! The commands open the database directly (migrating it if needed). With SQLite they may run
//! while the server runs; the server notices a change within its credential cache time (10 s).
//!
//! A password set here was chosen by someone other than the account's owner, so the owner
//! must change it at their next sign-in; `user password` also ends the account's sessions.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use reglament_calendar::Calendars;
use reglament_server::accounts::{self, Accounts};
use reglament_server::accounts::{GrantRecord, NewUser};
use reglament_server::auth::policy::{GLOBAL_ROLES, Grant};
use reglament_server::auth::{password, secret, strength};
use reglament_store::StoreOptions;

/// Which database.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Database URL (default: `sqlite:<data>/reglament.db`).
    #[arg(long, env = "REGLAMENT_DB")]
    pub db: Option<String>,
    /// The data folder of the default SQLite database.
    #[arg(long, env = "REGLAMENT_DATA", default_value = "data")]
    pub data: PathBuf,
}

impl DbArgs {
    pub fn url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| super::serve::default_db(&self.data))
    }

    /// Runs `f` with the accounts of the database, and closes it after.
    pub fn with_accounts<T>(
        &self,
        f: impl AsyncFnOnce(&Accounts) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let url = self.url();
        runtime.block_on(async move {
            let store = accounts::open_store(&url, StoreOptions::default())
                .await
                .with_context(|| format!("cannot open the database {url}"))?;
            let result = f(&Accounts::new(store.clone())).await;
            store.close().await;
            result
        })
    }
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and printed once.
    Add {
        /// The login: letters, digits, `.`, `_`, `-`, `@`.
        login: String,
        /// A role in an office, `ROLE@OFFICE`, or `ROLE` for every office (analyst, auditor,
        /// administrator, system roles such as `portal`). Repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The name shown in the interface (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The regulations folder, to check office names.
        #[arg(long, env = "REGLAMENT_REGULATIONS", default_value = "regulations")]
        regulations: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the accounts with their roles.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account: its tokens and sessions stop working.
    Disable {
        login: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled account again.
    Enable {
        login: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password (generated and printed once, unless --password-stdin).
    Password {
        login: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn read_password(login: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if let Err(w) = strength::check(&p, login) {
        bail!("{w}");
    }
    Ok(p)
}

/// The password to set and whether it was generated.
fn password_from(stdin: bool, login: &str) -> anyhow::Result<(String, bool)> {
    if stdin {
        Ok((read_password(login)?, false))
    } else {
        Ok((secret::new_password()?, true))
    }
}

fn grants(roles: &[String], regulations: &std::path::Path) -> anyhow::Result<Vec<GrantRecord>> {
    let calendars = Calendars::load(regulations).ok();
    if calendars.is_none() {
        eprintln!(
            "warning: cannot load the offices under {}; office names are not checked",
            regulations.display()
        );
    }
    let mut out = Vec::new();
    for text in roles {
        let Some(g) = Grant::parse(text) else {
            bail!("`{text}` is not ROLE@OFFICE or ROLE");
        };
        if let Some(office) = &g.office {
            if GLOBAL_ROLES.contains(&&*g.role) {
                bail!(
                    "`{}` is held for every office: write `--role {}`",
                    text,
                    g.role
                );
            }
            if let Some(c) = &calendars {
                c.office(office)
                    .map_err(|e| anyhow::anyhow!("{text}: {e}"))?;
            }
        }
        out.push(GrantRecord {
            role: g.role.to_string(),
            office: g.office_text().to_string(),
        });
    }
    Ok(out)
}

pub fn run(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            login,
            roles,
            name,
            password_stdin,
            regulations,
            db,
        } => {
            if !reglament_server::api::users::valid_login(&login) {
                bail!("`{login}`: a login is 1 to 64 letters, digits, `.`, `_`, `-` or `@`");
            }
            let grants = grants(&roles, &regulations)?;
            let (password_text, generated) = password_from(password_stdin, &login)?;
            let hash = password::hash_blocking(&password_text, password::Cost::Standard)?;
            let user = NewUser {
                login: login.clone(),
                display_name: name.unwrap_or_else(|| login.clone()),
                password_hash: Some(hash),
                must_change_password: true,
                grants,
                created_by: "reglament user add".to_string(),
            };
            db.with_accounts(async |store| {
                store.create_user(&user, chrono::Utc::now()).await?;
                Ok(())
            })?;
            println!(
                "created `{login}` ({}); the password is to be changed at the first sign-in",
                roles.join(", ")
            );
            if generated {
                println!("password (shown once): {password_text}");
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List { format, db } => {
            let users = db.with_accounts(async |store| Ok(store.users().await?))?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&users)?),
                Format::Text => {
                    for u in users {
                        let roles: Vec<String> = u
                            .grants
                            .iter()
                            .map(|g| format!("{}@{}", g.role, g.office))
                            .collect();
                        println!(
                            "{}{}  {}  [{}]",
                            u.login,
                            if u.disabled { " (disabled)" } else { "" },
                            u.display_name,
                            roles.join(", ")
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Disable { login, db } => {
            db.with_accounts(async |store| Ok(store.set_user_disabled(&login, true).await?))?;
            println!("disabled `{login}`");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Enable { login, db } => {
            db.with_accounts(async |store| Ok(store.set_user_disabled(&login, false).await?))?;
            println!("enabled `{login}`");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Password {
            login,
            password_stdin,
            db,
        } => {
            let (password_text, generated) = password_from(password_stdin, &login)?;
            let hash = password::hash_blocking(&password_text, password::Cost::Standard)?;
            let done = db.with_accounts(async |store| {
                Ok(store
                    .set_password(&login, &hash, true, None, &[], chrono::Utc::now())
                    .await?)
            })?;
            println!(
                "password of `{login}` set; {} session(s) ended; to be changed at the next sign-in",
                done.sessions_ended
            );
            if generated {
                println!("password (shown once): {password_text}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
