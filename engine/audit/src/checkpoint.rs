//! Signed checkpoints of every case's chain head.
//!
//! The hash chain proves that an event was not changed *unless* whoever changed it also
//! recomputed every later hash and the head, which anyone with write access to the database
//! can do. A checkpoint anchors the heads outside the database's reach: the server signs, with
//! an Ed25519 key kept in a file (never in the database), the Merkle root over every case's
//! head at that moment. A history rewritten afterwards keeps a valid chain but no longer has,
//! at a checkpointed place, the hash the checkpoint covered.
//!
//! A checkpoint lists only the heads that changed since the one before (`changed`), so its
//! size follows the work done, not the number of cases; the full set at checkpoint *n* is
//! the fold of checkpoints 1…n, and its Merkle root is what checkpoint *n* signs. Checkpoints
//! are numbered from 1 and each names the hash of the one before (`prev`), so a deleted or
//! reordered checkpoint shows, and a copy exported for an auditor (JSON lines) can be checked
//! later against the database and against the public key alone.
//!
//! The Merkle tree: leaves sorted by case id, `leaf = SHA-256(0x00 ‖ len(case) as u32 BE ‖
//! case ‖ seq as u64 BE ‖ hash)`, `node = SHA-256(0x01 ‖ left ‖ right)`, an odd node carried up
//! unchanged; the root of no leaves is SHA-256 of nothing. The message signed is the canonical
//! JSON of the checkpoint without its `signature`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use reglament_store::canonical::{GENESIS, canonical, hex};
use reglament_store::{ChainHead, Store, StoredCheckpoint};

use super::AuditError;

/// The format's name, signed with every checkpoint.
pub const FORMAT: &str = "reglament-checkpoint/1";

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    /// 1, 2, 3, …
    pub number: u64,
    pub at: DateTime<Utc>,
    /// Cases covered (all of them, not only the changed ones).
    pub cases: u64,
    /// Merkle root over every case's head, hex.
    pub root: String,
    /// [`Checkpoint::id`] of the checkpoint before; zeros for the first.
    pub prev: String,
    /// The heads that changed (or appeared) since the checkpoint before, by case id.
    pub changed: Vec<ChainHead>,
    /// The signer's Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature over [`Checkpoint::message`], hex.
    pub signature: String,
}

impl Checkpoint {
    /// What is signed: the canonical JSON of everything but the signature.
    pub fn message(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("signature");
        }
        canonical(&v)
    }

    /// The checkpoint's own hash (canonical JSON, signature included): what the next one
    /// names as `prev`.
    pub fn id(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or_default();
        hex(&Sha256::digest(canonical(&v).as_bytes()))
    }

    /// The stored form: canonical JSON.
    pub fn body(&self) -> String {
        canonical(&serde_json::to_value(self).unwrap_or_default())
    }

    /// Reads a stored or exported checkpoint.
    pub fn parse(body: &str) -> Result<Checkpoint, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// The Merkle root over heads sorted by case id.
pub fn merkle_root<'a>(heads: impl IntoIterator<Item = &'a ChainHead>) -> String {
    let mut level: Vec<[u8; 32]> = heads
        .into_iter()
        .map(|h| {
            let mut d = Sha256::new();
            d.update([0u8]);
            d.update((h.case.len() as u32).to_be_bytes());
            d.update(h.case.as_bytes());
            d.update(h.seq.to_be_bytes());
            d.update(h.hash.as_bytes());
            d.finalize().into()
        })
        .collect();
    if level.is_empty() {
        return hex(&Sha256::digest([]));
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    let mut d = Sha256::new();
                    d.update([1u8]);
                    d.update(l);
                    d.update(r);
                    d.finalize().into()
                }
                [one] => *one,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    hex(&level[0])
}

