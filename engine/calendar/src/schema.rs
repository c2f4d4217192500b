//! JSON Schemas of the calendar files, generated from the Rust types. The copies in
//! `regulations/schema/` (which analysts' editors read) are kept in step by a test.

use std::sync::OnceLock;

use reglament_model::load::SchemaCheck;
use serde_json::Value;

use super::data::{NationalCalendarData, OfficesData};

fn generate<T: schemars::JsonSchema>(id: &str) -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("$id".to_string(), Value::String(id.to_string()));
    }
    value
}

/// The schema of `regulations/calendars/*.yaml`.
pub fn calendar_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| generate::<NationalCalendarData>("calendar.schema.json"))
}

/// The schema of `regulations/offices/*.yaml`.
pub fn offices_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| generate::<OfficesData>("offices.schema.json"))
}

/// The compiled check of calendar files.
pub fn calendar_check() -> &'static SchemaCheck {
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        SchemaCheck::new(calendar_schema(), "the calendar")
            .expect("the generated calendar schema is a valid JSON Schema")
    })
}

/// The compiled check of offices files.
pub fn offices_check() -> &'static SchemaCheck {
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        SchemaCheck::new(offices_schema(), "the offices file")
            .expect("the generated offices schema is a valid JSON Schema")
    })
}

/// The schema text as written to disk.
pub fn pretty(schema: &Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {

    use super::*;

    /// The published schemas must be what the types say. `REGLAMENT_BLESS=1 cargo test`
    /// rewrites them.
    #[test]
    fn published_schemas_are_up_to_date() {
        let dir = reglament_testkit::regulations_dir().join("schema");
        let bless = std::env::var_os("REGLAMENT_BLESS").is_some_and(|v| v == "1");
        let mut stale = Vec::new();
        for (name, schema) in [
            ("calendar.schema.json", calendar_schema()),
            ("offices.schema.json", offices_schema()),
        ] {
            let path = dir.join(name);
            let want = pretty(schema);
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            if have != want {
                if bless {
                    std::fs::create_dir_all(&dir).expect("create regulations/schema");
                    std::fs::write(&path, want).expect("write the schema");
                } else {
                    stale.push(name);
                }
            }
        }
        assert!(
            stale.is_empty(),
            "regulations/schema/{{{}}} differ from the Rust types: run `REGLAMENT_BLESS=1 cargo test` to rewrite them",
            stale.join(",")
        );
    }
}
