//! Migration plans: how the open cases of one regulation version move onto another when an
//! act amends the regulation and its transitional provisions reach the cases already running.
//!
//! A plan is a YAML file read through the same front end as a regulation (YAML 1.2, the JSON
//! Schema generated from these types, `file:line:column` diagnostics). [`check_plan`] then
//! checks it against the two versions: above all, every step of the old version at which a
//! case can wait (a task, a system step, a join, a dispatch) and that the new version no
//! longer has must be mapped, or a case waiting there would have nowhere to go.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::load::{SchemaCheck, deserialize_located};
use crate::model::{Regulation, Step};
use crate::yaml::{self, Spans, escape_token};

/// Where the published schema lives, relative to the repository root.
pub const MIGRATION_PLAN_SCHEMA_PATH: &str = "regulations/schema/migration-plan.schema.json";

/// A plan moving the open cases of `regulation` from one version to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Reglament migration plan")]
pub struct MigrationPlan {
    /// The regulation's id, e.g. `atyrau-child-benefit`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub regulation: String,
    /// The version the cases run on now.
    #[schemars(range(min = 1))]
    pub from_version: u32,
    /// The version they move onto (deployed beforehand).
    #[schemars(range(min = 1))]
    pub to_version: u32,
    /// The act whose transitional provisions require the move.
    pub legal_basis: LegalBasis,
    /// Why the cases move, in words an auditor reads in each case's history.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Old step id → new step id. A step the new version keeps maps to itself without being
    /// listed; a step it removes at which a case can wait must be listed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mapping: BTreeMap<String, String>,
    /// What happens to the due instants of the cases that move.
    #[serde(default)]
    pub deadlines: DeadlinePolicies,
    /// Which open cases move (all of the old version's open cases by default).
    #[serde(default)]
    pub select: Selection,
}

/// An act and the paragraph of it that says what happens to running cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// The act, e.g. «Постановление акимата Атырауской области от 1 марта 2026 года № 45».
    #[schemars(length(min = 1))]
    pub act: String,
    /// The paragraph with the transitional provision, e.g. `п. 3`.
    #[schemars(length(min = 1))]
    pub paragraph: String,
}

/// What becomes of a task's due instant when its case moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The due instant stays as it is.
    #[default]
    Keep,
    /// As if the case had run on the new version from the start: the new step's duration
    /// from the task's opening (plus the time it was suspended).
    Recompute,
    /// The new step's whole duration again, from the migration.
    Restart,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Keep => "keep",
            Policy::Recompute => "recompute",
            Policy::Restart => "restart",
        }
    }
}

/// What becomes of the case's statutory due instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CasePolicy {
    /// The statutory due instant stays as it is.
    #[default]
    Keep,
    /// The new version's statutory term for the case's channel, from its registration.
    Recompute,
}

impl CasePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            CasePolicy::Keep => "keep",
            CasePolicy::Recompute => "recompute",
        }
    }
}

/// The deadline policies of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlinePolicies {
    /// For a task at a step not listed in `steps`.
    #[serde(default)]
    pub default: Policy,
    /// Per step of the new version (where the task is after the move).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub steps: BTreeMap<String, Policy>,
    /// For the case's statutory term.
    #[serde(default)]
    pub case: CasePolicy,
}

impl DeadlinePolicies {
    /// The policy for a task that is at `step` of the new version.
    pub fn for_step(&self, step: &str) -> Policy {
        self.steps.get(step).copied().unwrap_or(self.default)
    }
}

/// Which open cases a plan moves; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Only cases registered at one of these offices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offices: Vec<String>,
    /// Only cases with an open task at one of these steps of the old version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    /// Only cases registered before this instant, e.g. `2026-03-01T00:00:00+05:00`
    /// (transitional provisions often reach "applications filed before" a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_before: Option<DateTime<FixedOffset>>,
}

