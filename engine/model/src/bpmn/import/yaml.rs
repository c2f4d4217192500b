//! The draft written as YAML: the regulation's fields in the format's order, with the
//! import's findings at the top and a `TODO(import)` comment above each gap.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::read::Draft;

/// Whether a string can be written without quotes and read back as the same string.
fn plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || s.chars().any(char::is_control)
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || first.is_ascii_digit()
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "y" | "n" | ".nan" | ".inf"
    )
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if plain(s) => s.clone(),
        // A JSON string is a YAML double-quoted scalar.
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn key(k: &str) -> String {
    if plain(k) {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

fn remove(v: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(map)) = v.pointer_mut(parent) {
        map.shift_remove(last);
    }
}

struct Out<'a> {
    text: String,
    comments: &'a HashMap<String, Vec<String>>,
}

impl Out<'_> {
    fn comments(&mut self, pointer: &str, indent: usize) {
        if let Some(list) = self.comments.get(pointer) {
            for c in list {
                let _ = writeln!(self.text, "{:indent$}# {c}", "");
            }
        }
    }

    fn value(&mut self, v: &Value, pointer: &str, indent: usize) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (i, (k, child)) in map.iter().enumerate() {
                    let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    // The first key of a sequence item shares the item's line.
                    let first_in_item = i == 0 && self.text.ends_with("- ");
                    if !first_in_item {
                        self.comments(&p, indent);
                        let _ = write!(self.text, "{:indent$}", "");
                    }
                    self.entry(&key(k), child, &p, indent);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{pointer}/{i}");
                    self.comments(&p, indent);
                    let _ = write!(self.text, "{:indent$}- ", "");
                    match item {
                        Value::Object(m) if !m.is_empty() => self.value(item, &p, indent + 2),
                        Value::Array(a) if !a.is_empty() => {
                            self.text.push('\n');
                            self.value(item, &p, indent + 2);
                        }
                        _ => {
                            let _ = writeln!(self.text, "{}", scalar(item));
                        }
                    }
                }
            }
            _ => {
                let _ = writeln!(self.text, "{:indent$}{}", "", scalar(v));
            }
        }
    }

    fn entry(&mut self, k: &str, v: &Value, pointer: &str, indent: usize) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                let _ = writeln!(self.text, "{k}:");
                self.value(v, pointer, indent + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                let _ = writeln!(self.text, "{k}:");
                self.value(v, pointer, indent + 2);
            }
            _ => {
                let _ = writeln!(self.text, "{k}: {}", scalar(v));
            }
        }
    }
}

/// The draft as YAML text.
pub fn emit(draft: &Draft) -> String {
    let mut value = serde_json::to_value(&draft.regulation).unwrap_or(Value::Null);
    let mut comments: HashMap<String, Vec<String>> = HashMap::new();
    let mut header = vec![
        "Imported from BPMN by `reglament import-bpmn`. Check it with `reglament validate`."
            .to_string(),
    ];
    for f in &draft.findings {
        let what = if f.unsupported {
            "not imported"
        } else {
            "note"
        };
        header.push(format!("{what}: {f}"));
    }
    for gap in &draft.gaps {
        if gap.remove {
            remove(&mut value, &gap.pointer);
        }
        let at = if gap.pointer.is_empty() {
            None
        } else if gap.remove {
            Some(
                gap.pointer
                    .rsplit_once('/')
                    .map_or("", |(p, _)| p)
                    .to_string(),
            )
        } else {
            Some(gap.pointer.clone())
        };
        match at {
            // The regulation's own fields have their comment above the first line.
            Some(p) if !p.is_empty() => comments.entry(p).or_default().push(gap.note.clone()),
            _ => header.push(gap.note.clone()),
        }
    }
    let mut out = Out {
        text: String::new(),
        comments: &comments,
    };
    for h in &header {
        for line in h.lines() {
            let _ = writeln!(out.text, "# {line}");
        }
    }
    out.text.push('\n');
    out.value(&value, "", 0);
    out.text
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn plain_only_where_yaml_reads_the_same_string() {
        for s in ["review", "Прием документов", "egov.authorization", "a-b_c"] {
            assert!(plain(s), "{s}");
        }
        for s in [
            "",
            " x",
            "10 working days",
            "true",
            "No",
            "a: b",
            "x #y",
            "- x",
            "2012-01-01",
            "\"q\"",
            "a\nb",
            "key:",
        ] {
            assert!(!plain(s), "{s}");
        }
    }
}
