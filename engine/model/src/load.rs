//! Reading a regulation file: YAML syntax, then the JSON Schema (every structural mistake at
//! once, each at its line and column), then the typed model.
//!
//! Semantic checks on the typed model live in [`crate::validate`]; they run only once the
//! shape is right, as a compiler type-checks only what parsed.

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::Deserialize;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::duration::{self, Term};
use crate::model::Regulation;
use crate::schema;
use crate::yaml::{self, Spans, escape_token};

/// A regulation read from text, with the places of its parts.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: String,
    pub source: String,
    pub regulation: Regulation,
    pub spans: Spans,
}

/// Reads and checks the shape of a regulation file.
pub fn load_file(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            &file,
            Code::E001,
            Location::new(1, 1),
            format!("cannot read the file: {e}"),
        )]
    })?;
    load_str(&text, &file)
}

/// Reads and checks the shape of regulation text; `file` names it in diagnostics.
pub fn load_str(text: &str, file: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let (value, spans) = yaml::parse(text, file).map_err(|d| vec![*d])?;
    let diags = check_schema(&value, &spans, file);
    if !diags.is_empty() {
        return Err(diags);
    }
    // Tracking the path through every field is a good share of deserialising and is needed only
    // to place an error, which the schema has nearly always reported already: on the rare
    // failure the text is parsed again and deserialised with the path tracked.
    let regulation = match Regulation::deserialize(value) {
        Ok(regulation) => regulation,
        Err(_) => {
            let (value, _) = yaml::parse(text, file).map_err(|d| vec![*d])?;
            deserialize(value, &spans, file).map_err(|d| vec![*d])?
        }
    };
    Ok(Loaded {
        file: file.to_string(),
        source: text.to_string(),
        regulation,
        spans,
    })
}

fn deserialize(value: Value, spans: &Spans, file: &str) -> Result<Regulation, Box<Diagnostic>> {
    deserialize_located(value, spans, file)
}

/// Deserializes a document whose shape the schema has checked. This fails only on what a
/// schema cannot say (a 30 February), and the mistake still gets its place in the file.
pub fn deserialize_located<T: serde::de::DeserializeOwned>(
    value: Value,
    spans: &Spans,
    file: &str,
) -> Result<T, Box<Diagnostic>> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let pointer = path_to_pointer(err.path());
        Box::new(
            Diagnostic::new(
                file,
                Code::E016,
                spans.value_at(&pointer),
                err.inner().to_string(),
            )
            .with_pointer(pointer),
        )
    })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&escape_token(key))
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// A JSON Schema compiled once, with the words for the document it describes: every YAML
/// file Reglament reads (regulations, calendars, offices, migration plans) is checked by one
/// of these, so each structural mistake is located and worded the same way.
pub struct SchemaCheck {
    validator: jsonschema::Validator,
    schema: &'static Value,
    /// What the whole document is called in a message ("the regulation", "the calendar").
    document: &'static str,
}

impl SchemaCheck {
    /// Compiles `schema` (draft 2020-12, formats checked).
    pub fn new(
        schema: &'static Value,
        document: &'static str,
    ) -> Result<SchemaCheck, Box<jsonschema::ValidationError<'static>>> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema)
            .map_err(Box::new)?;
        Ok(SchemaCheck {
            validator,
            schema,
            document,
        })
    }

    /// Whether the value has the document's shape.
    pub fn accepts(&self, value: &Value) -> bool {
        self.validator.is_valid(value)
    }

    /// Every structural mistake, located and explained.
    pub fn check(&self, value: &Value, spans: &Spans, file: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for err in self.validator.iter_errors(value) {
            explain(&err, value, spans, file, self, &mut out);
        }
        out.sort_by_key(|d| (d.location, d.code));
        out.dedup_by(|a, b| a.location == b.location && a.code == b.code && a.message == b.message);
        out
    }
}

