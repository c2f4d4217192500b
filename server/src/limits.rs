//! How long free text may be. A form's text field has the `maxLength` its regulation gives
//! it (checked by the engine with the rest of the JSON Schema); a text field without one
//! takes at most [`DEFAULT_MAX_LENGTH`] characters, checked here for the API and the web
//! forms alike, before the engine sees the data. Reasons and notes take at most
//! [`MAX_REASON`]. The web forms say the same limits with `maxlength`, so a browser stops
//! at them; the server checks anyway. (The request body has its own limit, `--body-limit`.)

use reglament_model::compile::Process;
use reglament_model::model::Step;
use reglament_runtime::{CommandError, FieldError, FieldRule};
use serde_json::Value;

use crate::api::field_error;
use crate::problem::Problem;

/// Characters of a form's text field whose schema gives no `maxLength`.
pub const DEFAULT_MAX_LENGTH: u64 = 1000;
/// Characters of a reason or a note (a refusal's grounds, a cancellation).
pub const MAX_REASON: usize = 2000;

/// The limit the web form puts on a text field of this schema.
pub fn max_length(schema: &Value) -> u64 {
    schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_LENGTH)
}

/// The JSON Schema of a step's form (`None`: the step has none).
pub fn step_form<'p>(process: &'p Process, step: &str) -> Option<&'p Value> {
    let i = process.step_index(step)?;
    match &process.regulation.steps[i] {
        Step::Task(t) => t.form.as_ref().map(|f| &f.0),
        _ => None,
    }
}

/// Whether `data` has any text long enough to need [`check_data`] (a cheap scan, so that the
/// common case does not look up the form).
pub fn has_long_text(data: &Value) -> bool {
    match data {
        Value::String(s) => s.len() as u64 > DEFAULT_MAX_LENGTH,
        Value::Array(a) => a.iter().any(has_long_text),
        Value::Object(m) => m.values().any(has_long_text),
        _ => false,
    }
}

/// Refuses text in `data` longer than its field allows when the form (`schema`) sets no
/// `maxLength` for it, as the engine refuses data that fails the form: 422 `invalid-data`
/// with one entry per field (pointers under `/data`).
pub fn check_data(schema: Option<&Value>, data: &Value) -> Result<(), Problem> {
    let mut errors = Vec::new();
    walk(schema, data, &mut String::new(), &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError::InvalidData { errors }.into())
    }
}

/// Refuses a reason or note longer than [`MAX_REASON`] (422 `too-long` at `pointer`).
pub fn check_reason(pointer: &str, text: Option<&str>) -> Result<(), Problem> {
    match text {
        Some(t) if t.chars().count() > MAX_REASON => Err(field_error(
            "too-long",
            pointer,
            format!("at most {MAX_REASON} characters"),
        )),
        _ => Ok(()),
    }
}

fn walk(schema: Option<&Value>, value: &Value, pointer: &mut String, out: &mut Vec<FieldError>) {
    match value {
        Value::String(s) => {
            let own = schema.and_then(|s| s.get("maxLength")).is_some();
            if !own && s.chars().count() as u64 > DEFAULT_MAX_LENGTH {
                out.push(FieldError {
                    pointer: pointer.clone(),
                    message: format!(
                        "the text is longer than {DEFAULT_MAX_LENGTH} characters (the limit of a field without maxLength)"
                    ),
                    rule: FieldRule::MaxLength {
                        limit: DEFAULT_MAX_LENGTH,
                    },
                });
            }
        }
        Value::Array(items) => {
            let sub = schema
                .and_then(|s| s.get("items"))
                .filter(|i| i.is_object());
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                walk(sub, v, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let sub = schema.and_then(|s| {
                    s.get("properties")
                        .and_then(|p| p.get(k))
                        .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
                });
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(sub, v, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_without_a_limit_of_its_own_gets_the_default() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string"},
            "note": {"type": "string", "maxLength": 5000},
            "kids": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}}
        }});
        let long = "я".repeat(1001);
        let ok = "я".repeat(1000);
        assert!(check_data(Some(&schema), &json!({"name": ok, "note": long})).is_ok());
        let p = check_data(
            Some(&schema),
            &json!({"name": long, "kids": [{"n": "a"}, {"n": long}], "extra/x": long}),
        )
        .expect_err("too long");
        assert_eq!((p.status, p.code), (422, "invalid-data"));
        let pointers: Vec<&str> = p.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/data/name", "/data/kids/1/n", "/data/extra~1x"]);
        assert!(check_data(None, &json!({"x": long})).is_err());
        assert!(check_reason("/reason", Some(&"x".repeat(MAX_REASON))).is_ok());
        assert!(check_reason("/reason", Some(&"x".repeat(MAX_REASON + 1))).is_err());
        assert_eq!(max_length(&json!({"maxLength": 12})), 12);
        assert_eq!(max_length(&json!({})), DEFAULT_MAX_LENGTH);
    }
}
