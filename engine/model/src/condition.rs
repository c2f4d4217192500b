//! Branch conditions on case data, written in CEL (the Common Expression Language, as in
//! Kubernetes and Google's IAM) and evaluated with the `cel` crate.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

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
        let mut variables: Vec<String> = program
            .references()
            .variables()
            .into_iter()
            .map(str::to_string)
            .collect();
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