/// A plan read from text, with the places of its parts and its digest.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub file: String,
    pub source: String,
    pub plan: MigrationPlan,
    pub spans: Spans,
    /// SHA-256 of the plan's canonical JSON: what each moved case's event names.
    pub digest: String,
}

impl LoadedPlan {
    fn error(&self, pointer: &str, key: bool, message: String) -> Diagnostic {
        let at = if key {
            self.spans.key_at(pointer)
        } else {
            self.spans.value_at(pointer)
        };
        Diagnostic::new(&self.file, Code::E022, at, message).with_pointer(pointer)
    }
}

/// The JSON Schema (draft 2020-12) of a migration plan.
pub fn migration_plan_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<MigrationPlan>().to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            json!("https://reglament.invalid/schema/migration-plan.schema.json"),
        );
    }
    schema
}

fn plan_check() -> &'static SchemaCheck {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        SchemaCheck::new(
            SCHEMA.get_or_init(migration_plan_schema),
            "the migration plan",
        )
        .expect("the generated migration plan schema is a valid JSON Schema")
    })
}

/// SHA-256 over the plan's canonical JSON (its layout and comments do not count).
pub fn plan_digest(plan: &MigrationPlan) -> String {
    let canonical = serde_json::to_vec(plan).unwrap_or_default();
    Sha256::digest(&canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a plan file and checks its shape.
pub fn load_plan_file(path: &Path) -> Result<LoadedPlan, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            &file,
            Code::E001,
            Location::new(1, 1),
            format!("cannot read the file: {e}"),
        )]
    })?;
    load_plan_str(&text, &file)
}

/// Reads plan text and checks its shape; `file` names it in diagnostics.
pub fn load_plan_str(text: &str, file: &str) -> Result<LoadedPlan, Vec<Diagnostic>> {
    let (value, spans) = yaml::parse(text, file).map_err(|d| vec![*d])?;
    let diags = plan_check().check(&value, &spans, file);
    if !diags.is_empty() {
        return Err(diags);
    }
    let plan: MigrationPlan = deserialize_located(value, &spans, file).map_err(|d| vec![*d])?;
    Ok(LoadedPlan {
        file: file.to_string(),
        source: text.to_string(),
        digest: plan_digest(&plan),
        plan,
        spans,
    })
}

/// What a step of a regulation may hold a case at: tasks and system steps (a task), joins and
/// dispatches (a waiting path). Other steps are passed through within one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    Task,
    Join,
    Dispatch,
}

impl Waiting {
    pub fn of(step: &Step) -> Option<Waiting> {
        match step {
            Step::Task(_) | Step::System(_) => Some(Waiting::Task),
            Step::Join(_) => Some(Waiting::Join),
            Step::Dispatch(_) => Some(Waiting::Dispatch),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Waiting::Task => "a task or system step",
            Waiting::Join => "a join",
            Waiting::Dispatch => "a dispatch",
        }
    }
}

fn find<'a>(r: &'a Regulation, id: &str) -> Option<&'a Step> {
    r.steps.iter().find(|s| s.id() == id)
}

/// Where a step of the old version goes in the new one: its mapping, else itself when the new
/// version has it. `None` for a step neither maps.
pub fn target<'a>(plan: &'a MigrationPlan, new: &Regulation, old_step: &'a str) -> Option<&'a str> {
    match plan.mapping.get(old_step) {
        Some(to) => Some(to.as_str()),
        None => find(new, old_step).map(|_| old_step),
    }
}

