//! The types of `data`, `outcomes` and `channel`: from the application form's JSON Schema,
//! the steps and what [`crate::scope`] says of them, and the channels.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde_json::Value;

use super::ty::{Closed, ClosedKind, Field, Num, Object, ObjectKind, Presence, Ty};
use crate::compile::Process;
use crate::model::{Regulation, Step};
use crate::scope::{Recorded, records_outcome};

/// The type of `data`: the application form, or an object with no fields without one.
pub fn data_type(form: Option<&Value>) -> Ty {
    match form {
        Some(schema) => match schema_type(schema, "data") {
            Ty::Object(o) => Ty::Object(o),
            // A form that is not an object of named fields says nothing about `data.x`.
            _ => Ty::Any,
        },
        None => Ty::Object(Rc::new(Object {
            fields: BTreeMap::new(),
            rest: None,
            kind: ObjectKind::Data { form: false },
        })),
    }
}

/// The type of `channel`: one of the regulation's channel ids.
pub fn channel_type(reg: &Regulation) -> Ty {
    Ty::Str(Some(Rc::new(Closed {
        values: reg.channels.iter().map(|c| c.id.clone()).collect(),
        of: ClosedKind::Channel,
    })))
}

/// The types of `outcomes` at the exclusive choices of one process.
pub struct OutcomesType<'p> {
    p: &'p Process,
    /// The steps that end with an outcome, for suggestions.
    with_outcomes: Rc<Vec<String>>,
}

impl<'p> OutcomesType<'p> {
    pub fn new(p: &'p Process) -> Self {
        let with_outcomes = p
            .regulation
            .steps
            .iter()
            .filter(|s| records_outcome(s))
            .map(|s| s.id().to_string())
            .collect();
        OutcomesType {
            p,
            with_outcomes: Rc::new(with_outcomes),
        }
    }

    /// The type of `outcomes` at the choice `choice`, with a field for each step in `named`
    /// (the steps its conditions name), present as `recorded` says.
    pub fn at(
        &self,
        choice: usize,
        named: &BTreeSet<String>,
        mut recorded: impl FnMut(usize) -> Recorded,
    ) -> Ty {
        let here = self.p.step(choice).id();
        let mut fields = BTreeMap::new();
        for (i, id) in named
            .iter()
            .filter_map(|n| Some((self.p.step_index(n)?, n)))
        {
            let step = self.p.step(i);
            let outcomes = match step {
                Step::Task(t) => &t.outcomes[..],
                Step::System(s) => &s.outcomes[..],
                _ => &[][..],
            };
            let presence = if outcomes.is_empty() {
                Presence::Never(match step {
                    Step::Task(_) | Step::System(_) => format!(
                        "{} `{id}` records no outcome: it goes on with `next`",
                        step.kind_name()
                    ),
                    _ => format!(
                        "`{id}` is a {} step, which records no outcome",
                        step.kind_name()
                    ),
                })
            } else {
                match recorded(i) {
                    Recorded::Always => Presence::Always,
                    Recorded::Sometimes => Presence::Sometimes(format!(
                        "on some ways to `{here}` step `{id}` has not ended yet"
                    )),
                    Recorded::Never => Presence::Never(format!(
                        "step `{id}` cannot have ended when a case reaches `{here}`"
                    )),
                }
            };
            let ty = Ty::Str(Some(Rc::new(Closed {
                values: outcomes.iter().map(|o| o.id.clone()).collect(),
                of: ClosedKind::Outcome { step: id.clone() },
            })));
            fields.insert(id.clone(), Field { ty, presence });
        }
        Ty::Object(Rc::new(Object {
            fields,
            rest: None,
            kind: ObjectKind::Outcomes {
                steps: Rc::clone(&self.with_outcomes),
            },
        }))
    }
}

