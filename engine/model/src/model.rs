//! The regulation file as analysts write it. These types are the format: the JSON Schema in
//! `regulations/schema/regulation.schema.json` is generated from them (see [`crate::schema`]).
//!
//! The types are deliberately plain data; references between them (a step's role, the next
//! step) are checked by [`crate::validate`] and resolved by [`crate::compile`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Term;
use crate::text::Text;

/// One regulation («регламент»): a public service, its roles, its channels and its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Reglament regulation")]
pub struct Regulation {
    /// Stable identifier, lower case with hyphens, e.g. `atyrau-child-benefit`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub id: String,
    /// Version number; a new deployment of the same id must have a higher version.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// The date of the act that approved the regulation (the decree's date). The day it took
    /// effect, when the act gives another, is `in_force_from`.
    pub valid_from: NaiveDate,
    /// The day from which the regulation applies, when it is not `valid_from`: an act may take
    /// effect on its registration or publication, or apply to legal relations that arose before
    /// its date («распространяется на правоотношения, возникшие с …»).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_force_from: Option<NaiveDate>,
    /// Last day the regulation applies, if it was repealed or replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    /// The regulation has been repealed («утратил силу»), as far as the source says: by which
    /// act, from which day. When the day is known, `valid_to` is the day before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repealed: Option<Repeal>,
    /// The name of the public service.
    pub title: Text,
    /// The legal act this regulation was approved by.
    pub source: LegalSource,
    /// The national calendar the terms are counted on (a file under `regulations/calendars/`).
    #[serde(default = "default_calendar")]
    pub calendar: String,
    /// The region whose offices provide the service (a file under `regulations/offices/`).
    pub region: String,
    /// Roles (СФЕ, structural-functional units) that act in the process.
    pub roles: Vec<Role>,
    /// Ways an application reaches the provider, each with its statutory term.
    pub channels: Vec<Channel>,
    /// JSON Schema of the applicant data entered when a case is registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_form: Option<Form>,
    /// Warnings before a breach: shares of each task's working time, in percent (e.g.
    /// `[50, 80]`), at which the timer warns that the task is running out of time. Each is
    /// given once per task; none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(range(min = 1, max = 99)), extend("uniqueItems" = true))]
    pub warnings: Vec<u8>,
    /// The steps of the process.
    pub steps: Vec<Step>,
    /// Decisions taken where the paper is ambiguous or contradicts itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

fn default_calendar() -> String {
    "kz".to_string()
}

/// A repeal of the regulation: what the source says, and the act and day where known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeal {
    /// The words of the source that mark the regulation repealed, e.g. «Утративший силу».
    pub text: String,
    /// The first day the regulation no longer applies, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// The repealing act, as cited, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<String>,
    /// Where the repeal is stated: the publication, or the seed file and line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The legal act and place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalSource {
    /// The act, as cited: e.g. «Постановление акимата Атырауской области от 16 ноября 2012 года № 355».
    pub act: String,
    /// The appendix of the act that holds this regulation, e.g. «Приложение 5».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appendix: Option<String>,
    /// Where the act is published (adilet.zan.kz) or the seed file it was encoded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The service standard the regulation implements, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
}

/// A place in the paper regulation: which appendix, table, action or paragraph says this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// Appendix of the regulation, e.g. `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appendix: Option<String>,
    /// Table within the appendix, e.g. `1` (Таблица 1. Описание действий СФЕ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Action number in the table (№ действия).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Paragraph and subparagraph of the regulation's text, e.g. `9.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<String>,
    /// The words of the paper, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

/// A decision recorded where the paper is ambiguous or contradicts itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// What the note is about: a step id, a channel id, or a free topic.
    pub about: String,
    /// What the paper says and what was decided.
    pub text: String,
    /// Where in the paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// A role (СФЕ) that performs steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Identifier used by steps and by user accounts, e.g. `head`, `executor`, `registrar`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    /// A person (a member of staff) or a system (the e-gov portal, the signature service).
    pub kind: RoleKind,
    pub name: Text,
    /// Which kind of office performs the role (the centre's inspector at a service centre, the
    /// akim at a rural akim's office, the registrar and executor at the provider's office). A
    /// task of the role opens in the office of that kind on the case's route. Left out: the
    /// office where the case was registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<OfficeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// A kind of office.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OfficeKind {
    /// The provider's own office (уполномоченный орган, ОЗСП).
    ProviderOffice,
    /// The akim of a village or rural district.
    RuralAkim,
    /// A public service centre (ЦОН, State Corporation).
    ServiceCentre,
}

