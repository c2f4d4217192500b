//! HTML forms from a step's JSON Schema, and the posted fields back into JSON for the engine,
//! which checks them against the same schema. Field names are paths: `d.iin`,
//! `d.family_members.0.full_name`; the engine's errors (JSON pointers) find their field
//! the same way.

use std::collections::HashMap;

use reglament_model::text::Lang;
use serde_json::{Map, Value};

/// Posted `application/x-www-form-urlencoded` fields, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData(pub Vec<(String, String)>);

/// A posted body that is not a form of UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

impl FormData {
    /// The fields of an `application/x-www-form-urlencoded` body. Text that is not UTF-8,
    /// as sent or once percent-decoded, is refused rather than patched with U+FFFD (which
    /// `form_urlencoded` would do): the API refuses such JSON too, and a registration must
    /// not keep an applicant's name mangled.
    pub fn parse(body: &[u8]) -> Result<FormData, NotUtf8> {
        let text = std::str::from_utf8(body).map_err(|_| NotUtf8)?;
        let decode = |s: &str| -> Result<String, NotUtf8> {
            let spaced = s.replace('+', " ");
            percent_encoding::percent_decode_str(&spaced)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| NotUtf8)
        };
        let mut out = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Ok(FormData(out))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (checkboxes of one name), trimmed, without the empty ones.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name`, trimmed, if not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// One control of a generated form.
#[derive(Debug, Clone, Default)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    pub help: String,
    /// `text`, `date`, `email`, `number`, `checkbox`, `select`, `textarea`.
    pub kind: &'static str,
    /// `1` for integers, `any` for numbers.
    pub step: &'static str,
    /// The most characters a text field takes (its `maxLength`, or the default).
    pub max_length: Option<u64>,
    pub value: String,
    pub checked: bool,
    pub required: bool,
    /// The choices of a select.
    pub options: Vec<Choice>,
    pub error: Option<String>,
    /// Fieldsets to open before the field, outermost first (their legends).
    pub groups: Vec<String>,
    /// Fieldsets to close after the field.
    pub group_end: usize,
}

/// One choice of a select.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The most rows a list of objects gets.
const MAX_ROWS: usize = 20;

fn kind_of(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(s)) => s,
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    }
}

fn pointer_to_name(prefix: &str, pointer: &str) -> String {
    let mut name = prefix.to_string();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        name.push('.');
        name.push_str(&part.replace("~1", "/").replace("~0", "~"));
    }
    name
}

/// Field name → message, from the engine's failing fields (pointers under `/data`). A
/// missing required property is reported at its parent; it is moved onto the property.
pub fn errors_by_field(
    prefix: &str,
    problems: &[crate::problem::FieldProblem],
    lang: Lang,
) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for p in problems {
        let Some(pointer) = p.pointer.strip_prefix("/data") else {
            continue;
        };
        let name = pointer_to_name(prefix, pointer);
        let message = p
            .rule
            .as_ref()
            .and_then(|r| super::i18n::field_rule(lang, r))
            .unwrap_or_else(|| p.detail.clone());
        out.entry(name)
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&message);
            })
            .or_insert(message);
    }
    out
}

/// The controls of a form for `schema`, filled from `values`, with `errors` by field name.
pub fn fields(
    schema: &Value,
    prefix: &str,
    values: &Value,
    errors: &HashMap<String, String>,
    lang: reglament_model::text::Lang,
) -> Vec<Field> {
    let mut out = Vec::new();
    object_fields(schema, prefix, values, errors, lang, false, &mut out);
    out
}

fn object_fields(
    schema: &Value,
    name: &str,
    values: &Value,
    errors: &HashMap<String, String>,
    lang: reglament_model::text::Lang,
    in_list: bool,
    out: &mut Vec<Field>,
) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (key, prop) in props {
        let field_name = format!("{name}.{key}");
        let value = values.get(key).unwrap_or(&Value::Null);
        let required = required.contains(&key.as_str()) && !in_list;
        field(
            prop,
            key,
            &field_name,
            value,
            required,
            errors,
            lang,
            in_list,
            out,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn field(
    schema: &Value,
    key: &str,
    name: &str,
    value: &Value,
    required: bool,
    errors: &HashMap<String, String>,
    lang: reglament_model::text::Lang,
    in_list: bool,
    out: &mut Vec<Field>,
) {
    let label = schema
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_string();
    let help = schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let id = format!("f-{}", name.replace('.', "-"));
    let error = errors.get(name).cloned();
    let scalar = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut f = Field {
        id,
        name: name.to_string(),
        label,
        help,
        required,
        error,
        ..Field::default()
    };
    let kind = kind_of(schema);
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        let current = scalar(value);
        f.kind = "select";
        f.options = std::iter::once(Choice {
            value: String::new(),
            label: "—".to_string(),
            selected: current.is_empty(),
        })
        .chain(options.iter().map(|o| {
            let value = scalar(o);
            Choice {
                selected: value == current,
                label: value.clone(),
                value,
            }
        }))
        .collect();
        out.push(f);
        return;
    }
    match kind {
        "object" => {
            let start = out.len();
            object_fields(schema, name, value, errors, lang, in_list, out);
            if out.len() > start {
                out[start].groups.insert(0, f.label);
                if let Some(last) = out.last_mut() {
                    last.group_end += 1;
                }
            }
        }
        "array" => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            let existing = value.as_array().map_or(&[][..], Vec::as_slice);
            if kind_of(items) == "object" {
                let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
                let rows = (existing.len() + 1).max(min).clamp(2, MAX_ROWS);
                let start = out.len();
                for i in 0..rows {
                    let row_start = out.len();
                    let row_value = existing.get(i).unwrap_or(&Value::Null);
                    object_fields(
                        items,
                        &format!("{name}.{i}"),
                        row_value,
                        errors,
                        lang,
                        true,
                        out,
                    );
                    if out.len() > row_start {
                        out[row_start].groups.push(format!(
                            "{} {}",
                            super::i18n::t(lang, "row"),
                            i + 1
                        ));
                        if let Some(last) = out.last_mut() {
                            last.group_end += 1;
                        }
                    }
                }
                if out.len() > start {
                    // The list's own fieldset wraps its rows'.
                    out[start].groups.insert(0, f.label.clone());
                    if let Some(e) = &f.error {
                        out[start].help = format!("{e} {}", out[start].help);
                    }
                    if let Some(last) = out.last_mut() {
                        last.group_end += 1;
                    }
                }
            } else {
                f.kind = "textarea";
                f.value = existing.iter().map(scalar).collect::<Vec<_>>().join("\n");
                if f.help.is_empty() {
                    f.help = super::i18n::t(lang, "one_per_line").to_string();
                }
                out.push(f);
            }
        }
        "boolean" => {
            f.kind = "checkbox";
            f.checked = value.as_bool().unwrap_or(false);
            // A checkbox cannot be "required" in the schema's sense (false is a value);
            // `const: true` is, and the browser may insist on it.
            f.required = required && schema.get("const") == Some(&Value::Bool(true));
            out.push(f);
        }
        "integer" | "number" => {
            f.kind = "number";
            f.step = if kind == "integer" { "1" } else { "any" };
            f.value = scalar(value);
            out.push(f);
        }
        _ => {
            f.kind = match schema.get("format").and_then(Value::as_str) {
                Some("date") => "date",
                Some("email") => "email",
                _ if schema.get("maxLength").and_then(Value::as_u64).unwrap_or(0) > 300 => {
                    "textarea"
                }
                _ => "text",
            };
            f.max_length = Some(crate::limits::max_length(schema));
            f.value = scalar(value);
            out.push(f);
        }
    }
}

/// The JSON the posted fields make for `schema` (fields under `prefix`). Empty fields are
/// left out, so that the schema's `required` reports them; numbers that do not parse are
/// kept as text, so that the schema reports them too.
pub fn read(schema: &Value, prefix: &str, form: &FormData) -> Value {
    let map: HashMap<&str, &str> = form
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    read_object(schema, prefix, &map).unwrap_or_else(|| Value::Object(Map::new()))
}

fn read_object(schema: &Value, name: &str, form: &HashMap<&str, &str>) -> Option<Value> {
    let props = schema.get("properties").and_then(Value::as_object)?;
    let mut out = Map::new();
    for (key, prop) in props {
        if let Some(v) = read_value(prop, &format!("{name}.{key}"), form) {
            out.insert(key.clone(), v);
        }
    }
    Some(Value::Object(out))
}

/// Whether a read value carries anything (a row of a list is kept only then).
fn has_content(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::Object(m) => m.values().any(has_content),
        Value::Array(a) => a.iter().any(has_content),
        _ => true,
    }
}

fn scalar_value(schema: &Value, text: &str) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(match kind_of(schema) {
        "integer" => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_string())),
        "number" if text.parse::<i64>().is_ok() => {
            text.parse::<i64>().map(Value::from).unwrap_or(Value::Null)
        }
        "number" => text
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_string())),
        "boolean" => Value::Bool(matches!(text, "on" | "true" | "1")),
        _ => Value::String(text.to_string()),
    })
}

fn read_value(schema: &Value, name: &str, form: &HashMap<&str, &str>) -> Option<Value> {
    if schema.get("enum").is_some() {
        let text = form.get(name)?;
        let options = schema.get("enum").and_then(Value::as_array)?;
        // An option's JSON value, whatever its type.
        return options
            .iter()
            .find(|o| match o {
                Value::String(s) => s == text,
                other => {
                    let shown = other.to_string();
                    shown == *text
                }
            })
            .cloned()
            .or_else(|| scalar_value(schema, text));
    }
    match kind_of(schema) {
        "object" => read_object(schema, name, form).filter(has_content),
        "array" => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            let list: Vec<Value> = if kind_of(items) == "object" {
                (0..MAX_ROWS)
                    .filter_map(|i| read_object(items, &format!("{name}.{i}"), form))
                    .filter(has_content)
                    .collect()
            } else {
                form.get(name)
                    .map(|t| {
                        t.lines()
                            .filter_map(|line| scalar_value(items, line))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            (!list.is_empty()).then_some(Value::Array(list))
        }
        "boolean" => Some(Value::Bool(form.contains_key(name))),
        _ => scalar_value(schema, form.get(name)?),
    }
}

/// A filled form as (label, value) lines for reading, labels from the schema's titles.
pub fn describe(
    schema: Option<&Value>,
    value: &Value,
    lang: reglament_model::text::Lang,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    describe_into(schema, value, "", lang, &mut out);
    out
}

fn describe_into(
    schema: Option<&Value>,
    value: &Value,
    label: &str,
    lang: reglament_model::text::Lang,
    out: &mut Vec<(String, String)>,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let sub = schema
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.get(k));
                let title = sub
                    .and_then(|s| s.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or(k);
                let full = if label.is_empty() {
                    title.to_string()
                } else {
                    format!("{label} · {title}")
                };
                describe_into(sub, v, &full, lang, out);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let sub = schema.and_then(|s| s.get("items"));
            for (i, v) in items.iter().enumerate() {
                describe_into(sub, v, &format!("{label} {}", i + 1), lang, out);
            }
        }
        Value::Array(items) => out.push((
            label.to_string(),
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        )),
        Value::Bool(b) => out.push((
            label.to_string(),
            super::i18n::t(lang, if *b { "yes" } else { "no" }).to_string(),
        )),
        Value::String(s) => out.push((label.to_string(), s.clone())),
        Value::Null => {}
        other => out.push((label.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reglament_runtime::FieldRule;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["full_name", "iin", "members"],
            "properties": {
                "full_name": {"type": "string", "title": "Name"},
                "iin": {"type": "string", "pattern": "^[0-9]{12}$"},
                "size": {"type": "integer"},
                "born": {"type": "string", "format": "date"},
                "ok": {"type": "boolean", "const": true},
                "ground": {"type": "string", "enum": ["a", "b"]},
                "members": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["n"],
                    "properties": {"n": {"type": "string"}, "adult": {"type": "boolean"}}
                }},
                "tags": {"type": "array", "items": {"type": "string"}}
            }
        })
    }

    #[test]
    fn a_form_is_utf8_text_or_refused() {
        let f = FormData::parse(b"a=%D0%90%D0%B9+%D0%B3%D2%AF%D0%BB&b=1%2B1&c&=x").expect("form");
        assert_eq!(f.get("a"), Some("Ай гүл"));
        assert_eq!(f.get("b"), Some("1+1"));
        assert_eq!(f.get("c"), Some(""));
        assert_eq!(FormData::parse(b"a=%FF%FE"), Err(NotUtf8));
        assert_eq!(FormData::parse(b"a=%D0"), Err(NotUtf8));
        assert_eq!(FormData::parse(b"a=\xff"), Err(NotUtf8));
        assert_eq!(FormData::parse(b"").map(|f| f.0.len()), Ok(0));
    }

    #[test]
    fn posted_fields_become_the_json_the_schema_describes() {
        let form = FormData(
            [
                ("d.full_name", "Айгүл"),
                ("d.iin", " 123 "),
                ("d.size", "4"),
                ("d.born", ""),
                ("d.ok", "on"),
                ("d.ground", "b"),
                ("d.members.0.n", "Асан"),
                ("d.members.1.n", ""),
                ("d.tags", "x\n\ny"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let v = read(&schema(), "d", &form);
        assert_eq!(
            v,
            json!({"full_name": "Айгүл", "iin": "123", "size": 4, "ok": true, "ground": "b",
                   "members": [{"n": "Асан", "adult": false}], "tags": ["x", "y"]})
        );
        let bad = FormData(vec![("d.size".into(), "four".into())]);
        assert_eq!(read(&schema(), "d", &bad)["size"], "four");
    }

    #[test]
    fn controls_follow_the_schema_and_errors_find_their_field() {
        let problems = vec![
            crate::problem::FieldProblem {
                rule: Some(FieldRule::Required),
                ..crate::problem::FieldProblem::new(
                    "/data/full_name",
                    "\"full_name\" is a required property",
                )
            },
            crate::problem::FieldProblem {
                rule: Some(FieldRule::Pattern),
                ..crate::problem::FieldProblem::new("/data/iin", "\"1\" does not match")
            },
            crate::problem::FieldProblem {
                rule: Some(FieldRule::Other),
                ..crate::problem::FieldProblem::new("/data/size", "something else")
            },
        ];
        let errors = errors_by_field("d", &problems, Lang::Ru);
        // Said in the reader's language; a rule without words keeps the validator's message.
        assert_eq!(errors["d.full_name"], "Обязательное поле");
        assert_eq!(errors["d.iin"], "Значение не соответствует формату");
        assert_eq!(errors["d.size"], "something else");
        let f = fields(
            &schema(),
            "d",
            &json!({"iin": "1", "members": [{"n": "A"}]}),
            &errors,
            reglament_model::text::Lang::En,
        );
        let by = |n: &str| f.iter().find(|x| x.name == n).expect(n);
        assert_eq!(by("d.full_name").label, "Name");
        assert!(by("d.full_name").required && by("d.full_name").error.is_some());
        assert_eq!(by("d.iin").value, "1");
        assert_eq!(
            by("d.iin").max_length,
            Some(crate::limits::DEFAULT_MAX_LENGTH)
        );
        assert!(by("d.iin").error.is_some());
        assert_eq!(by("d.size").kind, "number");
        assert_eq!(by("d.born").kind, "date");
        assert_eq!(by("d.ok").kind, "checkbox");
        assert_eq!(by("d.ground").options.len(), 3);
        assert_eq!(by("d.members.0.n").value, "A");
        // One filled row plus an empty one.
        assert!(f.iter().any(|x| x.name == "d.members.1.n"));
        assert!(!f.iter().any(|x| x.name == "d.members.2.n"));
        assert_eq!(by("d.tags").kind, "textarea");
        // Fieldsets open and close in balance.
        let opened: usize = f.iter().map(|x| x.groups.len()).sum();
        let closed: usize = f.iter().map(|x| x.group_end).sum();
        assert_eq!(opened, closed);
    }
}
