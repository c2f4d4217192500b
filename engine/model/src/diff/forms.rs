//! Forms (JSON Schemas of what a person fills in): fields added and removed, fields that
//! became required or optional, and the constraints of each field (`type`, `enum`, `pattern`,
//! `maxLength`, …), nested objects field by field.

use serde_json::{Map, Value};

use crate::yaml::escape_token;

use super::{Pair, What};

/// Keywords that label a field rather than constrain it.
const WORDING: [&str; 5] = ["title", "description", "$comment", "examples", "default"];

/// Compares a form of the old version (at pointer `o`) with one of the new (at `n`); `step`
/// is the task whose form it is, `None` for the application form.
pub fn compare(
    p: &mut Pair<'_>,
    step: Option<&str>,
    a: Option<&Value>,
    b: Option<&Value>,
    o: &str,
    n: &str,
) {
    let step = step.map(str::to_string);
    match (a, b) {
        (None, None) => {}
        (None, Some(_)) => p.push(What::FormAdded { step }, Some(o), Some(n)),
        (Some(_), None) => p.push(What::FormRemoved { step }, Some(o), Some(n)),
        (Some(a), Some(b)) => object(p, &step, "", a, b, o, n),
    }
}

fn props(v: &Value) -> Option<&Map<String, Value>> {
    v.get("properties").and_then(Value::as_object)
}

fn required(v: &Value) -> Vec<&str> {
    v.get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn dotted(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// An object schema: its own constraints, then its fields in the new order, removed ones last.
fn object(
    p: &mut Pair<'_>,
    step: &Option<String>,
    prefix: &str,
    a: &Value,
    b: &Value,
    o: &str,
    n: &str,
) {
    constraints(p, step, prefix, a, b, o, n);
    let empty = Map::new();
    let (pa, pb) = (props(a).unwrap_or(&empty), props(b).unwrap_or(&empty));
    let (ra, rb) = (required(a), required(b));
    let field_at = |base: &str, name: &str| format!("{base}/properties/{}", escape_token(name));
    let required_at =
        |base: &str, list: &[&str], name: &str| match list.iter().position(|r| *r == name) {
            Some(i) => format!("{base}/required/{i}"),
            None => field_at(base, name),
        };
    for (name, fb) in pb {
        let field = dotted(prefix, name);
        let (fo, fn_) = (field_at(o, name), field_at(n, name));
        match pa.get(name) {
            None => p.push(
                What::FieldAdded {
                    step: step.clone(),
                    field,
                    required: rb.contains(&name.as_str()),
                },
                Some(&format!("{o}/properties")),
                Some(&fn_),
            ),
            Some(fa) => {
                let (was, is) = (ra.contains(&name.as_str()), rb.contains(&name.as_str()));
                if !was && is {
                    p.push(
                        What::FieldNowRequired {
                            step: step.clone(),
                            field: field.clone(),
                        },
                        Some(&fo),
                        Some(&required_at(n, &rb, name)),
                    );
                } else if was && !is {
                    p.push(
                        What::FieldNoLongerRequired {
                            step: step.clone(),
                            field: field.clone(),
                        },
                        Some(&required_at(o, &ra, name)),
                        Some(&fn_),
                    );
                }
                object(p, step, &field, fa, fb, &fo, &fn_);
            }
        }
    }
    for name in pa.keys().filter(|k| !pb.contains_key(*k)) {
        p.push(
            What::FieldRemoved {
                step: step.clone(),
                field: dotted(prefix, name),
            },
            Some(&field_at(o, name)),
            Some(&format!("{n}/properties")),
        );
    }
    // A required name that is not a field is still a change of what the form demands.
    for name in rb
        .iter()
        .filter(|r| !pb.contains_key(**r) && !ra.contains(r))
    {
        p.push(
            What::FieldNowRequired {
                step: step.clone(),
                field: dotted(prefix, name),
            },
            Some(&format!("{o}/required")),
            Some(&required_at(n, &rb, name)),
        );
    }
}

/// Every keyword but the fields, `required` and the wording, compared by value.
fn constraints(
    p: &mut Pair<'_>,
    step: &Option<String>,
    field: &str,
    a: &Value,
    b: &Value,
    o: &str,
    n: &str,
) {
    let empty = Map::new();
    let (ka, kb) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = kb.keys().chain(ka.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if k == "properties" || k == "required" || WORDING.contains(&k.as_str()) {
            continue;
        }
        let (x, y) = (ka.get(k), kb.get(k));
        if x != y {
            let at = |base: &str| format!("{base}/{}", escape_token(k));
            p.push(
                What::FieldConstraintChanged {
                    step: step.clone(),
                    field: field.to_string(),
                    constraint: k.clone(),
                    from: x.cloned(),
                    to: y.cloned(),
                },
                Some(&at(o)),
                Some(&at(n)),
            );
        }
    }
}