impl OfficeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OfficeKind::ProviderOffice => "provider_office",
            OfficeKind::RuralAkim => "rural_akim",
            OfficeKind::ServiceCentre => "service_centre",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    Person,
    System,
}

/// A way an application reaches the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    pub kind: ChannelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// The step where cases of this channel begin.
    pub start: String,
    /// The statutory total term, as the paper writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<StatutoryTerm>,
    /// The longer term that applies when documents are missing, damaged or lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_term: Option<StatutoryTerm>,
    /// How the term is counted.
    #[serde(default)]
    pub counting: Counting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The provider's own office (уполномоченный орган, көрсетілетін қызметті беруші).
    ProviderOffice,
    /// The akim of a village or rural district (аким сельского округа, ауылдық округ әкімі).
    RuralAkim,
    /// A public service centre (ЦОН, Мемлекеттік корпорация).
    ServiceCentre,
    /// The e-gov portal (www.egov.kz).
    EgovPortal,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::ProviderOffice => "provider_office",
            ChannelKind::RuralAkim => "rural_akim",
            ChannelKind::ServiceCentre => "service_centre",
            ChannelKind::EgovPortal => "egov_portal",
        }
    }
}

/// A statutory term: the paper's words and what they mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatutoryTerm {
    /// The words of the paper, e.g. «в течение десяти рабочих дней».
    pub text: String,
    /// What they mean, e.g. `10 working days`.
    pub duration: Term,
    /// Where the paper says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// Rules for counting a channel's term.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Counting {
    /// «День приема и выдачи документа не входит в срок»: neither the day of receipt nor the
    /// day of issue counts, so the result is due at the close of the working day after the
    /// term's last day.
    #[serde(default)]
    pub receipt_and_issue_days_excluded: bool,
}

/// A JSON Schema (draft 2020-12) for data entered on a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Form(
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")] pub serde_json::Value,
);

/// A step of the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Work a person does: registration, review, signing, issue.
    Task(TaskStep),
    /// Work an integrated system does: portal authorisation, signature verification.
    System(SystemStep),
    /// A scheduled dispatch: collected cases leave together at the declared times.
    Dispatch(DispatchStep),
    /// A choice of one path by a condition on the case's data.
    Exclusive(ExclusiveStep),
    /// A split into paths that run at the same time.
    Parallel(ParallelStep),
    /// Waits for every path of a parallel split.
    Join(JoinStep),
    /// The end of the case, with its result.
    End(EndStep),
}

impl Step {
    pub fn id(&self) -> &str {
        match self {
            Step::Task(s) => &s.id,
            Step::System(s) => &s.id,
            Step::Dispatch(s) => &s.id,
            Step::Exclusive(s) => &s.id,
            Step::Parallel(s) => &s.id,
            Step::Join(s) => &s.id,
            Step::End(s) => &s.id,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Step::Task(_) => "task",
            Step::System(_) => "system",
            Step::Dispatch(_) => "dispatch",
            Step::Exclusive(_) => "exclusive",
            Step::Parallel(_) => "parallel",
            Step::Join(_) => "join",
            Step::End(_) => "end",
        }
    }

    pub fn name(&self) -> Option<&Text> {
        match self {
            Step::Task(s) => Some(&s.name),
            Step::System(s) => Some(&s.name),
            Step::Dispatch(s) => Some(&s.name),
            Step::Exclusive(s) => s.name.as_ref(),
            Step::Parallel(s) => s.name.as_ref(),
            Step::Join(s) => s.name.as_ref(),
            Step::End(s) => Some(&s.name),
        }
    }

    pub fn role(&self) -> Option<&str> {
        match self {
            Step::Task(s) => Some(&s.role),
            Step::System(s) => Some(&s.role),
            Step::Dispatch(s) => Some(&s.role),
            _ => None,
        }
    }

    pub fn source(&self) -> Option<&SourceRef> {
        match self {
            Step::Task(s) => s.source.as_ref(),
            Step::System(s) => s.source.as_ref(),
            Step::Dispatch(s) => s.source.as_ref(),
            _ => None,
        }
    }
}

