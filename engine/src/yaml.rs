//! YAML text → JSON value plus a map from every JSON pointer to its place in the text.
//!
//! One parse (saphyr, YAML 1.2, pure Rust, duplicate keys rejected) gives both: the value is
//! what the JSON Schema and serde see, the spans let every later finding, wherever it comes
//! from, point at the exact line and column.

use std::collections::HashMap;
use std::fmt::Write as _;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

use crate::diagnostic::{Code, Diagnostic, Location};

/// Where a node is: its value and, for a mapping entry, its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeSpan {
    pub value: Location,
    pub key: Option<Location>,
}

/// JSON pointer → place in the text.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    map: HashMap<String, NodeSpan>,
}

impl Spans {
    pub fn get(&self, pointer: &str) -> Option<NodeSpan> {
        self.map.get(pointer).copied()
    }

    /// The value's place, or that of the nearest ancestor that has one.
    pub fn value_at(&self, pointer: &str) -> Location {
        self.nearest(pointer).map(|s| s.value).unwrap_or_default()
    }

    /// The key's place for a mapping entry, else the value's.
    pub fn key_at(&self, pointer: &str) -> Location {
        self.nearest(pointer)
            .map(|s| s.key.unwrap_or(s.value))
            .unwrap_or_default()
    }

    fn nearest(&self, pointer: &str) -> Option<NodeSpan> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.map.get(p) {
                return Some(*s);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Parses one YAML document. On a syntax error returns the single diagnostic that stops it.
pub fn parse(text: &str, file: &str) -> Result<(Value, Spans), Box<Diagnostic>> {
    // A parser bug must not take the server down with it: treat a panic as a syntax error.
    let loaded = std::panic::catch_unwind(|| MarkedYaml::load_from_str(text)).map_err(|_| {
        Box::new(Diagnostic::new(
            file,
            Code::E002,
            Location::new(1, 1),
            "the YAML parser failed on this file",
        ))
    })?;
    let docs = loaded.map_err(|e| {
        let marker = e.marker();
        let location = Location::new(marker.line().max(1), marker.col() + 1);
        let info = e.info();
        if info.contains("duplicated key") {
            Diagnostic::new(
                file,
                Code::E003,
                location,
                "this key appears twice in one mapping",
            )
            .with_help("a mapping may name each key once; remove or rename one of them")
        } else {
            Diagnostic::new(file, Code::E002, location, format!("YAML syntax: {info}"))
        }
    })?;
    let mut docs = docs.into_iter();
    let doc = match (docs.next(), docs.next()) {
        (Some(doc), None) => doc,
        (None, _) => {
            return Err(Box::new(Diagnostic::new(
                file,
                Code::E004,
                Location::new(1, 1),
                "the file is empty",
            )));
        }
        (Some(_), Some(second)) => {
            return Err(Box::new(Diagnostic::new(
                file,
                Code::E004,
                location_of(&second),
                "a file holds one regulation: found a second YAML document (`---`)",
            )));
        }
    };
    if matches!(doc.data, YamlData::BadValue) {
        return Err(Box::new(Diagnostic::new(
            file,
            Code::E004,
            Location::new(1, 1),
            "the file is empty",
        )));
    }
    // The tree is taken apart as it is converted, so its strings move into the value rather
    // than being copied, and the spans map is sized once: on a large regulation copying,
    // rehashing and freeing cost more than the YAML parser itself.
    let mut spans = Spans {
        map: HashMap::with_capacity(count_nodes(&doc)),
    };
    let mut errors = Vec::new();
    let mut pointer = String::new();
    let value = convert(doc, &mut pointer, None, &mut spans, &mut errors, file);
    match errors.into_iter().next() {
        Some(err) => Err(Box::new(err)),
        None => Ok((value, spans)),
    }
}

fn count_nodes(node: &MarkedYaml<'_>) -> usize {
    1 + match &node.data {
        YamlData::Tagged(_, inner) => count_nodes(inner),
        YamlData::Sequence(items) => items.iter().map(count_nodes).sum(),
        YamlData::Mapping(entries) => entries.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn location_of(node: &MarkedYaml<'_>) -> Location {
    Location::new(node.span.start.line().max(1), node.span.start.col() + 1)
}

/// Converts `node`, found at `pointer`, recording its place and those of everything in it.
/// `pointer` is one buffer for the whole walk: each level appends its token and takes it off.
fn convert(
    node: MarkedYaml<'_>,
    pointer: &mut String,
    key: Option<Location>,
    spans: &mut Spans,
    errors: &mut Vec<Diagnostic>,
    file: &str,
) -> Value {
    let here = location_of(&node);
    spans
        .map
        .insert(pointer.clone(), NodeSpan { value: here, key });
    match node.data {
        YamlData::Value(scalar) => scalar_to_json(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.into_owned()),
        YamlData::Tagged(_, inner) => convert(*inner, pointer, key, spans, errors, file),
        YamlData::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let len = pointer.len();
                let _ = write!(pointer, "/{i}");
                out.push(convert(item, pointer, None, spans, errors, file));
                pointer.truncate(len);
            }
            Value::Array(out)
        }
        YamlData::Mapping(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let key_at = location_of(&k);
                let name = match k.data {
                    YamlData::Value(Scalar::String(s)) => s.into_owned(),
                    YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                    YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
                    YamlData::Value(Scalar::Null) => "null".to_string(),
                    YamlData::Representation(text, _, _) => text.into_owned(),
                    _ => {
                        errors.push(Diagnostic::new(
                            file,
                            Code::E012,
                            key_at,
                            "a key must be a plain word, not a list or a mapping",
                        ));
                        continue;
                    }
                };
                let len = pointer.len();
                pointer.push('/');
                push_escaped(pointer, &name);
                let value = convert(v, pointer, Some(key_at), spans, errors, file);
                pointer.truncate(len);
                map.insert(name, value);
            }
            Value::Object(map)
        }
        YamlData::Alias(_) | YamlData::BadValue => {
            errors.push(Diagnostic::new(
                file,
                Code::E012,
                here,
                "this value cannot be read (a tag that does not fit the value?)",
            ));
            Value::Null
        }
    }
}

/// Appends `token` to a JSON pointer, escaped as RFC 6901 asks.
fn push_escaped(pointer: &mut String, token: &str) {
    if token.contains(['~', '/']) {
        pointer.push_str(&escape_token(token));
    } else {
        pointer.push_str(token);
    }
}

fn scalar_to_json(scalar: Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_and_records_spans() {
        let text = "id: x\nsteps:\n  - id: a\n    role: head\n  - id: b\n";
        let (value, spans) = parse(text, "f.yaml").unwrap();
        assert_eq!(
            value,
            json!({"id": "x", "steps": [{"id": "a", "role": "head"}, {"id": "b"}]})
        );
        assert_eq!(spans.value_at("/steps/0/role"), Location::new(4, 11));
        assert_eq!(spans.key_at("/steps/0/role"), Location::new(4, 5));
        assert_eq!(spans.value_at("/steps/1"), Location::new(5, 5));
        // A pointer below a scalar falls back to the nearest node.
        assert_eq!(spans.value_at("/steps/0/role/x"), Location::new(4, 11));
    }

    #[test]
    fn yaml_1_2_scalars() {
        let (value, _) = parse("a: no\nb: 09:00\nc: 2012-11-16\nd: 1.5\n", "f").unwrap();
        assert_eq!(
            value,
            json!({"a": "no", "b": "09:00", "c": "2012-11-16", "d": 1.5})
        );
    }

    #[test]
    fn duplicate_key_points_at_the_second() {
        let err = parse("id: a\nversion: 1\nid: b\n", "f.yaml").unwrap_err();
        assert_eq!(err.code, Code::E003);
        assert_eq!(err.location, Location::new(3, 1));
    }

    #[test]
    fn syntax_error_has_a_place() {
        let err = parse("id: \"unclosed\nversion: 1\n", "f.yaml").unwrap_err();
        assert_eq!(err.code, Code::E002);
        assert!(err.location.line >= 1);
    }

    #[test]
    fn empty_and_multi_document() {
        assert_eq!(parse("", "f").unwrap_err().code, Code::E004);
        assert_eq!(
            parse("# only a comment\n", "f").unwrap_err().code,
            Code::E004
        );
        let err = parse("a: 1\n---\nb: 2\n", "f").unwrap_err();
        assert_eq!(err.code, Code::E004);
    }

    #[test]
    fn escapes_pointer_tokens() {
        let (_, spans) = parse("\"a/b\": 1\n", "f").unwrap();
        assert!(spans.get("/a~1b").is_some());
    }
}
