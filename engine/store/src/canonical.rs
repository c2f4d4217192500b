//! The canonical JSON encoding and the hash chain (see `docs/hash-chain.md`).
//!
//! The canonical text of a JSON value is what `jq -cS .` (jq 1.6) prints for it, without the
//! final newline: no whitespace, object keys sorted by their UTF-8 bytes at every depth, strings
//! as raw UTF-8 with only `"`, `\`, the C0 controls and DEL escaped, numbers as jq prints them.
//! It is written here by hand rather than by `serde_json`, because `serde_json` keeps insertion
//! order (the workspace enables `preserve_order`) and escapes differently (DEL, floats).
//!
//! An event's hash is SHA-256 over the canonical text of its *record* followed by one line
//! feed — exactly the bytes `jq -cS . record.json` prints:
//!
//! ```text
//! {"calendar_version":…,"case":…,"digest":…,"event":{…},"prev_hash":…,"seq":…}\n
//! ```
//!
//! `prev_hash` is the previous event's hash, or [`GENESIS`] for the first event of a case.

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a case's first event: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical text of `value` (no trailing newline).
pub fn canonical(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(value, &mut out);
    out
}

/// Appends the canonical text of `value` to `out`.
pub fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(f) = n.as_f64() {
                write_f64(f, out);
            } else {
                out.push_str("null");
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // Byte order of UTF-8 is code point order: what jq and Python's sort_keys use.
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write_value(v, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string as jq writes it: `\"`, `\\`, `\b \f \n \r \t`, other C0 controls and DEL as
/// `\u00xx` (lower-case hex); everything else, including non-ASCII and `/`, as raw UTF-8.
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A non-integer number as jq 1.6 prints it: the shortest digits that read back to the same
/// double, in plain notation unless the decimal point would fall more than 15 places right of
/// the last digit or 4 or more places left of the first, then as `d.ddde±XX`.
fn write_f64(x: f64, out: &mut String) {
    if !x.is_finite() {
        // serde_json cannot hold these; keep the output valid JSON anyway.
        out.push_str("null");
        return;
    }
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // `{:e}` gives the shortest round-trip digits: `1.2345e4`, `1e-7`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let decpt = exp + 1;
    if decpt <= -4 || decpt > k + 15 {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(&digits);
    } else if decpt >= k {
        out.push_str(&digits);
        for _ in 0..decpt - k {
            out.push('0');
        }
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

/// What an event's hash covers besides the event itself.
#[derive(Debug, Clone, Copy)]
pub struct RecordHeader<'a> {
    pub case: &'a str,
    pub seq: u64,
    pub prev_hash: &'a str,
    /// The regulation digest the case is pinned to.
    pub digest: &'a str,
    /// The calendar version the case is pinned to.
    pub calendar_version: &'a str,
}

/// The bytes that are hashed: the canonical record and a line feed. `event` must already be
/// canonical text (as stored in `events.body`).
pub fn record_text(h: RecordHeader<'_>, event: &str) -> String {
    let mut out = record_prefix(h.case, h.digest, h.calendar_version, event);
    record_suffix(h.prev_hash, h.seq, &mut out);
    out
}

/// The record up to the opening quote of `prev_hash`'s value: everything that does not depend
/// on the event's place in the log, so it can be hashed before the place is known.
pub fn record_prefix(case: &str, digest: &str, calendar_version: &str, event: &str) -> String {
    let mut out = String::with_capacity(event.len() + 256);
    out.push_str("{\"calendar_version\":");
    write_str(calendar_version, &mut out);
    out.push_str(",\"case\":");
    write_str(case, &mut out);
    out.push_str(",\"digest\":");
    write_str(digest, &mut out);
    out.push_str(",\"event\":");
    out.push_str(event);
    out.push_str(",\"prev_hash\":");
    out
}

fn record_suffix(prev_hash: &str, seq: u64, out: &mut String) {
    write_str(prev_hash, out);
    let _ = writeln!(out, ",\"seq\":{seq}}}");
}

/// The hash of an event: lower-case hex SHA-256 of [`record_text`].
pub fn event_hash(h: RecordHeader<'_>, event: &str) -> String {
    hex(&Sha256::digest(record_text(h, event).as_bytes()))
}

/// SHA-256 already fed with an event's [`record_prefix`]: the bulk of the record is hashed
/// where the event is prepared, and [`PrefixHash::finish`] adds only the place.
#[derive(Clone)]
pub struct PrefixHash(Sha256);

impl std::fmt::Debug for PrefixHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrefixHash")
    }
}

impl PrefixHash {
    pub fn new(case: &str, digest: &str, calendar_version: &str, event: &str) -> PrefixHash {
        let mut h = Sha256::new();
        h.update(record_prefix(case, digest, calendar_version, event).as_bytes());
        PrefixHash(h)
    }

    /// The event's hash at place `seq` after `prev_hash`: the same as [`event_hash`].
    pub fn finish(&self, prev_hash: &str, seq: u64) -> String {
        let mut tail = String::with_capacity(96);
        record_suffix(prev_hash, seq, &mut tail);
        let mut h = self.0.clone();
        h.update(tail.as_bytes());
        hex(&h.finalize())
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_nothing_is_spaced() {
        let v = json!({"b": {"z": 1, "a": [3, {"y": true, "x": null}]}, "a": "é"});
        assert_eq!(
            canonical(&v),
            r#"{"a":"é","b":{"a":[3,{"x":null,"y":true}],"z":1}}"#
        );
    }

    #[test]
    fn strings_escape_what_jq_escapes() {
        let v = Value::String("q\"b\\ \u{8}\u{c}\n\r\t \u{1} \u{1f} \u{7f} / é 😀 \u{2028}".into());
        assert_eq!(
            canonical(&v),
            "\"q\\\"b\\\\ \\b\\f\\n\\r\\t \\u0001 \\u001f \\u007f / é 😀 \u{2028}\""
        );
    }

    #[test]
    fn numbers_print_as_jq_prints_them() {
        let cases: &[(&str, &str)] = &[
            ("0", "0"),
            ("-7", "-7"),
            ("123456789012", "123456789012"),
            ("18446744073709551615", "18446744073709551615"),
            ("1.5", "1.5"),
            ("-1.5", "-1.5"),
            ("4.0", "4"),
            ("0.1", "0.1"),
            ("0.000123", "0.000123"),
            ("2.5e-5", "2.5e-05"),
            ("1e-7", "1e-07"),
            ("1e16", "1e+16"),
            ("1e100", "1e+100"),
            ("123.456e3", "123456"),
            ("1.2345678901234567e19", "12345678901234567000"),
            ("3.14159", "3.14159"),
        ];
        for (input, want) in cases {
            let v: Value = serde_json::from_str(input).expect("number");
            assert_eq!(&canonical(&v), want, "{input}");
            // Canonical text reads back to itself.
            let again: Value = serde_json::from_str(want).expect("canonical number");
            assert_eq!(&canonical(&again), want, "{input} again");
        }
    }

    #[test]
    fn the_record_is_the_canonical_json_of_its_fields() {
        let h = RecordHeader {
            case: "ATR-1",
            seq: 2,
            prev_hash: GENESIS,
            digest: "d",
            calendar_version: "c",
        };
        let event = canonical(&json!({"type": "split", "step": "s"}));
        let text = record_text(h, &event);
        let value = json!({
            "seq": 2, "prev_hash": GENESIS, "case": "ATR-1", "digest": "d",
            "calendar_version": "c", "event": {"type": "split", "step": "s"}
        });
        assert_eq!(text, format!("{}\n", canonical(&value)));
    }

    #[test]
    fn hashing_the_prefix_first_gives_the_same_hash() {
        let event = canonical(&json!({"type": "split", "step": "s\"é"}));
        let h = RecordHeader {
            case: "ATR-1",
            seq: 12,
            prev_hash: GENESIS,
            digest: "d",
            calendar_version: "c",
        };
        let p = PrefixHash::new("ATR-1", "d", "c", &event);
        assert_eq!(p.finish(GENESIS, 12), event_hash(h, &event));
    }

    /// The same bytes as jq, when jq is installed (it is in CI: Debian's jq 1.6).
    #[test]
    fn agrees_with_jq() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let v = json!({
            "name": "Айгүл \"Серікова\"\n\t\u{1}\u{7f}/😀",
            "n": [0, -3, 1.5, 0.1, 2.5e-5, 1e16, 1e100, 123456789012u64, 12.25],
            "nested": {"b": [], "a": {}, "é": null, "Z": false}
        });
        let input = serde_json::to_string(&v).expect("json");
        let child = Command::new("jq")
            .arg("-cS")
            .arg(".")
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
                "SKIPPED: jq is not installed; canonical text not compared with jq"
            );
            return;
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("jq runs");
        assert!(out.status.success());
        let jq = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(jq, format!("{}\n", canonical(&v)));
    }
}