/// Checks a plan against the versions it moves cases between: the regulation and versions it
/// names, the steps its mapping, policies and selection name, and that every step a case can
/// wait at in the old version has a place to go in the new one. Empty when the plan is sound.
pub fn check_plan(loaded: &LoadedPlan, old: &Regulation, new: &Regulation) -> Vec<Diagnostic> {
    let plan = &loaded.plan;
    let mut out = Vec::new();
    let mut wrong = |pointer: &str, message: String| {
        out.push(
            Diagnostic::new(
                &loaded.file,
                Code::E013,
                loaded.spans.value_at(pointer),
                message,
            )
            .with_pointer(pointer),
        );
    };
    if plan.regulation != old.id || plan.regulation != new.id {
        wrong(
            "/regulation",
            format!(
                "the plan is for `{}`, but the versions given are of `{}` and `{}`",
                plan.regulation, old.id, new.id
            ),
        );
    }
    if plan.from_version != old.version {
        wrong(
            "/from_version",
            format!(
                "the plan moves cases from version {}, but the old version given is {}",
                plan.from_version, old.version
            ),
        );
    }
    if plan.to_version != new.version {
        wrong(
            "/to_version",
            format!(
                "the plan moves cases to version {}, but the new version given is {}",
                plan.to_version, new.version
            ),
        );
    }
    if plan.from_version == plan.to_version {
        wrong(
            "/to_version",
            format!(
                "the plan moves cases from version {} to the same version",
                plan.from_version
            ),
        );
    }
    for (from, to) in &plan.mapping {
        let pointer = format!("/mapping/{}", escape_token(from));
        let Some(old_step) = find(old, from) else {
            out.push(loaded.error(
                &pointer,
                true,
                format!("version {} has no step `{from}` to map", old.version),
            ));
            continue;
        };
        let Some(new_step) = find(new, to) else {
            out.push(loaded.error(
                &pointer,
                false,
                format!(
                    "`{from}` is mapped to `{to}`, which version {} does not have",
                    new.version
                ),
            ));
            continue;
        };
        if let Some(kind) = Waiting::of(old_step)
            && Waiting::of(new_step) != Some(kind)
        {
            out.push(loaded.error(
                &pointer,
                false,
                format!(
                    "`{from}` is {} and a case may wait there, but `{to}` is a {} step; map it to {} of version {}",
                    kind.name(),
                    new_step.kind_name(),
                    kind.name(),
                    new.version
                ),
            ));
        }
    }
    let unmapped: Vec<&str> = old
        .steps
        .iter()
        .filter(|s| Waiting::of(s).is_some())
        .map(|s| s.id())
        .filter(|id| find(new, id).is_none() && !plan.mapping.contains_key(*id))
        .collect();
    for id in unmapped {
        let (pointer, key) = if loaded.spans.get("/mapping").is_some() {
            ("/mapping", true)
        } else {
            ("/to_version", false)
        };
        out.push(
            loaded
                .error(
                    pointer,
                    key,
                    format!(
                        "step `{id}` of version {} is not in version {} and is not mapped: a case waiting there would have nowhere to go",
                        old.version, new.version
                    ),
                )
                .with_help(format!(
                    "add `{id}: <a step of version {}>` under `mapping`",
                    new.version
                )),
        );
    }
    for step in plan.deadlines.steps.keys() {
        if find(new, step).is_none() {
            out.push(loaded.error(
                &format!("/deadlines/steps/{}", escape_token(step)),
                true,
                format!(
                    "a policy for step `{step}`, which version {} does not have (policies name the new version's steps)",
                    new.version
                ),
            ));
        }
    }
    for (i, step) in plan.select.steps.iter().enumerate() {
        if find(old, step).is_none() {
            out.push(loaded.error(
                &format!("/select/steps/{i}"),
                false,
                format!(
                    "cases are selected at step `{step}`, which version {} does not have",
                    old.version
                ),
            ));
        }
    }
    out.sort_by_key(|d| d.location);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_str;

    use reglament_testkit::fixtures::REGISTER_REVIEW as OLD;

    fn versions() -> (Regulation, Regulation) {
        let old = load_str(OLD, "old.yaml").expect("loads").regulation;
        let mut new = old.clone();
        new.version = old.version + 1;
        (old, new)
    }

    fn plan(text: &str) -> LoadedPlan {
        load_plan_str(text, "plan.yaml").unwrap_or_else(|d| panic!("{d:?}"))
    }

    #[test]
    fn a_plan_loads_with_its_defaults_and_a_stable_digest() {
        let (old, new) = versions();
        let text = format!(
            "regulation: {}\nfrom_version: {}\nto_version: {}\nlegal_basis:\n  act: Decree 45\n  paragraph: p. 3\nreason: the decree shortened the review\n",
            old.id, old.version, new.version
        );
        let p = plan(&text);
        assert_eq!(p.plan.deadlines.default, Policy::Keep);
        assert_eq!(p.plan.deadlines.case, CasePolicy::Keep);
        assert!(check_plan(&p, &old, &new).is_empty());
        // Comments and layout do not change the digest; the content does.
        let again = plan(&format!("# a comment\n{text}"));
        assert_eq!(p.digest, again.digest);
        let other = plan(&text.replace("p. 3", "p. 4"));
        assert_ne!(p.digest, other.digest);
    }

    #[test]
    fn a_mistake_of_shape_is_placed_at_its_line_and_column() {
        let err = load_plan_str(
            "regulation: x\nfrom_version: 1\nto_version: 2\nlegal_basis: {act: a, paragraph: b}\nreason: r\ndeadlines:\n  default: later\n",
            "plan.yaml",
        )
        .expect_err("an unknown policy");
        assert_eq!(err[0].location, Location::new(7, 12), "{}", err[0]);
        assert_eq!(err[0].code, Code::E013);
    }

    #[test]
    fn a_waiting_step_the_new_version_lacks_must_be_mapped() {
        let (old, mut new) = versions();
        let waiting = old
            .steps
            .iter()
            .find(|s| matches!(Waiting::of(s), Some(Waiting::Task)))
            .map(|s| s.id().to_string())
            .expect("a task step");
        let renamed = format!("{waiting}_new");
        for s in &mut new.steps {
            if let Step::Task(t) = s
                && t.id == waiting
            {
                t.id = renamed.clone();
            }
        }
        let text = format!(
            "regulation: {}\nfrom_version: {}\nto_version: {}\nlegal_basis:\n  act: Decree 45\n  paragraph: p. 3\nreason: r\nmapping:\n  unrelated: granted\n",
            old.id, old.version, new.version
        );
        let p = plan(&text);
        let d = check_plan(&p, &old, &new);
        let missing = d
            .iter()
            .find(|d| d.message.contains(&format!("`{waiting}`")))
            .unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(missing.location, Location::new(8, 1), "{missing}");
        assert_eq!(missing.code, Code::E022);
        // The unknown old step `unrelated` is reported at its key, line 9.
        assert!(
            d.iter()
                .any(|d| d.location == Location::new(9, 3) && d.message.contains("unrelated")),
            "{d:?}"
        );
        let fixed = plan(&format!(
            "{}mapping:\n  {waiting}: {renamed}\n",
            text.split("mapping:").next().unwrap_or_default()
        ));
        assert!(check_plan(&fixed, &old, &new).is_empty());
    }

    #[test]
    fn versions_and_regulation_must_match() {
        let (old, new) = versions();
        let p = plan(&format!(
            "regulation: other\nfrom_version: {}\nto_version: {}\nlegal_basis: {{act: a, paragraph: b}}\nreason: r\n",
            old.version + 5,
            new.version
        ));
        let d = check_plan(&p, &old, &new);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].location, Location::new(1, 13));
        assert_eq!(d[1].location.line, 2);
    }
}

#[cfg(test)]
mod published {
    use std::path::PathBuf;

    /// The schema in the repository is what analysts' editors load; it must match the types.
    #[test]
    fn published_migration_plan_schema_is_up_to_date() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(super::MIGRATION_PLAN_SCHEMA_PATH);
        let fresh = format!("{:#}\n", super::migration_plan_schema());
        if std::env::var_os("REGLAMENT_BLESS").is_some() {
            std::fs::write(&path, &fresh).expect("write schema");
            return;
        }
        let published = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            published == fresh,
            "{} is out of date with engine/model/src/migration_plan.rs; run `REGLAMENT_BLESS=1 cargo test -p reglament-model migration_plan` and commit it",
            path.display()
        );
    }
}
