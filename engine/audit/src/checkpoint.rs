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

use reglament_store::canonical::{GENESIS, hex, write_str};
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
        self.canonical(false)
    }

    /// The checkpoint's own hash (canonical JSON, signature included): what the next one
    /// names as `prev`.
    pub fn id(&self) -> String {
        hex(&Sha256::digest(self.body().as_bytes()))
    }

    /// The stored form: canonical JSON.
    pub fn body(&self) -> String {
        self.canonical(true)
    }

    /// The canonical JSON ([`reglament_store::canonical`]: keys sorted, no spaces) written
    /// directly rather than through a `serde_json::Value`: a first checkpoint lists every case,
    /// and a tree of a million small maps would cost several times the text.
    fn canonical(&self, signed: bool) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(200 + self.changed.len() * 120);
        out.push_str("{\"at\":");
        write_str(
            &self.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            &mut out,
        );
        let _ = write!(out, ",\"cases\":{},\"changed\":[", self.cases);
        for (i, h) in self.changed.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"case\":");
            write_str(&h.case, &mut out);
            out.push_str(",\"hash\":");
            write_str(&h.hash, &mut out);
            let _ = write!(out, ",\"seq\":{}}}", h.seq);
        }
        out.push_str("],\"format\":");
        write_str(&self.format, &mut out);
        let _ = write!(out, ",\"number\":{},\"prev\":", self.number);
        write_str(&self.prev, &mut out);
        out.push_str(",\"public_key\":");
        write_str(&self.public_key, &mut out);
        out.push_str(",\"root\":");
        write_str(&self.root, &mut out);
        if signed {
            out.push_str(",\"signature\":");
            write_str(&self.signature, &mut out);
        }
        out.push('}');
        out
    }

    /// Reads a stored or exported checkpoint.
    pub fn parse(body: &str) -> Result<Checkpoint, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// The Merkle root over heads sorted by case id.
pub fn merkle_root<'a>(heads: impl IntoIterator<Item = &'a ChainHead>) -> String {
    merkle_root_of(
        heads
            .into_iter()
            .map(|h| (h.case.as_str(), h.seq, h.hash.as_str())),
    )
}