fn regulation_check() -> &'static SchemaCheck {
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        SchemaCheck::new(schema::regulation_schema_cached(), "the regulation")
            .expect("the generated regulation schema is a valid JSON Schema")
    })
}

/// The compiled regulation schema, for callers that only want a yes or no.
pub fn schema_accepts(value: &Value) -> bool {
    regulation_check().accepts(value)
}

/// Every structural mistake of a regulation, located and explained.
pub fn check_schema(value: &Value, spans: &Spans, file: &str) -> Vec<Diagnostic> {
    regulation_check().check(value, spans, file)
}

fn explain(
    err: &jsonschema::ValidationError<'_>,
    root: &Value,
    spans: &Spans,
    file: &str,
    check: &SchemaCheck,
    out: &mut Vec<Diagnostic>,
) {
    let schema = check.schema;
    let pointer = err.instance_path().to_string();
    let instance = root.pointer(&pointer).unwrap_or(&Value::Null);
    let at = spans.value_at(&pointer);
    let what = describe(&pointer, check.document);
    let diag = match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_properties(schema, &err.schema_path().to_string());
            for key in unexpected {
                let child = format!("{pointer}/{}", escape_token(key));
                let mut d = Diagnostic::new(
                    file,
                    Code::E010,
                    spans.key_at(&child),
                    format!("unknown key `{key}` in {what}"),
                )
                .with_pointer(child);
                if let Some(s) = duration::suggest(key, allowed.iter().map(String::as_str)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else if !allowed.is_empty() {
                    d = d.with_help(format!("the keys here are: {}", allowed.join(", ")));
                }
                out.push(d);
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            Diagnostic::new(
                file,
                Code::E011,
                spans.key_at(&pointer),
                format!("{what} is missing the key `{name}`"),
            )
        }
        ValidationErrorKind::Type { kind } => Diagnostic::new(
            file,
            Code::E012,
            at,
            format!(
                "{what} should be {}, found {}",
                expected_type(kind),
                json_kind(instance)
            ),
        ),
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            enum_error(instance, &names, &what, file, at)
        }
        ValidationErrorKind::Constant { expected_value } => Diagnostic::new(
            file,
            Code::E013,
            at,
            format!("{what} must be {expected_value}"),
        ),
        ValidationErrorKind::Pattern { pattern } => {
            let description = described(schema, &err.schema_path().to_string());
            pattern_error(pattern, description, instance, &what, file, at)
        }
        ValidationErrorKind::Format { format } => {
            let found = instance.as_str().unwrap_or_default();
            let hint = match format.as_str() {
                "date" => "a date written YYYY-MM-DD, e.g. 2012-11-16",
                "date-time" => "an instant written in RFC 3339, e.g. 2026-03-20T17:45:00+05:00",
                _ => format.as_str(),
            };
            Diagnostic::new(
                file,
                Code::E015,
                at,
                format!("`{found}` is not {hint} ({what})"),
            )
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }
            if one_of_constants(context).is_some() =>
        {
            // A documented enum renders as `oneOf` of constants: report it as a choice.
            let names = one_of_constants(context).unwrap_or_default();
            enum_error(instance, &names, &what, file, at)
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // `Option<T>` becomes `anyOf: [T, null]`: the useful errors are those of `T`.
            let branch = context
                .iter()
                .filter(|errs| !errs.is_empty())
                .min_by_key(|errs| {
                    errs.iter()
                        .filter(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }))
                        .count()
                });
            if let Some(errs) = branch {
                for e in errs {
                    explain(e, root, spans, file, check, out);
                }
                return;
            }
            Diagnostic::new(file, Code::E016, at, format!("{what}: {}", err.masked()))
        }
        _ => Diagnostic::new(file, Code::E016, at, format!("{what}: {}", err.masked())),
    };
    out.push(diag.with_pointer(pointer));
}