/// An outcome a task or system step may end with, and where the case goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    /// The button's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// The next step.
    pub next: String,
    /// The outcome needs a written reason (a refusal must be reasoned).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_reason: bool,
}

/// Work a person with `role` does within `duration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    pub name: Text,
    /// The role that performs the task.
    pub role: String,
    /// How long the task may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Term>,
    /// A different duration for some channels, e.g. `rural_akim: 4 working days`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub durations: BTreeMap<String, Term>,
    /// The document or decision the task produces («форма завершения»).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub produces: Option<Text>,
    /// JSON Schema of the data the task's form collects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
    /// The outcomes the task may end with. Leave out for a task with one way on (use `next`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<Outcome>,
    /// The next step, for a task with a single outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// What happens when the task's deadline is breached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<Escalation>,
    /// When the task's time may stop: the reasons the service standard allows (waiting for
    /// another authority, for the applicant's corrected documents). Nobody may suspend the task
    /// for a reason not listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<Suspension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// A reason for which a task's time may stop, as the regulation allows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suspension {
    /// A stable code, e.g. `awaiting_authority`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub reason: String,
    pub name: Text,
    /// Whether the case's statutory term stops too (otherwise only the task's time stops).
    #[serde(default)]
    pub stops_case_term: bool,
    /// Where the regulation or the service standard allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// Work an integrated system does; its result is recorded by the integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    pub name: Text,
    /// The system role that performs the step.
    pub role: String,
    /// The integration that reports the result, e.g. `egov.authorization`, `eds.verification`.
    pub integration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Term>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub durations: BTreeMap<String, Term>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<Escalation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// Collected cases leave together at fixed times of the working day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    pub name: Text,
    /// The role that sends the collected documents.
    pub role: String,
    /// Local times of the working day when the collected cases leave, e.g. `["11:00", "16:00"]`.
    #[schemars(length(min = 1))]
    pub at: Vec<LocalTime>,
    /// The paper's words, e.g. «не менее двух раз в день».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// How long the transfer itself takes after leaving, if the paper says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Term>,
    pub next: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// A local time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(pub chrono::NaiveTime);

impl TryFrom<String> for LocalTime {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        chrono::NaiveTime::parse_from_str(&s, "%H:%M")
            .map(LocalTime)
            .map_err(|_| format!("`{s}` is not a time of day; write HH:MM, e.g. 09:00"))
    }
}

impl From<LocalTime> for String {
    fn from(t: LocalTime) -> String {
        t.0.format("%H:%M").to_string()
    }
}

impl JsonSchema for LocalTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LocalTime".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A local time of day, HH:MM (24-hour).",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"
        })
    }
}

/// A choice of exactly one path by conditions on the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusiveStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Tried in order; the first whose condition holds is taken.
    #[schemars(length(min = 1))]
    pub branches: Vec<Branch>,
    /// Taken when no condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A conditional path of an exclusive choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// A CEL expression over the case: `channel`, `data` (the applicant's form),
    /// `outcomes` (the last outcome of each step) and `documents_missing`,
    /// e.g. `channel == "rural_akim"` or `data.family_size > 3`.
    pub when: String,
    pub next: String,
}

/// A split into paths that all run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParallelStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// The first step of each path.
    #[schemars(length(min = 2))]
    pub branches: Vec<String>,
}

/// Waits until every path that reaches it has arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    pub next: String,
}

/// The end of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndStep {
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    pub name: Text,
    pub result: CaseResult,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseResult {
    Granted,
    Refused,
    /// Returned to the applicant because documents are missing or wrongly drawn up.
    Returned,
    Withdrawn,
}

impl CaseResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseResult::Granted => "granted",
            CaseResult::Refused => "refused",
            CaseResult::Returned => "returned",
            CaseResult::Withdrawn => "withdrawn",
        }
    }
}

/// What to do when a deadline is breached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub action: EscalationAction,
    /// The role to notify or to hand the task to.
    pub role: String,
    /// How long after the breach, in working time (immediately if left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Term>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationAction {
    /// Tell the role; the task stays where it is.
    Notify,
    /// Hand the task to the role.
    Reassign,
}