/// The heads as of the last checkpoint: the fold of every checkpoint's `changed`.
#[derive(Debug, Clone, Default)]
pub struct Covered {
    pub heads: BTreeMap<String, ChainHead>,
    /// The last checkpoint's number and id.
    pub last: Option<(u64, String)>,
}

impl Covered {
    fn apply(&mut self, c: &Checkpoint) {
        for h in &c.changed {
            self.heads.insert(h.case.clone(), h.clone());
        }
        self.last = Some((c.number, c.id()));
    }
}

/// The next checkpoint over `heads` (every case's head, by case id), after what `covered`
/// holds; `None` when no head changed since (nothing new to sign). Pure: the caller stores
/// it and then [`Covered::record`]s it.
pub fn next(
    covered: &Covered,
    heads: &[ChainHead],
    key: &SigningKey,
    at: DateTime<Utc>,
) -> Option<Checkpoint> {
    let changed: Vec<ChainHead> = heads
        .iter()
        .filter(|h| covered.heads.get(&h.case) != Some(*h))
        .cloned()
        .collect();
    if changed.is_empty() && covered.last.is_some() {
        return None;
    }
    let mut all = covered.heads.clone();
    for h in &changed {
        all.insert(h.case.clone(), h.clone());
    }
    let (number, prev) = match &covered.last {
        Some((n, id)) => (n + 1, id.clone()),
        None => (1, GENESIS.to_string()),
    };
    let mut c = Checkpoint {
        format: FORMAT.to_string(),
        number,
        at,
        cases: all.len() as u64,
        root: merkle_root(all.values()),
        prev,
        changed,
        public_key: hex(key.verifying_key().as_bytes()),
        signature: String::new(),
    };
    c.signature = hex(&key.sign(c.message().as_bytes()).to_bytes());
    Some(c)
}

impl Covered {
    /// Takes a checkpoint that was stored.
    pub fn record(&mut self, c: &Checkpoint) {
        self.apply(c);
    }

    /// What the stored checkpoints cover (they are trusted here: the server made them; the
    /// auditor's check is [`verify`]).
    pub fn from_stored(stored: &[StoredCheckpoint]) -> Result<Covered, serde_json::Error> {
        let mut covered = Covered::default();
        for s in stored {
            covered.apply(&Checkpoint::parse(&s.body)?);
        }
        Ok(covered)
    }
}

/// A public key from its hex form.
pub fn public_key(hex_key: &str) -> Option<VerifyingKey> {
    let bytes = from_hex(hex_key.trim())?;
    VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A signing key from the 64 hex digits of its seed (the key file's content).
pub fn signing_key(hex_seed: &str) -> Option<SigningKey> {
    let bytes: [u8; 32] = from_hex(hex_seed.trim())?.try_into().ok()?;
    Some(SigningKey::from_bytes(&bytes))
}

/// What is wrong with the checkpoints themselves, or with a case against them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointProblem {
    /// The checkpoint concerned.
    pub checkpoint: u64,
    /// The case concerned, when it is about a case.
    pub case: Option<String>,
    pub detail: String,
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.case {
            Some(c) => write!(
                f,
                "checkpoint {}, case `{c}`: {}",
                self.checkpoint, self.detail
            ),
            None => write!(f, "checkpoint {}: {}", self.checkpoint, self.detail),
        }
    }
}

/// The outcome of checking a database against checkpoints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckpointReport {
    pub checkpoints: u64,
    /// Case heads the last checkpoint covers.
    pub cases: u64,
    /// The public key the checkpoints were checked against, hex.
    pub public_key: Option<String>,
    /// The key was given by the auditor, not taken from the checkpoints themselves.
    pub key_pinned: bool,
    pub problems: Vec<CheckpointProblem>,
}

