//! Every kind of change a diff names. The JSON form is `{"change": "step_renamed", …}` with
//! the fields below, plus `old` and `new` places ([`super::Change`]); tools match on `change`.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use crate::duration::Term;
use crate::model::{CaseResult, ChannelKind, OfficeKind, Repeal, RoleKind};
use crate::text::Text;

/// What changed. Steps, roles and channels are named by id (a renamed step by its new id,
/// except in [`What::StepRenamed`] itself); a form is the application form when `step` is
/// absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum What {
    // The regulation as a whole.
    IdChanged {
        from: String,
        to: String,
    },
    VersionChanged {
        from: u32,
        to: u32,
    },
    TitleChanged {
        from: Text,
        to: Text,
    },
    /// A field of the approving act: `act`, `appendix`, `url` or `standard`.
    SourceChanged {
        field: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// `valid_from`, `in_force_from` or `valid_to`.
    DateChanged {
        field: String,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    RepealChanged {
        from: Option<Repeal>,
        to: Option<Repeal>,
    },
    CalendarChanged {
        from: String,
        to: String,
    },
    RegionChanged {
        from: String,
        to: String,
    },
    WarningsChanged {
        from: Vec<u8>,
        to: Vec<u8>,
    },

    // Roles.
    RoleAdded {
        role: String,
        kind: RoleKind,
        office: Option<OfficeKind>,
    },
    RoleRemoved {
        role: String,
        kind: RoleKind,
        office: Option<OfficeKind>,
    },
    RoleKindChanged {
        role: String,
        from: RoleKind,
        to: RoleKind,
    },
    RoleOfficeChanged {
        role: String,
        from: Option<OfficeKind>,
        to: Option<OfficeKind>,
    },
    RoleNameChanged {
        role: String,
        from: Text,
        to: Text,
    },

    // Channels.
    ChannelAdded {
        channel: String,
        kind: ChannelKind,
    },
    ChannelRemoved {
        channel: String,
        kind: ChannelKind,
    },
    ChannelKindChanged {
        channel: String,
        from: ChannelKind,
        to: ChannelKind,
    },
    ChannelNameChanged {
        channel: String,
        from: Option<Text>,
        to: Option<Text>,
    },
    ChannelStartChanged {
        channel: String,
        from: String,
        to: String,
    },
    /// The channel's statutory term (`extended`: the term when documents are missing).
    StatutoryTermChanged {
        channel: String,
        extended: bool,
        from: Option<Term>,
        to: Option<Term>,
        from_text: Option<String>,
        to_text: Option<String>,
    },
    /// «День приема и выдачи документа не входит в срок», now as given.
    CountingChanged {
        channel: String,
        receipt_and_issue_days_excluded: bool,
    },

    // Steps.
    StepAdded {
        step: String,
        kind: String,
        role: Option<String>,
    },
    StepRemoved {
        step: String,
        kind: String,
        role: Option<String>,
    },
    /// The same kind, role and place in the graph under a new id.
    StepRenamed {
        from: String,
        to: String,
    },
    /// The step is now done by another role.
    StepMoved {
        step: String,
        from_role: Option<String>,
        to_role: Option<String>,
    },
    StepKindChanged {
        step: String,
        from: String,
        to: String,
    },
    StepNameChanged {
        step: String,
        from: Option<Text>,
        to: Option<Text>,
    },
    /// The step's time on these channels (grouped when the change is the same).
    DurationChanged {
        step: String,
        channels: Vec<String>,
        from: Option<Term>,
        to: Option<Term>,
    },
    DispatchTimesChanged {
        step: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    IntegrationChanged {
        step: String,
        from: Option<String>,
        to: Option<String>,
    },
    ProducesChanged {
        step: String,
        from: Option<Text>,
        to: Option<Text>,
    },
    /// The single way on of a step (a task's `next`, a join's, a dispatch's).
    NextChanged {
        step: String,
        from: Option<String>,
        to: Option<String>,
    },
    OutcomeAdded {
        step: String,
        outcome: String,
        next: String,
    },
    OutcomeRemoved {
        step: String,
        outcome: String,
        next: String,
    },
    OutcomeNextChanged {
        step: String,
        outcome: String,
        from: String,
        to: String,
    },
    /// Whether the outcome needs a written reason, now as given.
    OutcomeReasonChanged {
        step: String,
        outcome: String,
        requires_reason: bool,
    },
    BranchAdded {
        step: String,
        when: String,
        next: String,
    },
    BranchRemoved {
        step: String,
        when: String,
        next: String,
    },
    /// The condition of the branch that leads to `next`.
    BranchConditionChanged {
        step: String,
        next: String,
        from: String,
        to: String,
    },
    /// Where the branch with this condition leads.
    BranchTargetChanged {
        step: String,
        when: String,
        from: String,
        to: String,
    },
    /// The order the conditions are tried in (the first that holds is taken).
    BranchOrderChanged {
        step: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    DefaultChanged {
        step: String,
        from: Option<String>,
        to: Option<String>,
    },
    ParallelBranchesChanged {
        step: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    EndResultChanged {
        step: String,
        from: Option<CaseResult>,
        to: Option<CaseResult>,
    },
    /// What happens on a breach, each as `action role [after]`.
    EscalationChanged {
        step: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    SuspensionAdded {
        step: String,
        reason: String,
        stops_case_term: bool,
    },
    SuspensionRemoved {
        step: String,
        reason: String,
    },
    /// Whether the suspension stops the case's term too, now as given.
    SuspensionChanged {
        step: String,
        reason: String,
        stops_case_term: bool,
    },

    // Forms: the application form (`step` absent) or a task's.
    FormAdded {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
    },
    FormRemoved {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
    },
    /// `field` is a dotted path for a field of a nested object.
    FieldAdded {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        field: String,
        required: bool,
    },
    FieldRemoved {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        field: String,
    },
    FieldNowRequired {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        field: String,
    },
    FieldNoLongerRequired {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        field: String,
    },
    /// A JSON Schema keyword of a field (`field` empty: of the form itself), e.g.
    /// `maxLength`, `pattern`, `enum`, `type`.
    FieldConstraintChanged {
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        field: String,
        constraint: String,
        from: Option<Value>,
        to: Option<Value>,
    },
}

/// Whether a change adds something, takes something away, or alters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Added,
    Removed,
    Changed,
}

impl Sign {
    pub fn symbol(self) -> char {
        match self {
            Sign::Added => '+',
            Sign::Removed => '-',
            Sign::Changed => '~',
        }
    }
}

impl What {
    /// The `change` tag of the JSON form, e.g. `step_renamed`.
    pub fn tag(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("change").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default()
    }

    /// The step the change is about (by its id in the new version, or the old id of a removed
    /// step), if it is about a step; a task form's changes are about its step.
    pub fn step(&self) -> Option<&str> {
        use What::*;
        match self {
            StepRenamed { to, .. } => Some(to),
            StepAdded { step, .. }
            | StepRemoved { step, .. }
            | StepMoved { step, .. }
            | StepKindChanged { step, .. }
            | StepNameChanged { step, .. }
            | DurationChanged { step, .. }
            | DispatchTimesChanged { step, .. }
            | IntegrationChanged { step, .. }
            | ProducesChanged { step, .. }
            | NextChanged { step, .. }
            | OutcomeAdded { step, .. }
            | OutcomeRemoved { step, .. }
            | OutcomeNextChanged { step, .. }
            | OutcomeReasonChanged { step, .. }
            | BranchAdded { step, .. }
            | BranchRemoved { step, .. }
            | BranchConditionChanged { step, .. }
            | BranchTargetChanged { step, .. }
            | BranchOrderChanged { step, .. }
            | DefaultChanged { step, .. }
            | ParallelBranchesChanged { step, .. }
            | EndResultChanged { step, .. }
            | EscalationChanged { step, .. }
            | SuspensionAdded { step, .. }
            | SuspensionRemoved { step, .. }
            | SuspensionChanged { step, .. } => Some(step),
            FormAdded { step }
            | FormRemoved { step }
            | FieldAdded { step, .. }
            | FieldRemoved { step, .. }
            | FieldNowRequired { step, .. }
            | FieldNoLongerRequired { step, .. }
            | FieldConstraintChanged { step, .. } => step.as_deref(),
            _ => None,
        }
    }

    pub fn sign(&self) -> Sign {
        use What::*;
        match self {
            RoleAdded { .. }
            | ChannelAdded { .. }
            | StepAdded { .. }
            | OutcomeAdded { .. }
            | BranchAdded { .. }
            | SuspensionAdded { .. }
            | FormAdded { .. }
            | FieldAdded { .. } => Sign::Added,
            RoleRemoved { .. }
            | ChannelRemoved { .. }
            | StepRemoved { .. }
            | OutcomeRemoved { .. }
            | BranchRemoved { .. }
            | SuspensionRemoved { .. }
            | FormRemoved { .. }
            | FieldRemoved { .. } => Sign::Removed,
            _ => Sign::Changed,
        }
    }
}
