//! YAML → typed data with a place in the file for every mistake.
//!
//! The text is parsed by saphyr into a node tree with spans, turned into JSON while every
//! node's position is remembered by its JSON pointer, checked against the JSON Schema
//! generated from the Rust types (so every structural mistake is reported, not just the
//! first), and only then deserialized. Semantic checks later ask [`Located::pos`] for the
//! place of the value they complain about.

use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use super::error::CalendarDiagnostic;
use reglament_model::duration::suggest;

/// A parsed document and where each of its nodes was written.
#[derive(Debug, Clone)]
pub struct Located {
    pub file: String,
    pub value: Value,
    values: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
}

impl Located {
    /// Where the value at `pointer` was written, falling back to its nearest written parent.
    pub fn pos(&self, pointer: &str) -> (usize, usize) {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.values.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }

    /// Where the key of the entry at `pointer` was written (for unknown or misplaced keys).
    pub fn key_pos(&self, pointer: &str) -> (usize, usize) {
        self.keys
            .get(pointer)
            .copied()
            .unwrap_or_else(|| self.pos(pointer))
    }

    pub fn error(&self, pointer: &str, message: impl Into<String>) -> CalendarDiagnostic {
        CalendarDiagnostic::error(&self.file, self.pos(pointer), message)
    }

    pub fn warning(&self, pointer: &str, message: impl Into<String>) -> CalendarDiagnostic {
        CalendarDiagnostic::warning(&self.file, self.pos(pointer), message)
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `/transfers/3/day_off` → `transfers[3].day_off`, the way an analyst reads it.
pub fn human_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    if out.is_empty() {
        "the file".to_string()
    } else {
        out
    }
}

fn at(span_start: &saphyr::Marker) -> (usize, usize) {
    (span_start.line(), span_start.col() + 1)
}

/// Parses `text` into JSON with positions. Syntax errors stop here; everything else is
/// collected.
pub fn parse(text: &str, file: &str) -> Result<Located, Vec<CalendarDiagnostic>> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        vec![CalendarDiagnostic::error(
            file,
            at(e.marker()),
            format!("YAML syntax: {}", e.info()),
        )]
    })?;
    let mut docs = docs.into_iter();
    let Some(doc) = docs.next() else {
        return Err(vec![CalendarDiagnostic::error(
            file,
            (1, 1),
            "the file is empty",
        )]);
    };
    if let Some(extra) = docs.next() {
        return Err(vec![CalendarDiagnostic::error(
            file,
            at(&extra.span.start),
            "one document per file: remove the `---` and what follows",
        )]);
    }
    let mut located = Located {
        file: file.to_string(),
        value: Value::Null,
        values: HashMap::new(),
        keys: HashMap::new(),
    };
    let mut errors = Vec::new();
    located.value = convert(&doc, String::new(), &mut located, &mut errors);
    if errors.is_empty() {
        Ok(located)
    } else {
        Err(errors)
    }
}

fn scalar_json(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn scalar_key(s: &Scalar<'_>) -> String {
    match s {
        Scalar::Null => "null".to_string(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::FloatingPoint(f) => f.to_string(),
        Scalar::String(s) => s.to_string(),
    }
}

fn convert(
    node: &MarkedYaml<'_>,
    pointer: String,
    located: &mut Located,
    errors: &mut Vec<CalendarDiagnostic>,
) -> Value {
    let pos = at(&node.span.start);
    located.values.insert(pointer.clone(), pos);
    match &node.data {
        YamlData::Value(s) => scalar_json(s),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| convert(item, format!("{pointer}/{i}"), located, errors))
                .collect(),
        ),
        YamlData::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match &k.data {
                    YamlData::Value(s) => scalar_key(s),
                    YamlData::Representation(text, _, _) => text.to_string(),
                    _ => {
                        errors.push(CalendarDiagnostic::error(
                            &located.file,
                            at(&k.span.start),
                            "a key must be a plain word, not a list or a mapping",
                        ));
                        continue;
                    }
                };
                let child = format!("{pointer}/{}", escape(&key));
                located.keys.insert(child.clone(), at(&k.span.start));
                let value = convert(v, child, located, errors);
                out.insert(key, value);
            }
            Value::Object(out)
        }
        YamlData::Tagged(_, inner) => convert(inner, pointer, located, errors),
        YamlData::Alias(_) => {
            errors.push(CalendarDiagnostic::error(
                &located.file,
                pos,
                "anchors and aliases (`&name`, `*name`) are not supported: write the value out",
            ));
            Value::Null
        }
        YamlData::BadValue => {
            errors.push(CalendarDiagnostic::error(
                &located.file,
                pos,
                "this value cannot be read (a tag that does not fit the value?)",
            ));
            Value::Null
        }
    }
}