/// The Merkle root over `(case, seq, hash)` leaves sorted by case id.
fn merkle_root_of<'a>(leaves: impl Iterator<Item = (&'a str, u64, &'a str)>) -> String {
    let mut level: Vec<[u8; 32]> = leaves
        .map(|(case, seq, hash)| {
            let mut d = Sha256::new();
            d.update([0u8]);
            d.update((case.len() as u32).to_be_bytes());
            d.update(case.as_bytes());
            d.update(seq.to_be_bytes());
            d.update(hash.as_bytes());
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

/// The heads as of the last checkpoint (case → seq and hash): the fold of every checkpoint's
/// `changed`.
#[derive(Debug, Clone, Default)]
pub struct Covered {
    pub heads: BTreeMap<String, (u64, String)>,
    /// The last checkpoint's number and id.
    pub last: Option<(u64, String)>,
}

impl Covered {
    fn apply(&mut self, c: &Checkpoint) {
        for h in &c.changed {
            match self.heads.get_mut(&h.case) {
                Some(v) => *v = (h.seq, h.hash.clone()),
                None => {
                    self.heads.insert(h.case.clone(), (h.seq, h.hash.clone()));
                }
            }
        }
        self.last = Some((c.number, c.id()));
    }

    /// The leaves, in case order.
    fn leaves(&self) -> impl Iterator<Item = (&str, u64, &str)> {
        self.heads
            .iter()
            .map(|(c, (seq, hash))| (c.as_str(), *seq, hash.as_str()))
    }

    /// The leaves with `changed` (sorted by case) applied, in case order, without a copy of
    /// the covered set.
    fn leaves_with<'a>(
        &'a self,
        changed: &'a [ChainHead],
    ) -> impl Iterator<Item = (&'a str, u64, &'a str)> {
        let mut old = self.leaves().peekable();
        let mut new = changed
            .iter()
            .map(|h| (h.case.as_str(), h.seq, h.hash.as_str()))
            .peekable();
        std::iter::from_fn(move || match (old.peek(), new.peek()) {
            (Some(o), Some(n)) if o.0 < n.0 => old.next(),
            (Some(o), Some(n)) if o.0 == n.0 => {
                old.next();
                new.next()
            }
            (_, Some(_)) => new.next(),
            (Some(_), None) => old.next(),
            (None, None) => None,
        })
    }
}

/// The next checkpoint over `heads` (every case's head), after what `covered` holds; `None`
/// when no head changed since (nothing new to sign). Pure: the caller stores it and then
/// [`Covered::record`]s it.
pub fn next(
    covered: &Covered,
    heads: &[ChainHead],
    key: &SigningKey,
    at: DateTime<Utc>,
) -> Option<Checkpoint> {
    let mut changed: Vec<ChainHead> = heads
        .iter()
        .filter(|h| {
            covered
                .heads
                .get(&h.case)
                .is_none_or(|(seq, hash)| *seq != h.seq || *hash != h.hash)
        })
        .cloned()
        .collect();
    if changed.is_empty() && covered.last.is_some() {
        return None;
    }
    changed.sort_by(|a, b| a.case.cmp(&b.case));
    changed.dedup_by(|a, b| a.case == b.case);
    let (number, prev) = match &covered.last {
        Some((n, id)) => (n + 1, id.clone()),
        None => (1, GENESIS.to_string()),
    };
    let mut cases = 0u64;
    let root = merkle_root_of(covered.leaves_with(&changed).inspect(|_| cases += 1));
    let mut c = Checkpoint {
        format: FORMAT.to_string(),
        number,
        at,
        cases,
        root,
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
/// counts, the last one's Merkle root — and then the database's events against the heads the last one covers: the
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
        .iter()
        .map(|(case, (seq, _))| (case.clone(), *seq))
        .collect();
    let found: std::collections::HashMap<(String, u64), String> = store
        .event_hashes(&places)
        .await?
        .into_iter()
        .map(|(c, s, h)| ((c, s), h))
        .collect();
    for (case, (seq, covered_hash)) in &covered.heads {
        let bad = |detail: String| CheckpointProblem {
            checkpoint: last,
            case: Some(case.clone()),
            detail,
        };
        match found.get(&(case.clone(), *seq)) {
            Some(hash) if hash == covered_hash => {}
            Some(hash) => report.problems.push(bad(format!(
                "event {seq} has hash {hash}, the checkpoint covered {covered_hash}: the history was rewritten"
            ))),
            None => report.problems.push(bad(format!(
                "event {seq} that the checkpoint covered is missing"
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
        if covered.heads.len() as u64 != c.cases {
            bad("its count of cases is not the count of the heads it covers".into());
        }
        // The root is recomputed for the last checkpoint only: every earlier one's content
        // (its changes and the link to the one before) is under its signature already, and a
        // root per checkpoint would hash every case once per checkpoint ever signed.
        if i + 1 == checkpoints.len() && merkle_root_of(covered.leaves()) != c.root {
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
        // New cases before and after the others and one that moved: the root is the root of
        // the whole set, computed without copying it.
        let mut c3 = Covered::default();
        c3.record(&one);
        c3.record(&two);
        let all = [
            head("0", 1),
            head("A", 2),
            head("B", 5),
            head("C", 2),
            head("D", 1),
        ];
        let three = next(&c3, &all, &k, t(3)).expect("third");
        assert_eq!((three.cases, three.changed.len()), (5, 3));
        assert_eq!(three.root, merkle_root(&all));

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
        // Signed by the key, but over a root that is not the heads' (a signer's fault).
        let mut wrong = two.clone();
        wrong.root = "0".repeat(64);
        wrong.signature = hex(&k.sign(wrong.message().as_bytes()).to_bytes());
        let r = verify_checkpoints(&[one.clone(), wrong], Some(k.verifying_key()));
        assert!(
            r.problems.iter().any(|p| p.detail.contains("root")),
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
    fn the_written_text_is_the_canonical_json_of_the_checkpoint() {
        let k = key();
        let mut heads = vec![head("A \"quoted\"", 1), head("Б-2", 7)];
        heads.sort();
        let c = next(&Covered::default(), &heads, &k, t(0)).expect("first");
        let value = serde_json::to_value(&c).expect("value");
        assert_eq!(c.body(), reglament_store::canonical::canonical(&value));
        let mut unsigned = value.clone();
        unsigned
            .as_object_mut()
            .expect("object")
            .remove("signature");
        assert_eq!(
            c.message(),
            reglament_store::canonical::canonical(&unsigned)
        );
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("instant");
        let c = Checkpoint { at, ..c };
        assert_eq!(
            c.body(),
            reglament_store::canonical::canonical(&serde_json::to_value(&c).expect("value"))
        );
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