fn one_of_constants(context: &[Vec<jsonschema::ValidationError<'static>>]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for errs in context {
        match errs.as_slice() {
            [e] => match e.kind() {
                ValidationErrorKind::Constant { expected_value } => {
                    names.push(expected_value.as_str()?.to_string())
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    (!names.is_empty()).then_some(names)
}

fn enum_error(
    instance: &Value,
    names: &[String],
    what: &str,
    file: &str,
    at: Location,
) -> Diagnostic {
    let found = instance
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| instance.to_string());
    let d = Diagnostic::new(
        file,
        Code::E013,
        at,
        format!("`{found}` is not allowed for {what}"),
    );
    match duration::suggest(&found, names.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!("use one of: {}", names.join(", "))),
    }
}

fn pattern_error(
    pattern: &str,
    description: Option<&str>,
    instance: &Value,
    what: &str,
    file: &str,
    at: Location,
) -> Diagnostic {
    let found = instance.as_str().unwrap_or_default();
    if *pattern == duration::json_schema_pattern() {
        let message = match found.parse::<Term>() {
            Err(e) => e.to_string(),
            Ok(_) => "a duration of zero is not a duration".to_string(),
        };
        let mut d = Diagnostic::new(file, Code::E014, at, format!("{message} ({what})"));
        if let Err(duration::TermError::UnknownUnit {
            suggestion: Some(s),
            ..
        }) = found.parse::<Term>()
        {
            let amount: String = found
                .trim()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            d = d.with_help(format!("write `{amount} {s}`"));
        }
        return d;
    }
    let described;
    let hint = if pattern.contains("[01][0-9]|2[0-3]") {
        "a time of day written HH:MM, e.g. 09:00"
    } else if pattern.contains("a-z0-9-") {
        "an identifier of lower-case letters, digits and hyphens, e.g. `atyrau-child-benefit`"
    } else if pattern.contains("a-z0-9_") {
        "an identifier of lower-case Latin letters, digits and `_`, starting with a letter, e.g. `assign_executor`"
    } else if let Some(d) = description {
        described = lower_first(d.trim_end_matches('.'));
        &described
    } else {
        pattern
    };
    Diagnostic::new(
        file,
        Code::E015,
        at,
        format!("`{found}` is not {hint} ({what})"),
    )
}

/// The `description` of the schema that holds the failed keyword, following `$ref`s the
/// way the validator did (its keyword location passes through them).
fn described<'s>(schema: &'s Value, keyword_location: &str) -> Option<&'s str> {
    let segments: Vec<String> = keyword_location
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut cur = schema;
    for seg in &segments[..segments.len().saturating_sub(1)] {
        cur = follow_refs(schema, cur);
        if seg == "$ref" {
            continue;
        }
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    follow_refs(schema, cur)
        .get("description")
        .and_then(Value::as_str)
}

fn follow_refs<'s>(root: &'s Value, mut cur: &'s Value) -> &'s Value {
    // A bound, not a search: generated schemas chain at most a couple of references.
    for _ in 0..8 {
        let Some(target) = cur
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        else {
            break;
        };
        match root.pointer(target) {
            Some(next) => cur = next,
            None => break,
        }
    }
    cur
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The names allowed where `additionalProperties` failed: the sibling `properties` of the
/// keyword in the (canonical) schema location.
fn allowed_properties(schema: &Value, schema_path: &str) -> Vec<String> {
    let parent = schema_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(schema_path);
    schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

/// "step 3 (`/steps/2`)"-style words for a pointer, so messages read naturally.
fn describe(pointer: &str, document: &str) -> String {
    if pointer.is_empty() {
        return document.to_string();
    }
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let field = parts.last().copied().unwrap_or_default();
    match parts.as_slice() {
        [list, i] if i.parse::<usize>().is_ok() => {
            format!("{} {}", singular(list), i.parse::<usize>().unwrap_or(0) + 1)
        }
        _ if field.parse::<usize>().is_ok() => format!(
            "item {} of `{}`",
            field.parse::<usize>().unwrap_or(0) + 1,
            parent_field(&parts)
        ),
        _ => format!("`{field}`"),
    }
}

fn parent_field<'a>(parts: &[&'a str]) -> &'a str {
    parts.iter().rev().nth(1).copied().unwrap_or_default()
}

