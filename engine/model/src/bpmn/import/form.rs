//! The application form a plain BPMN file implies. BPMN conditions read the case's data
//! (`data.complete == true`), but only Reglament's own extension elements carry the form
//! that declares those fields; without one every such condition would be an `E041`. So the
//! draft declares each field a condition compares with a literal, typed by that literal,
//! and says (a `TODO(import)`) that the analyst must give it its titles and constraints.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The JSON Schema type a literal in a condition has.
fn literal_type(text: &str) -> Option<&'static str> {
    let t = text.trim_start();
    if t.starts_with("true") || t.starts_with("false") {
        return Some("boolean");
    }
    if t.starts_with('"') || t.starts_with('\'') {
        return Some("string");
    }
    let number: String = t
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'u'))
        .collect();
    if number.is_empty() || number == "-" {
        None
    } else if number.contains('.') {
        Some("number")
    } else {
        Some("integer")
    }
}

/// The fields of `data` the conditions compare with a literal (`data.x == 1`, `data.x > 2.5`,
/// `"a" == data.x` is not matched: BPMN tools write the field first), with their types. A
/// field compared with literals of two types is left out: the draft cannot guess, and the
/// validator will say so at the condition.
pub fn implied_fields<'a>(
    conditions: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, &'static str> {
    let mut seen: BTreeMap<String, Option<&'static str>> = BTreeMap::new();
    for condition in conditions {
        let mut rest = condition;
        while let Some(at) = rest.find("data.") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "data.".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                continue;
            }
            let after = rest[name.len()..].trim_start();
            let operator = ["==", "!=", "<=", ">=", "<", ">"]
                .into_iter()
                .find(|op| after.starts_with(op));
            let Some(kind) = operator.and_then(|op| literal_type(&after[op.len()..])) else {
                continue;
            };
            seen.entry(name)
                .and_modify(|k| {
                    if *k != Some(kind) {
                        *k = None;
                    }
                })
                .or_insert(Some(kind));
        }
    }
    seen.into_iter()
        .filter_map(|(name, kind)| Some((name, kind?)))
        .collect()
}

/// A form declaring `fields`, each required (a condition reads it without `has()`).
pub fn implied_form(fields: &BTreeMap<String, &'static str>) -> Value {
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(name, kind)| (name.clone(), json!({ "type": kind })))
        .collect();
    json!({
        "type": "object",
        "required": fields.keys().collect::<Vec<_>>(),
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_typed_by_the_literal_they_are_compared_with() {
        let fields = implied_fields([
            "data.complete == true",
            "data.children >= 3 && data.income < 120000.5",
            "data.kind == \"single\" || data.kind != 'twin'",
            "outcomes.review == \"approve\"",
            "mydata.x == 1",
        ]);
        let want: BTreeMap<String, &str> = [
            ("children", "integer"),
            ("complete", "boolean"),
            ("income", "number"),
            ("kind", "string"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(fields, want);
    }

    #[test]
    fn a_field_of_two_types_is_left_to_the_analyst() {
        let fields = implied_fields(["data.x == 1 || data.x == \"one\"", "data.y"]);
        assert!(fields.is_empty(), "{fields:?}");
        let form = implied_form(&implied_fields(["data.ok == false"]));
        assert_eq!(form["required"], json!(["ok"]));
        assert_eq!(form["properties"]["ok"]["type"], "boolean");
    }
}
