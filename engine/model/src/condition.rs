//! Branch conditions on case data, written in CEL (the Common Expression Language, as in
//! Kubernetes and Google's IAM) and evaluated with the `cel` crate.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};
use serde_json::Value;

/// The names a condition may use.
pub const VARIABLES: &[&str] = &["channel", "data", "outcomes", "documents_missing"];

/// A compiled condition.
pub struct Condition {
    source: String,
    program: cel::Program,
    variables: Vec<String>,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

/// CEL's standard library, built once: `Context::default()` builds it afresh for every
/// evaluation, which cost more than the evaluation itself when the linter walks every path.
fn stdlib() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    Arc::clone(ENV.get_or_init(|| Arc::new(cel::Env::stdlib())))
}

/// Why a condition did not compile or evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("the condition does not parse: {0}")]
    Syntax(String),
    #[error("the condition uses `{name}`, which is not known{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_else(|| format!("; use {}", VARIABLES.join(", "))))]
    UnknownVariable {
        name: String,
        suggestion: Option<String>,
    },
    #[error("the condition failed: {0}")]
    Evaluation(String),
    #[error("the condition gave {0}, not true or false")]
    NotBoolean(String),
}

/// What a condition sees of a case.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub channel: &'a str,
    pub data: Option<&'a Value>,
    /// The last outcome of each step that has ended.
    pub outcomes: Option<&'a BTreeMap<String, String>>,
    pub documents_missing: bool,
}

