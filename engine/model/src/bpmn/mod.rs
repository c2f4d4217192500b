//! BPMN 2.0 interchange: every regulation as a BPMN document with its diagram (BPMN DI), for
//! bpmn.io, Camunda Modeler and process-mining tools, and BPMN read back into a YAML draft.
//!
//! The YAML stays the source of truth. The export is a collaboration: the provider as a pool
//! with one lane per role, and the applicant, the e-gov portal, the ЦОН and the rural akim as
//! pools of their own where a channel involves them; the case passes between pools by message
//! flows (sequence flows never cross a pool). Tasks are user tasks, system steps service
//! tasks, a dispatch an intermediate timer event; outcomes that part ways and exclusive
//! choices are exclusive gateways with named CEL conditions; parallel splits and joins are
//! parallel gateways; each channel starts at a message start event; ends are end events named
//! by result. A deadline is a non-interrupting boundary timer with an ISO 8601 duration,
//! followed by an end event that names its escalation. What BPMN cannot say (the term as
//! written, names in all three languages, forms, sources, the channel and counting rule of a
//! deadline) travels in extension elements of the Reglament namespace ([`NS_REGLAMENT`]),
//! documented in `regulations/README.md`.
//!
//! The import ([`import`]) reads the part of BPMN that maps onto the format and takes the
//! flow from the BPMN structure (what a modeller edits) and what BPMN cannot hold from the
//! extension elements when they are there; it lists every element it does not support with
//! its line, and leaves what BPMN lacks marked in the draft for `reglament validate`.

mod diagram;
mod import;
mod iso;
mod plan;
mod words;
mod write;

#[cfg(test)]
mod tests;

pub use import::{Finding, ImportError, ImportOptions, Imported, import};

use crate::compile::Process;
use crate::text::Lang;

pub const NS_BPMN: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
pub const NS_BPMNDI: &str = "http://www.omg.org/spec/BPMN/20100524/DI";
pub const NS_DC: &str = "http://www.omg.org/spec/DD/20100524/DC";
pub const NS_DI: &str = "http://www.omg.org/spec/DD/20100524/DI";
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The namespace of Reglament's extension elements.
pub const NS_REGLAMENT: &str = "urn:reglament:bpmn:1";

/// The process as a BPMN 2.0 document with its diagram, names in `lang`. Deterministic: the
/// same process gives byte-identical XML.
pub fn export(process: &Process, lang: Lang) -> String {
    let plan = plan::plan(process, lang);
    let diagram = diagram::diagram(process, &plan, lang);
    write::write(process, &plan, &diagram, lang)
}