fn singular(list: &str) -> &str {
    match list {
        "steps" => "step",
        "roles" => "role",
        "channels" => "channel",
        "notes" => "note",
        "holidays" => "holiday",
        "transfers" => "transfer",
        "offices" => "office",
        other => other,
    }
}

fn expected_type(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => article(&t.to_string()),
        TypeKind::Multiple(set) => {
            let names: Vec<String> = set
                .iter()
                .filter(|t| t.to_string() != "null")
                .map(|t| article(&t.to_string()))
                .collect();
            names.join(" or ")
        }
    }
}

fn article(json_type: &str) -> String {
    match json_type {
        "object" => "a mapping (key: value lines)".to_string(),
        "array" => "a list (lines starting with `- `)".to_string(),
        "string" => "text".to_string(),
        "integer" => "a whole number".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "true or false".to_string(),
        other => other.to_string(),
    }
}

fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "nothing".to_string(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text `{s}`"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"id: demo
version: 1
valid_from: 2012-11-16
title: {kk: Қызмет, ru: Услуга}
source: {act: Постановление}
region: atyrau
roles:
  - id: head
    kind: person
    name: {kk: Басшы, ru: Руководитель}
channels:
  - id: provider
    kind: provider_office
    start: sign
    term: {text: в течение одного рабочего дня, duration: 1 working day}
steps:
  - id: sign
    kind: task
    name: {kk: Қол қою, ru: Подписание}
    role: head
    duration: 15 minutes
    next: done
  - id: done
    kind: end
    name: {kk: Дайын, ru: Готово}
    result: granted
"#;

    fn errors(text: &str) -> Vec<Diagnostic> {
        load_str(text, "t.yaml").expect_err("should fail")
    }

    #[test]
    fn minimal_loads() {
        let loaded = load_str(MINIMAL, "t.yaml").unwrap();
        assert_eq!(loaded.regulation.id, "demo");
        assert_eq!(loaded.regulation.steps.len(), 2);
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let text = MINIMAL.replace("    duration: 15 minutes", "    duraton: 15 minutes");
        let errs = errors(&text);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_eq!(errs[0].code, Code::E010);
        assert_eq!(errs[0].location, Location::new(21, 5));
        assert_eq!(errs[0].help.as_deref(), Some("did you mean `duration`?"));
    }

    #[test]
    fn duration_typo_is_explained() {
        let text = MINIMAL.replace("duration: 15 minutes", "duration: 5 workng days");
        let errs = errors(&text);
        assert_eq!(errs[0].code, Code::E014);
        assert_eq!(errs[0].location, Location::new(21, 15));
        assert!(
            errs[0].message.contains("did you mean `working days`"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn every_structural_error_at_once() {
        let text = MINIMAL
            .replace("version: 1", "version: one")
            .replace("kind: provider_office", "kind: provider_ofice")
            .replace("result: granted", "result: grant");
        let errs = errors(&text);
        let codes: Vec<Code> = errs.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::E012, Code::E013, Code::E013], "{errs:#?}");
        assert_eq!(
            errs[1].help.as_deref(),
            Some("did you mean `provider_office`?")
        );
        assert_eq!(errs[2].location, Location::new(26, 13));
    }

    #[test]
    fn missing_key_and_bad_kind() {
        let text = MINIMAL
            .replace("    role: head\n", "")
            .replace("kind: end", "kind: ending");
        let errs = errors(&text);
        assert!(
            errs.iter()
                .any(|d| d.code == Code::E011 && d.message.contains("`role`")),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|d| d.code == Code::E013 && d.help.as_deref() == Some("did you mean `end`?")),
            "{errs:#?}"
        );
    }
}
