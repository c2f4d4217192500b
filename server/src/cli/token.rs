//! `reglament token create|list|revoke`: API tokens for integrations and scripts. A token is
//! printed once; only its SHA-256 is stored.

use std::process::ExitCode;

use anyhow::bail;
use chrono::Utc;
use reglament_server::auth::secret;

use super::user::DbArgs;

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token for an account and print it (once).
    Create {
        /// The account the token acts as.
        #[arg(long)]
        user: String,
        /// What the token is for (shown in lists).
        #[arg(long, default_value = "api")]
        name: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List tokens (their prefixes, never the secrets).
    List {
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke the token with this prefix (as `list` shows it).
    Revoke {
        prefix: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create {
            user,
            name,
            expires_in_days,
            db,
        } => {
            let token = secret::new_secret(secret::TOKEN_PREFIX)?;
            let hash = secret::sha256_hex(&token);
            let prefix: String = token.chars().take(secret::SHOWN_PREFIX_LEN).collect();
            let now = Utc::now();
            let expires = expires_in_days.map(|d| now + chrono::Duration::days(i64::from(d)));
            db.with_accounts(async |store| {
                store
                    .create_token(&hash, &prefix, &user, &name, now, expires)
                    .await?;
                Ok(())
            })?;
            eprintln!(
                "token `{prefix}…` for `{user}` created{}; it is shown once:",
                expires
                    .map(|e| format!(", expires {}", e.format("%Y-%m-%d")))
                    .unwrap_or_default()
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { user, db } => {
            let tokens =
                db.with_accounts(async |store| Ok(store.tokens(user.as_deref()).await?))?;
            for t in tokens {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("revoked {}", r.format("%Y-%m-%d")),
                    (None, Some(e)) if e <= Utc::now() => {
                        format!("expired {}", e.format("%Y-%m-%d"))
                    }
                    (None, Some(e)) => format!("expires {}", e.format("%Y-%m-%d")),
                    (None, None) => "active".to_string(),
                };
                println!(
                    "{}…  {}  {}  created {}  {state}",
                    t.prefix,
                    t.login,
                    t.name,
                    t.created_at.format("%Y-%m-%d")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { prefix, db } => {
            let n = db
                .with_accounts(async |store| Ok(store.revoke_token(&prefix, Utc::now()).await?))?;
            if n == 0 {
                bail!("no active token starts with `{prefix}`");
            }
            println!("revoked {n} token(s)");
            Ok(ExitCode::SUCCESS)
        }
    }
}