impl CheckpointReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks `checkpoints` (stored ones, or an exported copy) among themselves — numbering,
/// links, signatures under `key` (or, when none is given, under the key the first one names),
/// Merkle roots — and then the database's events against the heads the last one covers: the
/// event at each covered place must still have the covered hash. Together with the chain
/// check ([`crate::verify::verify_all`]), which proves each chain links from its first event to
/// its head, this proves every covered event is what it was when it was signed.
pub async fn verify(
    store: &Store,
    checkpoints: &[Checkpoint],
    key: Option<VerifyingKey>,
) -> Result<CheckpointReport, AuditError> {
    let mut report = verify_checkpoints(checkpoints, key);
    let mut covered = Covered::default();
    for c in checkpoints {
        covered.apply(c);
    }
    let last = checkpoints.last().map_or(0, |c| c.number);
    let places: Vec<(String, u64)> = covered
        .heads
        .values()
        .map(|h| (h.case.clone(), h.seq))
        .collect();
    let found: std::collections::HashMap<(String, u64), String> = store
        .event_hashes(&places)
        .await?
        .into_iter()
        .map(|(c, s, h)| ((c, s), h))
        .collect();
    for h in covered.heads.values() {
        let bad = |detail: String| CheckpointProblem {
            checkpoint: last,
            case: Some(h.case.clone()),
            detail,
        };
        match found.get(&(h.case.clone(), h.seq)) {
            Some(hash) if *hash == h.hash => {}
            Some(hash) => report.problems.push(bad(format!(
                "event {} has hash {hash}, the checkpoint covered {}: the history was rewritten",
                h.seq, h.hash
            ))),
            None => report.problems.push(bad(format!(
                "event {} that the checkpoint covered is missing",
                h.seq
            ))),
        }
    }
    report.cases = covered.heads.len() as u64;
    Ok(report)
}

/// The checks of the checkpoints among themselves (no database).
pub fn verify_checkpoints(
    checkpoints: &[Checkpoint],
    key: Option<VerifyingKey>,
) -> CheckpointReport {
    let pinned = key.is_some();
    let key = key.or_else(|| checkpoints.first().and_then(|c| public_key(&c.public_key)));
    let mut report = CheckpointReport {
        checkpoints: checkpoints.len() as u64,
        public_key: key.map(|k| hex(k.as_bytes())),
        key_pinned: pinned,
        ..CheckpointReport::default()
    };
    let mut covered = Covered::default();
    for (i, c) in checkpoints.iter().enumerate() {
        let mut bad = |detail: String| {
            report.problems.push(CheckpointProblem {
                checkpoint: c.number,
                case: None,
                detail,
            })
        };
        if c.format != FORMAT {
            bad(format!("unknown format `{}`", c.format));
        }
        let expected = i as u64 + 1;
        if c.number != expected {
            bad(format!(
                "is number {} where {expected} belongs: a checkpoint is missing or out of order",
                c.number
            ));
        }
        let prev = covered
            .last
            .as_ref()
            .map_or(GENESIS.to_string(), |(_, id)| id.clone());
        if c.prev != prev {
            bad("does not name the checkpoint before it: one was changed or removed".into());
        }
        match (&key, from_hex(&c.signature).and_then(|s| s.try_into().ok())) {
            (Some(k), Some(sig)) => {
                let sig = Signature::from_bytes(&sig);
                if hex(k.as_bytes()) != c.public_key.trim() {
                    bad("is signed by another key".into());
                } else if k.verify(c.message().as_bytes(), &sig).is_err() {
                    bad("its signature does not verify: it was changed after signing".into());
                }
            }
            (None, _) => bad("no public key to check the signature against".into()),
            (_, None) => bad("its signature is not 64 bytes of hex".into()),
        }
        covered.apply(c);
        let root = merkle_root(covered.heads.values());
        if root != c.root || covered.heads.len() as u64 != c.cases {
            bad("its root is not the root of the heads it covers".into());
        }
    }
    report
}