/// Follows `segments` (a schema location) from the root schema, stepping through `$ref`s.
fn resolve<'a>(root: &'a Value, segments: &[String]) -> Option<&'a Value> {
    let mut cur = root;
    for seg in segments {
        cur = follow_refs(root, cur);
        if seg == "$ref" {
            continue;
        }
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(follow_refs(root, cur))
}

fn follow_refs<'a>(root: &'a Value, mut cur: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let Some(r) = cur.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(path) = r.strip_prefix("#/") else {
            break;
        };
        let mut next = root;
        for seg in path.split('/') {
            match next.get(seg.replace("~1", "/").replace("~0", "~")) {
                Some(v) => next = v,
                None => return cur,
            }
        }
        cur = next;
    }
    cur
}

fn segments(location: &jsonschema::paths::Location) -> Vec<String> {
    location
        .to_string()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Null => "an empty value".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
        other => format!("`{other}`"),
    }
}

/// Checks the document against `schema` and returns every violation, placed and worded
/// for an analyst.
pub fn check_schema(located: &Located, schema: &Value) -> Vec<CalendarDiagnostic> {
    let validator = match jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
    {
        Ok(v) => v,
        Err(e) => {
            return vec![CalendarDiagnostic::error(
                &located.file,
                (1, 1),
                format!("internal: the calendar schema does not compile: {e}"),
            )];
        }
    };
    let mut out = Vec::new();
    for err in validator.iter_errors(&located.value) {
        let pointer = err.instance_path().to_string();
        let path = human_path(&pointer);
        let schema_segments = segments(err.schema_path());
        let parent_schema = resolve(
            schema,
            &schema_segments[..schema_segments.len().saturating_sub(1)],
        );
        use jsonschema::error::ValidationErrorKind as K;
        match err.kind() {
            K::AdditionalProperties { unexpected } => {
                let known: Vec<&str> = parent_schema
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                for key in unexpected {
                    let key_pointer = format!("{pointer}/{}", escape(key));
                    let hint = match suggest(key, known.iter().copied()) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None if known.is_empty() => String::new(),
                        None => format!("; expected one of: {}", known.join(", ")),
                    };
                    let place = if pointer.is_empty() {
                        String::new()
                    } else {
                        format!(" in {path}")
                    };
                    out.push(CalendarDiagnostic::error(
                        &located.file,
                        located.key_pos(&key_pointer),
                        format!("unknown key `{key}`{place}{hint}"),
                    ));
                }
            }
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                out.push(located.error(&pointer, format!("{path}: the key `{name}` is missing")));
            }
            K::Enum { .. } | K::OneOfNotValid { .. }
                if !choices(err.kind(), parent_schema).is_empty() =>
            {
                let opts = choices(err.kind(), parent_schema);
                let given = err.instance().as_str().unwrap_or_default().to_string();
                let hint = match suggest(&given, opts.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("expected one of: {}", opts.join(", ")),
                };
                out.push(located.error(
                    &pointer,
                    format!(
                        "{path}: {} is not allowed here; {hint}",
                        describe(err.instance())
                    ),
                ));
            }
            K::Pattern { .. } | K::Format { .. } => {
                let what = resolve(
                    schema,
                    &schema_segments[..schema_segments.len().saturating_sub(1)],
                )
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
                .map(|d| format!(": expected {}", lower_first(d)))
                .unwrap_or_else(|| format!(": {err}"));
                out.push(located.error(
                    &pointer,
                    format!("{path}: {} is not valid{what}", describe(err.instance())),
                ));
            }
            K::Type { .. } => {
                let expected = parent_schema
                    .and_then(|s| s.get("type"))
                    .map(|t| match t {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_else(|| "another type".to_string());
                out.push(located.error(
                    &pointer,
                    format!(
                        "{path}: {} should be {}",
                        describe(err.instance()),
                        article(&expected)
                    ),
                ));
            }
            _ => out.push(located.error(&pointer, format!("{path}: {err}"))),
        }
    }
    out.sort_by_key(|d| (d.line, d.column));
    out.dedup();
    out
}