impl Condition {
    pub fn compile(source: &str) -> Result<Condition, ConditionError> {
        let program = std::panic::catch_unwind(|| cel::Program::compile(source))
            .map_err(|_| ConditionError::Syntax("the expression could not be read".into()))?
            .map_err(|e| ConditionError::Syntax(e.to_string().trim().to_string()))?;
        let mut variables = Vec::new();
        free_variables(program.expression(), &mut Vec::new(), &mut variables);
        variables.sort();
        if let Some(unknown) = variables.iter().find(|v| !VARIABLES.contains(&v.as_str())) {
            return Err(ConditionError::UnknownVariable {
                name: unknown.clone(),
                suggestion: crate::duration::suggest(unknown, VARIABLES.iter().copied())
                    .map(str::to_string),
            });
        }
        Ok(Condition {
            source: source.to_string(),
            program,
            variables,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the condition depends on the channel only, so it can be decided per channel
    /// before any case exists (the linter and `inspect` prune paths this way).
    pub fn channel_only(&self) -> bool {
        self.variables.iter().all(|v| v == "channel")
    }

    /// Whether the condition uses the variable `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.variables.iter().any(|v| v == name)
    }

    /// The parsed expression and where each of its nodes was written, for the static check
    /// in [`crate::typecheck`].
    pub fn program(&self) -> &cel::Program {
        &self.program
    }

    /// Whether every name the condition uses is among `names`.
    pub fn uses_only(&self, names: &[&str]) -> bool {
        self.variables.iter().all(|v| names.contains(&v.as_str()))
    }

    pub fn evaluate(&self, facts: &Facts<'_>) -> Result<bool, ConditionError> {
        let mut ctx = cel::Context::with_env(stdlib());
        ctx.add_variable_from_value("channel", facts.channel.to_string());
        ctx.add_variable_from_value("documents_missing", facts.documents_missing);
        if self.variables.iter().any(|v| v == "data") {
            let data = facts
                .data
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            ctx.add_variable("data", data)
                .map_err(|e| ConditionError::Evaluation(e.to_string()))?;
        }
        if self.variables.iter().any(|v| v == "outcomes") {
            let outcomes = facts.outcomes.cloned().unwrap_or_default();
            ctx.add_variable("outcomes", outcomes)
                .map_err(|e| ConditionError::Evaluation(e.to_string()))?;
        }
        match self.program.execute(&ctx) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(ConditionError::NotBoolean(format!("{other:?}"))),
            Err(e) => Err(ConditionError::Evaluation(e.to_string())),
        }
    }
}

/// Calls `f` on each direct child of an expression.
pub(crate) fn each_child<'e>(e: &'e IdedExpr, mut f: impl FnMut(&'e IdedExpr)) {
    match &e.expr {
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                f(t);
            }
            c.args.iter().for_each(f);
        }
        Expr::Select(s) => f(&s.operand),
        Expr::List(l) => l.elements.iter().for_each(f),
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    f(&me.key);
                    f(&me.value);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(sf) = &entry.expr {
                    f(&sf.value);
                }
            }
        }
        Expr::Comprehension(c) => {
            f(&c.iter_range);
            f(&c.accu_init);
            f(&c.loop_cond);
            f(&c.loop_step);
            f(&c.result);
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The variables an expression reads that it does not bind itself: the iteration variables
/// of `all`, `exists`, `map`… (and their accumulator) are the macro's own, not the case's.
fn free_variables<'e>(e: &'e IdedExpr, bound: &mut Vec<&'e str>, out: &mut Vec<String>) {
    match &e.expr {
        Expr::Ident(name) => {
            if !bound.contains(&name.as_str()) && !out.contains(name) {
                out.push(name.clone());
            }
        }
        Expr::Comprehension(c) => {
            free_variables(&c.iter_range, bound, out);
            free_variables(&c.accu_init, bound, out);
            let depth = bound.len();
            bound.push(&c.iter_var);
            if let Some(v) = &c.iter_var2 {
                bound.push(v);
            }
            bound.push(&c.accu_var);
            free_variables(&c.loop_cond, bound, out);
            free_variables(&c.loop_step, bound, out);
            free_variables(&c.result, bound, out);
            bound.truncate(depth);
        }
        // `list.exist(c, c > 1)`, `list.exists(c)`: a misspelt or misused macro (one written
        // right is a comprehension by now). Its variable is left bound so that the type check
        // names the function (E040) instead of calling `c` an unknown name.
        Expr::Call(call)
            if call.target.is_some()
                && !call.args.is_empty()
                && !crate::typecheck::MEMBER_FUNCTIONS.contains(&call.func_name.as_str()) =>
        {
            if let Some(target) = &call.target {
                free_variables(target, bound, out);
            }
            let depth = bound.len();
            if let Expr::Ident(v) = &call.args[0].expr {
                bound.push(v);
            } else {
                free_variables(&call.args[0], bound, out);
            }
            for arg in &call.args[1..] {
                free_variables(arg, bound, out);
            }
            bound.truncate(depth);
        }
        _ => each_child(e, |child| free_variables(child, bound, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channel_condition() {
        let c = Condition::compile(r#"channel == "rural_akim""#).unwrap();
        assert!(c.channel_only());
        let facts = Facts {
            channel: "rural_akim",
            ..Facts::default()
        };
        assert_eq!(c.evaluate(&facts), Ok(true));
        let facts = Facts {
            channel: "provider",
            ..Facts::default()
        };
        assert_eq!(c.evaluate(&facts), Ok(false));
    }

    #[test]
    fn data_and_outcomes() {
        let c =
            Condition::compile(r#"data.family_size > 3 && outcomes.review == "grant""#).unwrap();
        assert!(!c.channel_only());
        let data = json!({"family_size": 5});
        let outcomes = BTreeMap::from([("review".to_string(), "grant".to_string())]);
        let facts = Facts {
            channel: "provider",
            data: Some(&data),
            outcomes: Some(&outcomes),
            documents_missing: false,
        };
        assert_eq!(c.evaluate(&facts), Ok(true));
    }

    #[test]
    fn a_macro_binds_its_own_variables() {
        let c = Condition::compile("data.children.exists(c, c.age < 3)").unwrap();
        assert!(c.uses("data") && !c.uses("c"));
        let data = json!({"children": [{"age": 7}, {"age": 2}]});
        let facts = Facts {
            channel: "p",
            data: Some(&data),
            ..Facts::default()
        };
        assert_eq!(c.evaluate(&facts), Ok(true));
        // A name the macro does not bind is still the case's, and must be known.
        assert!(matches!(
            Condition::compile("data.children.exists(c, d.age < 3)"),
            Err(ConditionError::UnknownVariable { name, .. }) if name == "d"
        ));
    }

    #[test]
    fn errors_are_explained() {
        assert!(matches!(
            Condition::compile("channel == "),
            Err(ConditionError::Syntax(_))
        ));
        assert_eq!(
            Condition::compile(r#"chanel == "x""#)
                .unwrap_err()
                .to_string(),
            "the condition uses `chanel`, which is not known; did you mean `channel`?"
        );
        let c = Condition::compile("data.size").unwrap();
        let data = json!({"size": 3});
        let facts = Facts {
            channel: "p",
            data: Some(&data),
            ..Facts::default()
        };
        assert!(matches!(
            c.evaluate(&facts),
            Err(ConditionError::NotBoolean(_))
        ));
    }
}
