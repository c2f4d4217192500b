//! The server's side of signed checkpoints ([`reglament_audit::checkpoint`]): the signing key
//! in a file outside the database (made on first start), and a checkpoint of every chain head
//! at a fixed interval and at shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use reglament_audit::checkpoint::{self, Covered};
use reglament_store::{Store, StoreError};
use tokio::sync::{Mutex, watch};

use crate::auth::secret;
use crate::state::AppState;

/// Where the key lives and how often to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// The signing key's file (64 hex digits of the Ed25519 seed); made when missing.
    pub key: PathBuf,
    pub interval: Duration,
}

/// Why the key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the checkpoint signing key {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the checkpoint signing key {0} is not 64 hex digits")]
    Malformed(String),
    #[error(transparent)]
    Random(#[from] secret::RandomError),
}

/// Why a checkpoint could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored checkpoint does not read: {0}")]
    Unreadable(#[from] serde_json::Error),
}

/// The signing key, and what the checkpoints stored so far cover.
pub struct Signer {
    key: SigningKey,
    pub path: PathBuf,
    /// This start made the key.
    pub created: bool,
    covered: Mutex<Option<Covered>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("path", &self.path)
            .field("public_key", &self.public_key())
            .finish()
    }
}

/// Reads the key file.
pub fn read_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    checkpoint::signing_key(&text).ok_or_else(|| KeyError::Malformed(path.display().to_string()))
}

impl Signer {
    /// The key in `path`, made (readable by its owner only) when the file does not exist.
    pub fn open(path: &Path) -> Result<Signer, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let (key, created) = if path.exists() {
            (read_key(path)?, false)
        } else {
            let seed: [u8; 32] = secret::random_bytes(32)?
                .try_into()
                .map_err(|_| KeyError::Malformed(path.display().to_string()))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            write_private(path, &format!("{}\n", secret::hex(&seed))).map_err(io)?;
            (SigningKey::from_bytes(&seed), true)
        };
        Ok(Signer {
            key,
            path: path.to_path_buf(),
            created,
            covered: Mutex::new(None),
        })
    }

    /// The public key, hex: what an auditor keeps to check the checkpoints with.
    pub fn public_key(&self) -> String {
        secret::hex(self.key.verifying_key().as_bytes())
    }

    /// Signs and stores a checkpoint of every head that changed since the last one. `None`
    /// when nothing changed, or when another server stored that number first (the next round
    /// starts from what it stored).
    pub async fn checkpoint(
        &self,
        store: &Store,
        at: DateTime<Utc>,
    ) -> Result<Option<checkpoint::Checkpoint>, CheckpointError> {
        let mut covered = self.covered.lock().await;
        if covered.is_none() {
            let stored = store.checkpoints().await?;
            *covered = Some(Covered::from_stored(&stored)?);
        }
        let Some(c) = covered.as_mut() else {
            return Ok(None);
        };
        let heads = store.heads().await?;
        let Some(next) = checkpoint::next(c, &heads, &self.key, at) else {
            return Ok(None);
        };
        match store.append_checkpoint(next.number, at, &next.body()).await {
            Ok(()) => {
                c.record(&next);
                Ok(Some(next))
            }
            Err(StoreError::CheckpointTaken(_)) => {
                *covered = None;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// The background task: a checkpoint every `interval`, and one more when it is stopped.
pub struct Checkpointer {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    pub fn spawn(state: AppState, signer: Arc<Signer>, interval: Duration) -> Checkpointer {
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => round(&state, &signer).await,
                    _ = stopping.changed() => break,
                }
            }
            round(&state, &signer).await;
        });
        Checkpointer { stop, task }
    }

    /// Signs a last checkpoint and stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn round(state: &AppState, signer: &Signer) {
    match signer.checkpoint(&state.store, state.now()).await {
        Ok(Some(c)) => tracing::info!(
            number = c.number,
            cases = c.cases,
            changed = c.changed.len(),
            root = %c.root,
            "checkpoint signed"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot sign a checkpoint"),
    }
}
