//! The JSON Schema of the regulation format, generated from [`crate::model`].

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::model::Regulation;

/// Where the published schema lives, relative to the repository root.
pub const REGULATION_SCHEMA_PATH: &str = "regulations/schema/regulation.schema.json";

/// The schema, generated once per process.
pub fn regulation_schema_cached() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(regulation_schema)
}

/// The JSON Schema (draft 2020-12) of a regulation file.
pub fn regulation_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Regulation>().to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            json!("https://reglament.invalid/schema/regulation.schema.json"),
        );
    }
    discriminate_tagged_unions(&mut schema);
    schema
}

/// schemars renders an internally tagged enum as `oneOf`, and a validator can then only say
/// "not valid under any of the schemas". Rewriting it as `if kind == X then <variant>` lets
/// both our validator and an analyst's editor report the real mistake inside the step.
fn discriminate_tagged_unions(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            if let Some(rewritten) = obj.get("oneOf").and_then(tagged_union) {
                obj.remove("oneOf");
                for (k, v) in rewritten {
                    obj.insert(k, v);
                }
            }
            for v in obj.values_mut() {
                discriminate_tagged_unions(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(discriminate_tagged_unions),
        _ => {}
    }
}

fn tagged_union(one_of: &Value) -> Option<Map<String, Value>> {
    let variants = one_of.as_array()?;
    let mut tags = Vec::new();
    let mut rules = Vec::new();
    for variant in variants {
        let tag = variant.pointer("/properties/kind/const")?.as_str()?;
        tags.push(json!(tag));
        rules.push(json!({
            "if": { "properties": { "kind": { "const": tag } }, "required": ["kind"] },
            "then": variant,
        }));
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("required".into(), json!(["kind"]));
    out.insert(
        "properties".into(),
        json!({ "kind": { "enum": tags, "description": "What kind of step this is." } }),
    );
    out.insert("allOf".into(), Value::Array(rules));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_discriminated_by_kind() {
        let schema = regulation_schema();
        let step = &schema["$defs"]["Step"];
        assert!(step.get("oneOf").is_none(), "{step:#}");
        assert_eq!(step["properties"]["kind"]["enum"][0], "task");
        assert_eq!(step["allOf"].as_array().map(Vec::len), Some(7));
    }
}

#[cfg(test)]
mod published {
    use std::path::PathBuf;

    /// The schema in the repository is what analysts' editors load; it must match the types.
    #[test]
    fn published_schema_is_up_to_date() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(super::REGULATION_SCHEMA_PATH);
        let fresh = format!("{:#}\n", super::regulation_schema());
        if std::env::var_os("REGLAMENT_BLESS").is_some() {
            std::fs::write(&path, &fresh).expect("write schema");
            return;
        }
        let published = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            published == fresh,
            "{} is out of date with engine/model/src/model.rs; run `REGLAMENT_BLESS=1 cargo test -p reglament-model schema` and commit it",
            path.display()
        );
    }
}