/// The type a JSON Schema describes; `path` names the value in messages (`data.kind`).
pub fn schema_type(schema: &Value, path: &str) -> Ty {
    let Some(s) = schema.as_object() else {
        return Ty::Any;
    };
    let closed = closed_values(s);
    let mut types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if s.contains_key("properties") => vec!["object"],
        _ => match closed.as_deref() {
            Some([first, rest @ ..]) => {
                let kind = json_kind(first);
                if rest.iter().all(|v| json_kind(v) == kind) {
                    vec![kind]
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        },
    };
    let nullable = types.contains(&"null");
    types.retain(|t| *t != "null");
    if types.len() == 2 && types.contains(&"integer") && types.contains(&"number") {
        types = vec!["number"];
    }
    let base = match types[..] {
        [] if nullable => return Ty::Null,
        [t] => match t {
            "string" => Ty::Str(closed.and_then(|values| {
                let values: Option<Vec<String>> = values
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect();
                Some(Rc::new(Closed {
                    values: values?,
                    of: ClosedKind::Field {
                        path: path.to_string(),
                    },
                }))
            })),
            "integer" => Ty::Num(number_kinds(s, closed.as_deref(), false)),
            "number" => Ty::Num(number_kinds(s, closed.as_deref(), true)),
            "boolean" => Ty::Bool,
            "array" => {
                Ty::List(Box::new(s.get("items").map_or(Ty::Any, |items| {
                    schema_type(items, &format!("{path}[]"))
                })))
            }
            "object" => object_type(s, path),
            _ => Ty::Any,
        },
        _ => Ty::Any,
    };
    if nullable {
        Ty::Nullable(Box::new(base))
    } else {
        base
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `enum`, `const`, or a `oneOf`/`anyOf` of `const`s (a list with titles).
fn closed_values(s: &serde_json::Map<String, Value>) -> Option<Vec<Value>> {
    if let Some(Value::Array(values)) = s.get("enum") {
        return Some(values.clone());
    }
    if let Some(value) = s.get("const") {
        return Some(vec![value.clone()]);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(options)) = s.get(key) {
            return options
                .iter()
                .map(|o| o.get("const").cloned())
                .collect::<Option<Vec<_>>>();
        }
    }
    None
}

/// Which kinds of number a schema's values arrive as: the JSON reader gives a whole number of
/// zero or more as `uint`, a negative one as `int`, one with a fraction as `double`.
fn number_kinds(
    s: &serde_json::Map<String, Value>,
    closed: Option<&[Value]>,
    fraction: bool,
) -> Num {
    if let Some(values) = closed {
        let mut kinds = Num::NONE;
        for v in values {
            if let Some(n) = v.as_number() {
                kinds = kinds.with(if n.is_u64() {
                    Num::UINT
                } else if n.is_i64() {
                    Num::INT
                } else {
                    Num::DOUBLE
                });
            }
        }
        if kinds != Num::NONE {
            return kinds;
        }
    }
    let bound = |key: &str| s.get(key).and_then(Value::as_f64);
    let not_negative = bound("minimum").is_some_and(|m| m >= 0.0)
        || bound("exclusiveMinimum").is_some_and(|m| if fraction { m >= 0.0 } else { m > -1.0 });
    let negative = bound("maximum").is_some_and(|m| m < 0.0)
        || bound("exclusiveMaximum").is_some_and(|m| m <= 0.0);
    let whole = if not_negative {
        Num::UINT
    } else if negative {
        Num::INT
    } else {
        Num::INT.with(Num::UINT)
    };
    if fraction {
        whole.with(Num::DOUBLE)
    } else {
        whole
    }
}

fn object_type(s: &serde_json::Map<String, Value>, path: &str) -> Ty {
    let required: BTreeSet<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, sub)| {
                    let field_path = format!("{path}.{name}");
                    let presence = if required.contains(name.as_str()) {
                        Presence::Always
                    } else {
                        Presence::Sometimes(format!("the form does not require `{field_path}`"))
                    };
                    let ty = schema_type(sub, &field_path);
                    (name.clone(), Field { ty, presence })
                })
                .collect()
        })
        .unwrap_or_default();
    let rest = match s.get("additionalProperties") {
        Some(sub @ Value::Object(_)) => Some(schema_type(sub, &format!("{path}.*"))),
        _ => None,
    };
    Ty::Object(Rc::new(Object {
        fields,
        rest,
        kind: ObjectKind::Data { form: true },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::Condition;
    use crate::diagnostic::Code;
    use crate::typecheck::{Env, Facts, check};
    use serde_json::json;

    #[test]
    fn schemas_give_the_kinds_the_runtime_reads() {
        let kinds = |schema: Value| match schema_type(&schema, "data.x") {
            Ty::Num(n) => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(kinds(json!({"type": "integer", "minimum": 0})), Num::UINT);
        assert_eq!(kinds(json!({"type": "integer", "maximum": -1})), Num::INT);
        assert_eq!(kinds(json!({"type": "integer"})), Num::INT.with(Num::UINT));
        assert_eq!(
            kinds(json!({"type": "number", "exclusiveMinimum": 0})),
            Num::UINT.with(Num::DOUBLE)
        );
        assert_eq!(kinds(json!({"enum": [1, 2, 3]})), Num::UINT);
        let closed_values = |schema: Value| match schema_type(&schema, "data.x") {
            Ty::Str(Some(c)) => c.values.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            closed_values(
                json!({"type": "string", "oneOf": [{"const": "a", "title": "A"}, {"const": "b"}]})
            ),
            vec!["a", "b"]
        );
        assert_eq!(closed_values(json!({"const": "only"})), vec!["only"]);
        assert!(matches!(
            schema_type(&json!({"type": ["boolean", "null"]}), "data.x"),
            Ty::Nullable(b) if matches!(*b, Ty::Bool)
        ));
        assert!(matches!(
            schema_type(&json!({"$ref": "#/$defs/x"}), "data.x"),
            Ty::Any
        ));
        // Fields typed by `additionalProperties` may be there or not.
        let free =
            json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}});
        let env = Env {
            data: data_type(Some(&free)),
            outcomes: Ty::Any,
            channel: Ty::Any,
        };
        let condition = Condition::compile("data.anything > 1").expect("parses");
        let found = check(condition.program(), &env, &Facts::new()).findings;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::E042);
        let condition =
            Condition::compile("has(data.anything) && data.anything > 1").expect("parses");
        assert!(
            check(condition.program(), &env, &Facts::new())
                .findings
                .is_empty()
        );
    }
}