/// The stored checkpoints, parsed.
pub async fn stored(store: &Store) -> Result<Vec<Checkpoint>, AuditError> {
    store
        .checkpoints()
        .await?
        .iter()
        .map(|s| {
            Checkpoint::parse(&s.body).map_err(|e| {
                AuditError::Checkpoint(format!("checkpoint {} does not read: {e}", s.number))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(case: &str, seq: u64) -> ChainHead {
        ChainHead {
            case: case.into(),
            seq,
            hash: format!("{seq:064x}"),
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn t(n: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + n, 0).expect("instant")
    }

    #[test]
    fn roots_depend_on_every_head_and_nothing_else() {
        let a = [head("A", 1), head("B", 2), head("C", 3)];
        let root = merkle_root(&a);
        assert_eq!(root, merkle_root(&a.clone()));
        let mut b = a.clone();
        b[2].seq = 4;
        assert_ne!(root, merkle_root(&b));
        let mut c = a.clone();
        c[1].hash = "f".repeat(64);
        assert_ne!(root, merkle_root(&c));
        assert_ne!(root, merkle_root(&a[..2]));
        // Case ids are length-prefixed: ("AB", …) is not ("A", "B…").
        assert_ne!(
            merkle_root(&[head("AB", 1)]),
            merkle_root(&[ChainHead {
                case: "A".into(),
                seq: 1,
                hash: format!("B{:063x}", 1)
            }])
        );
        assert_eq!(merkle_root(&[]).len(), 64);
    }

    #[test]
    fn checkpoints_cover_only_what_changed_and_verify_as_a_chain() {
        let k = key();
        let mut covered = Covered::default();
        let one = next(&covered, &[head("A", 1), head("B", 1)], &k, t(0)).expect("first");
        assert_eq!((one.number, one.cases, one.changed.len()), (1, 2, 2));
        covered.record(&one);
        assert!(next(&covered, &[head("A", 1), head("B", 1)], &k, t(1)).is_none());
        let two = next(
            &covered,
            &[head("A", 1), head("B", 5), head("C", 2)],
            &k,
            t(2),
        )
        .expect("second");
        assert_eq!((two.number, two.cases, two.changed.len()), (2, 3, 2));
        assert_eq!(two.prev, one.id());
        let report = verify_checkpoints(&[one.clone(), two.clone()], Some(k.verifying_key()));
        assert!(report.is_ok(), "{:?}", report.problems);
        assert!(report.key_pinned);

        // Changed after signing.
        let mut forged = two.clone();
        forged.changed[0].hash = "e".repeat(64);
        let r = verify_checkpoints(&[one.clone(), forged], Some(k.verifying_key()));
        assert!(
            r.problems.iter().any(|p| p.detail.contains("signature")),
            "{:?}",
            r.problems
        );
        // Re-signed with another key.
        let other = SigningKey::from_bytes(&[9u8; 32]);
        let mut c2 = Covered::default();
        c2.record(&one);
        let by_other = next(&c2, &[head("A", 2)], &other, t(3)).expect("other");
        let r = verify_checkpoints(&[one.clone(), by_other], Some(k.verifying_key()));
        assert!(
            r.problems.iter().any(|p| p.detail.contains("another key")),
            "{:?}",
            r.problems
        );
        // One removed.
        let r = verify_checkpoints(std::slice::from_ref(&two), Some(k.verifying_key()));
        assert!(
            r.problems.iter().any(|p| p.detail.contains("missing")),
            "{:?}",
            r.problems
        );
        // A body read back is the same checkpoint.
        assert_eq!(Checkpoint::parse(&two.body()).expect("parse"), two);
    }

    #[test]
    fn keys_read_from_hex() {
        let k = key();
        let seed = hex(&k.to_bytes());
        assert_eq!(signing_key(&seed).map(|s| s.to_bytes()), Some(k.to_bytes()));
        let public = hex(k.verifying_key().as_bytes());
        assert_eq!(public_key(&format!("{public}\n")), Some(k.verifying_key()));
        assert!(signing_key("xyz").is_none());
        assert!(public_key("00").is_none());
    }
}
