//! Calendar and offices YAML → typed data, through the model's front end: the same parser
//! (YAML 1.2, duplicate keys refused, aliases bounded), the same JSON Schema explanations and
//! the same [`Diagnostic`] (code, `file:line:column`, help) as a regulation, so an analyst
//! reads one kind of message whichever file is wrong.

use reglament_model::diagnostic::{Code, Diagnostic, Location};
use reglament_model::load::{SchemaCheck, deserialize_located};
use reglament_model::yaml::{self, Spans};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A parsed document and where each of its nodes was written.
#[derive(Debug, Clone)]
pub struct Located {
    pub file: String,
    pub value: Value,
    spans: Spans,
}

impl Located {
    /// Where the value at `pointer` was written, falling back to its nearest written parent.
    pub fn pos(&self, pointer: &str) -> Location {
        self.spans.value_at(pointer)
    }

    /// Data that contradicts itself or the law's rules, placed at the value it is about.
    pub fn error(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, Code::E050, self.pos(pointer), message).with_pointer(pointer)
    }

    /// Data that loads but looks wrong.
    pub fn warning(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, Code::W150, self.pos(pointer), message).with_pointer(pointer)
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    yaml::escape_token(key)
}

/// Parses `text` into JSON with positions. A syntax error stops here.
pub fn parse(text: &str, file: &str) -> Result<Located, Vec<Diagnostic>> {
    let (value, spans) = yaml::parse(text, file).map_err(|d| vec![*d])?;
    Ok(Located {
        file: file.to_string(),
        value,
        spans,
    })
}

/// Checks the document against its schema: every violation, placed and worded for an analyst.
pub fn check_schema(located: &Located, check: &SchemaCheck) -> Vec<Diagnostic> {
    check.check(&located.value, &located.spans, &located.file)
}

/// Deserializes the checked document. After the schema check this fails only on what a
/// schema cannot say (e.g. 02-30), and the error still gets a place.
pub fn deserialize<T: DeserializeOwned>(located: &Located) -> Result<T, Vec<Diagnostic>> {
    deserialize_located(located.value.clone(), &located.spans, &located.file).map_err(|d| vec![*d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_positions_by_pointer() {
        let text = "a: 1\nlist:\n  - x: hello\n    y: [1, 2]\n";
        let l = parse(text, "t.yaml").unwrap();
        let at = |line, column| Location::new(line, column);
        assert_eq!(l.pos("/a"), at(1, 4));
        assert_eq!(l.pos("/list/0/x"), at(3, 8));
        assert_eq!(l.pos("/list/0/y/1"), at(4, 12));
        assert_eq!(l.pos("/list/0/nope"), at(3, 5));
    }

    #[test]
    fn syntax_errors_and_duplicates_get_a_place() {
        let err = parse("a: 1\na: 2\n", "t.yaml").unwrap_err();
        assert_eq!(err[0].location, Location::new(2, 1), "{}", err[0]);
        assert_eq!(err[0].code, Code::E003, "{}", err[0]);
        let err = parse("a: [1, 2\n", "t.yaml").unwrap_err();
        assert!(err[0].to_string().starts_with("t.yaml:"), "{}", err[0]);
        // Aliases are copied, within a budget.
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
