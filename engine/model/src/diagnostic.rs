//! Diagnostics for analysts: `file:line:column: error[CODE]: message`, with the offending line
//! and a caret, or JSON for editors and CI.

use std::fmt::{self, Write as _};

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Stable codes. Errors are `E…`, lint warnings `W…`; regulations/README.md documents each.
/// Codes are never reused for a different meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
    // Reading the file.
    /// The file could not be read.
    E001,
    /// YAML syntax error.
    E002,
    /// The same key twice in one mapping.
    E003,
    /// The file is empty or holds more than one YAML document.
    E004,
    // The shape of the document (JSON Schema).
    /// A key the format does not have.
    E010,
    /// A required key is missing.
    E011,
    /// A value of the wrong type.
    E012,
    /// A value not among the allowed ones.
    E013,
    /// A malformed duration.
    E014,
    /// A value of the wrong form (identifier, time of day, date).
    E015,
    /// A list too short, a number out of range, or another constraint.
    E016,
    /// A duration longer than the working calendar can be relied on to count.
    E017,
    // References and meaning.
    /// Two things of one kind share an id.
    E020,
    /// A step names a role that is not declared.
    E021,
    /// A reference to a step that does not exist.
    E022,
    /// A channel-specific duration names a channel that does not exist.
    E023,
    /// A task or system step has neither `next` nor outcomes, or both.
    E024,
    /// A step form or the application form is not a valid JSON Schema.
    E025,
    /// A branch condition is not a valid expression.
    E026,
    /// A system step is given to a person, or a task to a system.
    E027,
    /// The regulation's region, calendar or validity dates are wrong.
    E028,
    /// A join that no parallel split leads to, or a split whose paths never join.
    E029,
    // The graph.
    /// A step no channel's start can reach.
    E030,
    /// A step from which no end can be reached.
    E031,
    /// A cycle with no way out.
    E032,
    /// An exclusive choice with no default whose conditions may all fail.
    E033,
    // Branch conditions, checked against the forms and the process.
    /// A function or macro conditions cannot use, or called the wrong way.
    E040,
    /// A field no form declares, or a step whose outcome cannot be recorded before the choice.
    E041,
    /// An optional field or outcome used without a `has()` guard.
    E042,
    /// Values of different types compared or combined, or a condition that is not true/false.
    E043,
    /// A channel, outcome or form value that does not exist, compared with one that does.
    E044,
    // Calendars and offices (`regulations/calendars/`, `regulations/offices/`).
    /// Calendar or offices data that contradicts itself or the law's rules (a day listed
    /// twice, a transfer onto a day off, hours that end before they start, an unknown
    /// schedule, time zone or calendar).
    E050,
    // Lint.
    /// Step durations along a path exceed the channel's statutory term.
    W100,
    /// A channel with no statutory term.
    W101,
    /// A declared role that no step uses.
    W102,
    /// A task with no duration.
    W103,
    /// A refusal or return outcome that does not ask for a reason.
    W104,
    /// A step that names no source in the paper.
    W105,
    /// An exclusive choice with no default branch.
    W106,
    /// The longest path under the extended term exceeds it.
    W107,
    /// A step duration longer than the channel's whole term.
    W108,
    /// Calendar or offices data that loads but looks wrong (a holiday on a day off with no
    /// transfer, hours missing from the paper, a year with no decree yet).
    W150,
}

