//! The worked example of `docs/hash-chain.md` is what the store computes: each record's
//! canonical text is the one the page shows, its hash is the one the page shows (by plain
//! SHA-256 and by the store's own function), the events are real engine events stored in
//! canonical form, and the second event chains to the first. When `jq` is installed, it
//! prints the same canonical text.

use reglament_runtime::Event;
use reglament_store::canonical::{self, GENESIS, RecordHeader};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn page() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hash-chain.md");
    std::fs::read_to_string(&path).expect("docs/hash-chain.md")
}

/// The bodies of the fenced blocks of one language, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&fence) {
        let body = &rest[i + fence.len()..];
        let end = body.find("```").expect("closed block");
        out.push(body[..end].to_string());
        rest = &body[end..];
    }
    out
}

/// The hashes the page states after "hash" in backticks: `...`.
fn stated_hashes(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("Its hash"))
        .map(|l| {
            let end = l.rfind('`').expect("closing backtick");
            let start = l[..end].rfind('`').expect("opening backtick");
            l[start + 1..end].to_string()
        })
        .collect()
}

#[test]
fn the_worked_example_is_what_the_store_computes() {
    let text = page();
    let records = blocks(&text, "json");
    let canonicals = blocks(&text, "text");
    let hashes = stated_hashes(&text);
    assert_eq!(records.len(), 2, "two records on the page");
    assert_eq!(canonicals.len(), 2, "two canonical texts on the page");
    assert_eq!(hashes.len(), 2, "two hashes on the page");
    let mut prev = GENESIS.to_string();
    for (k, ((record, shown), hash)) in records.iter().zip(&canonicals).zip(&hashes).enumerate() {
        let seq = k as u64 + 1;
        let value: Value = serde_json::from_str(record).expect("the record is JSON");
        let text = canonical::canonical(&value);
        assert_eq!(format!("{text}\n"), *shown, "record {seq}: canonical text");
        let sha = canonical::hex(&Sha256::digest(shown.as_bytes()));
        assert_eq!(&sha, hash, "record {seq}: SHA-256 of the canonical line");
        assert_eq!(value["seq"], seq, "record {seq}: seq");
        assert_eq!(value["prev_hash"], prev.as_str(), "record {seq}: chains");
        // A real event, in the form the store writes it.
        let event: Event =
            serde_json::from_value(value["event"].clone()).expect("the event is an engine event");
        let body = canonical::canonical(&serde_json::to_value(&event).expect("encode"));
        assert_eq!(
            body,
            canonical::canonical(&value["event"]),
            "record {seq}: stored body"
        );
        let by_store = canonical::event_hash(
            RecordHeader {
                case: value["case"].as_str().expect("case"),
                seq,
                prev_hash: &prev,
                digest: value["digest"].as_str().expect("digest"),
                calendar_version: value["calendar_version"].as_str().expect("calendar"),
            },
            &body,
        );
        assert_eq!(&by_store, hash, "record {seq}: the store's hash");
        prev = hash.clone();
    }
}

#[test]
fn jq_prints_the_same_canonical_text() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let text = page();
    for (record, shown) in blocks(&text, "json").iter().zip(blocks(&text, "text")) {
        let child = Command::new("jq")
            .args(["-cS", "."])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            assert!(
                std::env::var("REGLAMENT_CI").as_deref() != Ok("1"),
                "REGLAMENT_CI=1 but jq is not installed"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: jq is not installed; the page's example not compared with jq"
            );
            return;
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(record.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("jq runs");
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), shown);
    }
}
