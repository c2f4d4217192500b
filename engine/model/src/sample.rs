//! Plausible data for a form, made from its JSON Schema: for simulations, demo cases and
//! tests that drive every regulation. Only what the schema requires is filled in.

use serde_json::{Map, Value, json};

/// A value that satisfies the common constructs of `schema` (types, required properties,
/// enums and constants, `minLength`, `minimum`, `minItems`, date formats, digit patterns such
/// as the 12-digit IIN, `oneOf`/`anyOf` by their first alternative). Check the result with
/// the form's validator: exotic schemas may need more than this.
pub fn sample(schema: &Value) -> Value {
    sample_at(schema, 0)
}

fn sample_at(schema: &Value, depth: usize) -> Value {
    let Some(s) = schema.as_object() else {
        return Value::Null;
    };
    if depth > 16 {
        return Value::Null;
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(d) = s.get("default") {
        return d.clone();
    }
    if let Some(e) = s
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return e.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return sample_at(first, depth + 1);
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ => "null",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = s.get("properties").and_then(Value::as_object);
            let required = s.get("required").and_then(Value::as_array);
            for name in required.into_iter().flatten().filter_map(Value::as_str) {
                let prop = props.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                out.insert(name.to_string(), sample_at(prop, depth + 1));
            }
            Value::Object(out)
        }
        "array" => {
            let n = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = s.get("items").cloned().unwrap_or(Value::Null);
            Value::Array((0..n).map(|_| sample_at(&item, depth + 1)).collect())
        }
        "string" => Value::String(sample_string(s)),
        "integer" => json!(number_at_least(s).ceil() as i64),
        "number" => json!(number_at_least(s)),
        "boolean" => Value::Bool(true),
        _ => Value::Null,
    }
}

fn number_at_least(s: &Map<String, Value>) -> f64 {
    let min = s.get("minimum").and_then(Value::as_f64);
    let exclusive = s
        .get("exclusiveMinimum")
        .and_then(Value::as_f64)
        .map(|m| m + 1.0);
    min.into_iter().chain(exclusive).fold(1.0_f64, f64::max)
}

fn sample_string(s: &Map<String, Value>) -> String {
    match s.get("format").and_then(Value::as_str) {
        Some("date") => return "2026-01-15".to_string(),
        Some("date-time") => return "2026-01-15T10:00:00+05:00".to_string(),
        Some("email") => return "applicant@example.kz".to_string(),
        _ => {}
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str)
        && let Some(n) = digits_pattern(p)
    {
        // An IIN-shaped number: born 1 January 1990, then a plausible tail.
        let base = "900101400123456789";
        return base.chars().cycle().take(n).collect();
    }
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
    let mut text = "Тест".to_string();
    while text.chars().count() < min {
        text.push('т');
    }
    text
}

/// `^[0-9]{12}$` or `^\d{12}$` → 12.
fn digits_pattern(p: &str) -> Option<usize> {
    let inner = p.strip_prefix('^')?.strip_suffix('$')?;
    let rest = inner
        .strip_prefix("[0-9]")
        .or_else(|| inner.strip_prefix("\\d"))?;
    rest.strip_prefix('{')?.strip_suffix('}')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_required_fields_to_satisfy_the_schema() {
        let schema = json!({
            "type": "object",
            "required": ["name", "iin", "size", "docs", "kind", "born", "ok"],
            "properties": {
                "name": {"type": "string", "minLength": 6},
                "iin": {"type": "string", "pattern": "^[0-9]{12}$"},
                "size": {"type": "integer", "minimum": 2},
                "docs": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["n"], "properties": {"n": {"type": "string"}}}},
                "kind": {"oneOf": [{"const": "citizen"}, {"const": "foreigner"}]},
                "born": {"type": "string", "format": "date"},
                "ok": {"type": "boolean", "const": true},
                "optional": {"type": "string"}
            },
            "additionalProperties": false
        });
        let value = sample(&schema);
        let validator = jsonschema::validator_for(&schema).expect("schema");
        assert!(validator.is_valid(&value), "{value:#}");
        assert_eq!(value["iin"], "900101400123");
        assert!(value.get("optional").is_none());
    }
}