impl Code {
    /// Every code, in order, for documentation and tests (`tests/docs.rs` checks that
    /// regulations/README.md explains each one the validator reports).
    pub const ALL: &[Code] = &[
        Code::E001,
        Code::E002,
        Code::E003,
        Code::E004,
        Code::E010,
        Code::E011,
        Code::E012,
        Code::E013,
        Code::E014,
        Code::E015,
        Code::E016,
        Code::E017,
        Code::E020,
        Code::E021,
        Code::E022,
        Code::E023,
        Code::E024,
        Code::E025,
        Code::E026,
        Code::E027,
        Code::E028,
        Code::E029,
        Code::E030,
        Code::E031,
        Code::E032,
        Code::E033,
        Code::E040,
        Code::E041,
        Code::E042,
        Code::E043,
        Code::E044,
        Code::E050,
        Code::W100,
        Code::W101,
        Code::W102,
        Code::W103,
        Code::W104,
        Code::W105,
        Code::W106,
        Code::W107,
        Code::W108,
        Code::W150,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::E001 => "E001",
            Code::E002 => "E002",
            Code::E003 => "E003",
            Code::E004 => "E004",
            Code::E010 => "E010",
            Code::E011 => "E011",
            Code::E012 => "E012",
            Code::E013 => "E013",
            Code::E014 => "E014",
            Code::E015 => "E015",
            Code::E016 => "E016",
            Code::E017 => "E017",
            Code::E020 => "E020",
            Code::E021 => "E021",
            Code::E022 => "E022",
            Code::E023 => "E023",
            Code::E024 => "E024",
            Code::E025 => "E025",
            Code::E026 => "E026",
            Code::E027 => "E027",
            Code::E028 => "E028",
            Code::E029 => "E029",
            Code::E030 => "E030",
            Code::E031 => "E031",
            Code::E032 => "E032",
            Code::E033 => "E033",
            Code::E040 => "E040",
            Code::E041 => "E041",
            Code::E042 => "E042",
            Code::E043 => "E043",
            Code::E044 => "E044",
            Code::E050 => "E050",
            Code::W100 => "W100",
            Code::W101 => "W101",
            Code::W102 => "W102",
            Code::W103 => "W103",
            Code::W104 => "W104",
            Code::W105 => "W105",
            Code::W106 => "W106",
            Code::W107 => "W107",
            Code::W108 => "W108",
            Code::W150 => "W150",
        }
    }

    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(line: usize, column: usize) -> Self {
        Location { line, column }
    }
}

/// One finding about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub severity: Severity,
    pub code: Code,
    pub location: Location,
    pub message: String,
    /// A hint: the nearest valid name, or how to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Further lines of explanation (e.g. the steps of an over-long path).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where in the document, as a JSON pointer (`/steps/3/role`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pointer: String,
}

impl Diagnostic {
    pub fn new(file: &str, code: Code, location: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            severity: code.severity(),
            code,
            location,
            message: message.into(),
            help: None,
            notes: Vec::new(),
            pointer: String::new(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = pointer.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The one-line header: `file:line:column: error[CODE]: message`.
    pub fn header(&self) -> String {
        format!(
            "{}:{}:{}: {}[{}]: {}",
            self.file,
            self.location.line,
            self.location.column,
            self.severity,
            self.code,
            self.message
        )
    }

    /// The header, the offending source line with a caret under the column, then help and notes.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = self.header();
        out.push('\n');
        if let Some(line) = source.and_then(|s| s.lines().nth(self.location.line.wrapping_sub(1))) {
            let number = self.location.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad: String = line
                .chars()
                .take(self.location.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {line}");
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "  = note: {note}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())
    }
}

/// Sort for display: by file, then position, errors before warnings at the same place.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.location, a.severity, a.code).cmp(&(&b.file, b.location, b.severity, b.code))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_line_and_caret() {
        let d = Diagnostic::new(
            "reg.yaml",
            Code::E021,
            Location::new(2, 9),
            "unknown role `haed`",
        )
        .with_help("did you mean `head`?");
        let text = d.render(Some("id: x\n  role: haed\n"));
        assert_eq!(
            text,
            "reg.yaml:2:9: error[E021]: unknown role `haed`\n  |\n2 |   role: haed\n  |         ^\n  = help: did you mean `head`?\n"
        );
    }

    #[test]
    fn all_lists_every_code_once_in_order() {
        // Read the variants from this file, so a code added to the enum but not to `ALL` fails.
        let source = include_str!("diagnostic.rs");
        let start = source.find("pub enum Code {").expect("the enum");
        let body = &source[start..start + source[start..].find('}').expect("its end")];
        let declared: Vec<&str> = body
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_suffix(','))
            .filter(|l| l.len() == 4 && (l.starts_with('E') || l.starts_with('W')))
            .collect();
        let listed: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, declared);
        assert!(Code::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn warning_codes_are_warnings() {
        assert_eq!(Code::W100.severity(), Severity::Warning);
        assert_eq!(Code::E002.severity(), Severity::Error);
    }
}