/// The allowed words of an enum, written either as `enum` or (with documented variants) as
/// a `oneOf` of `const`s.
fn choices(kind: &jsonschema::error::ValidationErrorKind, parent: Option<&Value>) -> Vec<String> {
    use jsonschema::error::ValidationErrorKind as K;
    let strings = |a: &Value| -> Vec<String> {
        a.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    match kind {
        K::Enum { options } => strings(options),
        K::OneOfNotValid { .. } => {
            let Some(alts) = parent
                .and_then(|p| p.get("oneOf"))
                .and_then(Value::as_array)
            else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for alt in alts {
                if let Some(c) = alt.get("const").and_then(Value::as_str) {
                    out.push(c.to_string());
                } else if let Some(e) = alt.get("enum") {
                    out.extend(strings(e));
                } else {
                    return Vec::new();
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn article(json_type: &str) -> String {
    match json_type {
        "string" => "text".to_string(),
        "integer" => "a whole number".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "`true` or `false`".to_string(),
        "array" => "a list".to_string(),
        "object" => "a mapping of keys".to_string(),
        other => other.to_string(),
    }
}

/// Deserializes the checked document. After the schema check this fails only on what a
/// schema cannot say (e.g. 02-30), and the error still gets a place.
pub fn deserialize<T: DeserializeOwned>(located: &Located) -> Result<T, Vec<CalendarDiagnostic>> {
    serde_path_to_error::deserialize(&located.value).map_err(|e| {
        let mut pointer = String::new();
        for seg in e.path().iter() {
            use serde_path_to_error::Segment;
            match seg {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
                Segment::Enum { variant } => pointer.push_str(&format!("/{}", escape(variant))),
                Segment::Unknown => {}
            }
        }
        let msg = e.inner().to_string();
        vec![located.error(&pointer, format!("{}: {msg}", human_path(&pointer)))]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_positions_by_pointer() {
        let text = "a: 1\nlist:\n  - x: hello\n    y: [1, 2]\n";
        let l = parse(text, "t.yaml").unwrap();
        assert_eq!(l.pos("/a"), (1, 4));
        assert_eq!(l.key_pos("/list"), (2, 1));
        assert_eq!(l.pos("/list/0/x"), (3, 8));
        assert_eq!(l.key_pos("/list/0/y"), (4, 5));
        assert_eq!(l.pos("/list/0/y/1"), (4, 12));
        assert_eq!(l.pos("/list/0/nope"), (3, 5));
        assert_eq!(human_path("/list/0/y/1"), "list[0].y[1]");
    }

    #[test]
    fn syntax_errors_and_duplicates_get_a_place() {
        let err = parse("a: 1\na: 2\n", "t.yaml").unwrap_err();
        assert_eq!((err[0].line, err[0].column), (2, 1), "{}", err[0]);
        assert!(err[0].message.contains("duplicated key"), "{}", err[0]);
        let err = parse("a: [1, 2\n", "t.yaml").unwrap_err();
        assert!(err[0].to_string().starts_with("t.yaml:"), "{}", err[0]);
        // saphyr resolves aliases itself; they are harmless.
        let l = parse("a: &x 1\nb: *x\n", "t.yaml").unwrap();
        assert_eq!(l.value["b"], 1);
    }

    #[test]
    fn dates_and_times_stay_text() {
        let l = parse("d: 2024-05-08\nt: 09:00\nm: 01-07\nno: no\n", "t.yaml").unwrap();
        assert_eq!(l.value["d"], "2024-05-08");
        assert_eq!(l.value["t"], "09:00");
        assert_eq!(l.value["m"], "01-07");
        assert_eq!(l.value["no"], "no");
    }
}
