//! BPMN read back into a YAML draft of a regulation.
//!
//! Supported: user, service and plain tasks; exclusive and parallel gateways; start and end
//! events (message ones too); intermediate timer catch events (a dispatch); timer boundary
//! events (deadlines); lanes and pools; message flows between an end event of one pool and a
//! start event of another (the case passing between organisations); and the Reglament
//! extension elements. The flow comes from the BPMN structure, what a modeller edits;
//! what BPMN cannot hold (names in three languages, terms as written, forms, sources) from
//! the extension elements where they are. Anything else is reported with its id and line
//! ([`Finding`]) and never silently dropped. What the draft needs and BPMN does not say (a
//! role's kind, a channel's kind, the legal act) is left out or marked with a `TODO(import)`
//! comment, so that `reglament validate` explains each gap.

mod form;
mod read;
mod xml;
mod yaml;

use chrono::NaiveDate;

use crate::text::Lang;

/// What BPMN does not say about the whole regulation, supplied by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The language of the BPMN names (for a file without Reglament extension elements).
    pub lang: Lang,
    /// The region whose offices provide the service (a file under `regulations/offices/`).
    pub region: Option<String>,
    /// The first day the regulation applies.
    pub valid_from: Option<NaiveDate>,
    /// The legal act the regulation was approved by.
    pub act: Option<String>,
}

/// An element the import could not take over, or took over with a caveat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    /// The element's id, if it has one.
    pub id: Option<String>,
    /// The element's BPMN name, e.g. `subProcess`.
    pub element: String,
    pub message: String,
    /// The element is outside the supported subset (as opposed to a caveat).
    pub unsupported: bool,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.element)?;
        if let Some(id) = &self.id {
            write!(f, " `{id}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The draft and what the import has to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The regulation as YAML, gaps marked with `TODO(import)` comments.
    pub yaml: String,
    pub findings: Vec<Finding>,
    /// The gaps marked in the draft, one line each.
    pub gaps: Vec<String>,
}

/// A file that cannot be read as BPMN at all. The message leaves the place out: it is
/// [`ImportError::line`], for the caller to put in front (`FILE:LINE: error: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not well-formed XML: {message}")]
    Xml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "the root element is `{found}`, not BPMN 2.0's `definitions` in the namespace {}",
        super::NS_BPMN
    )]
    NotBpmn { line: usize, found: String },
    #[error("the document has no process")]
    NoProcess,
    #[error("the id `{id}` is used twice (first on line {first})")]
    DuplicateId {
        line: usize,
        first: usize,
        id: String,
    },
    /// A reference that does not resolve, or an element that leads nowhere.
    #[error("{element} `{id}` {message}")]
    Broken {
        line: usize,
        element: String,
        id: String,
        message: String,
    },
    #[error(
        "the cycle {} has no way out: no end event can be reached from it",
        ids.join(" → ")
    )]
    Trapped { line: usize, ids: Vec<String> },
}

impl ImportError {
    /// The line the error is about.
    pub fn line(&self) -> usize {
        match self {
            ImportError::Xml { line, .. }
            | ImportError::NotBpmn { line, .. }
            | ImportError::DuplicateId { line, .. }
            | ImportError::Broken { line, .. }
            | ImportError::Trapped { line, .. } => *line,
            ImportError::NoProcess => 1,
        }
    }

    /// The column, for an XML syntax error.
    pub fn column(&self) -> Option<usize> {
        match self {
            ImportError::Xml { column, .. } => Some(*column),
            _ => None,
        }
    }
}

/// Reads BPMN XML into a YAML draft.
pub fn import(text: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let doc = xml::parse(text)?;
    let draft = read::read(&doc, options)?;
    let yaml = yaml::emit(&draft);
    Ok(Imported {
        yaml,
        gaps: draft.gaps.iter().map(|g| g.note.clone()).collect(),
        findings: draft.findings,
    })
}
