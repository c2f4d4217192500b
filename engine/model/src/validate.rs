//! Checking a regulation's meaning: references, forms, conditions, the process graph, and the
//! linter. Every finding carries the place in the file it is about.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::visit::EdgeRef;

use crate::compile::{CompileError, Process, successors};
use crate::condition::Condition;
use crate::diagnostic::{self, Code, Diagnostic};
use crate::duration::{Term, suggest};
use crate::lint;
use crate::load::{self, Loaded};
use crate::model::{Outcome, Regulation, RoleKind, Step};
use crate::paths::DayLengths;
use crate::scope::OutcomeScope;
use crate::typecheck::{self, Facts};
use crate::yaml::{self, escape_token};

/// What the regulation may refer to outside itself.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub regions: HashSet<String>,
    pub calendars: HashSet<String>,
    /// Each region's working-day lengths per kind of office, for the linter's sums (a region
    /// not here counts every day as [`crate::paths::DEFAULT_DAY_MINUTES`]).
    pub days: HashMap<String, DayLengths>,
}

/// The result of checking one file.
#[derive(Debug)]
pub struct Report {
    pub file: String,
    /// The file's text, for rendering snippets.
    pub source: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// The compiled process, when there were no errors.
    pub process: Option<Process>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Checks regulation text completely: shape, meaning, graph, lint.
pub fn check_str(text: &str, file: &str, known: Option<&Known>) -> Report {
    match load::load_str(text, file) {
        Ok(loaded) => check_loaded(loaded, known),
        Err(diagnostics) => Report {
            file: file.to_string(),
            source: Some(text.to_string()),
            diagnostics,
            process: None,
        },
    }
}

/// Checks a regulation file.
pub fn check_file(path: &Path, known: Option<&Known>) -> Report {
    match std::fs::read_to_string(path) {
        Ok(text) => check_str(&text, &path.display().to_string(), known),
        Err(_) => match load::load_file(path) {
            Err(diagnostics) => Report {
                file: path.display().to_string(),
                source: None,
                diagnostics,
                process: None,
            },
            Ok(loaded) => check_loaded(loaded, known),
        },
    }
}

/// The regulation files under `paths` (files as given; folders searched for `*.yaml`/`*.yml`,
/// skipping the `schema`, `calendars` and `offices` folders, which hold other formats).
pub fn regulation_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "schema" | "calendars" | "offices") && !name.starts_with('.') {
                walk(&path, out)?;
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Semantic checks, compilation, graph checks and lint on a loaded regulation.
pub fn check_loaded(loaded: Loaded, known: Option<&Known>) -> Report {
    let mut ctx = Ctx {
        loaded: &loaded,
        out: Vec::new(),
    };
    ctx.references(known);
    ctx.reach();
    let mut process = None;
    if ctx.out.iter().all(|d| !d.is_error()) {
        match Process::compile(loaded.regulation.clone()) {
            Ok(p) => {
                ctx.graph(&p);
                ctx.conditions(&p);
                if ctx.out.iter().all(|d| !d.is_error()) {
                    let days = known
                        .and_then(|k| k.days.get(&loaded.regulation.region))
                        .cloned()
                        .unwrap_or_default();
                    ctx.out.extend(lint::lint_with(&p, &loaded, &days));
                }
                process = Some(p);
            }
            Err(e) => {
                // References were checked above, so only structural errors can remain here.
                let (code, step) = match &e {
                    CompileError::UnjoinedSplit(id) => (Code::E029, Some(id.as_str())),
                    CompileError::Condition { step, .. } => (Code::E026, Some(step.as_str())),
                    CompileError::UnknownStep { from, .. } => (Code::E022, Some(from.as_str())),
                    CompileError::UnknownStart { .. } => (Code::E022, None),
                    CompileError::Form { step, .. } => (Code::E025, Some(step.as_str())),
                };
                let pointer = step
                    .and_then(|id| loaded.regulation.steps.iter().position(|s| s.id() == id))
                    .map_or_else(|| "/steps".to_string(), |i| format!("/steps/{i}/id"));
                ctx.out.push(
                    Diagnostic::new(
                        &loaded.file,
                        code,
                        loaded.spans.value_at(&pointer),
                        e.to_string(),
                    )
                    .with_pointer(pointer),
                );
            }
        }
    }
    let mut diagnostics = ctx.out;
    diagnostic::sort(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Report {
        file: loaded.file.clone(),
        source: Some(loaded.source.clone()),
        diagnostics,
        process: if has_errors { None } else { process },
    }
}

struct Ctx<'a> {
    loaded: &'a Loaded,
    out: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// The regulation, borrowed for as long as the context rather than from `self`, so the
    /// checks can read it while they record findings (cloning it cost as much as the checks).
    fn reg(&self) -> &'a Regulation {
        &self.loaded.regulation
    }

    fn at_value(&mut self, code: Code, pointer: &str, message: String) -> &mut Diagnostic {
        let loc = self.loaded.spans.value_at(pointer);
        self.out
            .push(Diagnostic::new(&self.loaded.file, code, loc, message).with_pointer(pointer));
        self.out.last_mut().expect("just pushed")
    }

    fn at_key(&mut self, code: Code, pointer: &str, message: String) -> &mut Diagnostic {
        let loc = self.loaded.spans.key_at(pointer);
        self.out
            .push(Diagnostic::new(&self.loaded.file, code, loc, message).with_pointer(pointer));
        self.out.last_mut().expect("just pushed")
    }

    fn unknown(&mut self, code: Code, pointer: &str, what: &str, name: &str, known: &[&str]) {
        let suggestion = suggest(name, known.iter().copied()).map(str::to_string);
        let d = self.at_value(code, pointer, format!("unknown {what} `{name}`"));
        match suggestion {
            Some(s) => d.help = Some(format!("did you mean `{s}`?")),
            None if !known.is_empty() && known.len() <= 12 => {
                d.help = Some(format!("the {what}s here are: {}", known.join(", ")))
            }
            None => {}
        }
    }

    fn references(&mut self, known: Option<&Known>) {
        let reg = self.reg();
        self.duplicates(
            "/roles",
            "role",
            reg.roles.iter().map(|r| r.id.as_str()).collect(),
        );
        self.duplicates(
            "/channels",
            "channel",
            reg.channels.iter().map(|c| c.id.as_str()).collect(),
        );
        self.duplicates("/steps", "step", reg.steps.iter().map(Step::id).collect());

        // The days it applies run from `in_force_from` (else `valid_from`) to `valid_to` or
        // the day before a dated repeal; an empty or contradictory window is this file's own
        // mistake (how versions follow one another is the store's check at deployment).
        let begins = reg.in_force_from.unwrap_or(reg.valid_from);
        if let Some(to) = reg.valid_to
            && to < begins
        {
            self.at_value(
                Code::E028,
                "/valid_to",
                format!("the regulation ends ({to}) before it begins ({begins})"),
            );
        }
        if let Some(day) = reg.repealed.as_ref().and_then(|r| r.date) {
            if day <= begins {
                self.at_value(
                    Code::E028,
                    "/repealed/date",
                    format!("the regulation is repealed from {day}, before it begins ({begins})"),
                );
            } else if let Some(to) = reg.valid_to
                && to.succ_opt() != Some(day)
            {
                self.at_value(
                    Code::E028,
                    "/valid_to",
                    format!(
                        "`valid_to` ({to}) must be the day before the repeal ({day}): the last day the regulation applies"
                    ),
                );
            }
        }
        if let Some(known) = known {
            if !known.regions.is_empty() && !known.regions.contains(&reg.region) {
                let names: Vec<&str> = known.regions.iter().map(String::as_str).collect();
                self.unknown(Code::E028, "/region", "region", &reg.region, &names);
            }
            if !known.calendars.is_empty() && !known.calendars.contains(&reg.calendar) {
                let names: Vec<&str> = known.calendars.iter().map(String::as_str).collect();
                self.unknown(Code::E028, "/calendar", "calendar", &reg.calendar, &names);
            }
        }

        let roles: HashMap<&str, RoleKind> =
            reg.roles.iter().map(|r| (r.id.as_str(), r.kind)).collect();
        let role_names: Vec<&str> = reg.roles.iter().map(|r| r.id.as_str()).collect();
        let step_names: Vec<&str> = reg.steps.iter().map(Step::id).collect();
        let steps: HashSet<&str> = step_names.iter().copied().collect();
        let channel_names: Vec<&str> = reg.channels.iter().map(|c| c.id.as_str()).collect();

        for (c, channel) in reg.channels.iter().enumerate() {
            if !steps.contains(channel.start.as_str()) {
                self.unknown(
                    Code::E022,
                    &format!("/channels/{c}/start"),
                    "step",
                    &channel.start,
                    &step_names,
                );
            }
        }
        if let Some(form) = &reg.application_form {
            self.form(&form.0, "/application_form");
        }

        for (i, step) in reg.steps.iter().enumerate() {
            let base = format!("/steps/{i}");
            if let Some(role) = step.role() {
                match roles.get(role) {
                    None => self.unknown(
                        Code::E021,
                        &format!("{base}/role"),
                        "role",
                        role,
                        &role_names,
                    ),
                    Some(kind) => {
                        let wrong = match (step, kind) {
                            (Step::System(_), RoleKind::Person) => {
                                Some("a system step is done by a system role, not a person")
                            }
                            (Step::Task(_), RoleKind::System) => Some(
                                "a task is done by a person; use a `system` step for a system role",
                            ),
                            _ => None,
                        };
                        if let Some(msg) = wrong {
                            self.at_value(
                                Code::E027,
                                &format!("{base}/role"),
                                format!("role `{role}`: {msg}"),
                            );
                        }
                    }
                }
            }
            for (edge, target) in successors(step) {
                if !steps.contains(target) {
                    let pointer = target_pointer(step, &base, &edge);
                    self.unknown(Code::E022, &pointer, "step", target, &step_names);
                }
            }
            let (outcomes, next, durations, escalation) = match step {
                Step::Task(t) => (
                    Some(&t.outcomes),
                    t.next.as_ref(),
                    Some(&t.durations),
                    &t.escalation[..],
                ),
                Step::System(s) => (
                    Some(&s.outcomes),
                    s.next.as_ref(),
                    Some(&s.durations),
                    &s.escalation[..],
                ),
                _ => (None, None, None, &[][..]),
            };
            if let Some(outcomes) = outcomes {
                self.outcomes(&base, step, outcomes, next.is_some());
            }
            if let Step::Task(t) = step {
                let reasons = t.suspensions.iter().map(|s| s.reason.as_str()).collect();
                self.duplicate_keys(
                    &format!("{base}/suspensions"),
                    "reason",
                    "suspension reason",
                    reasons,
                );
            }
            if let Some(durations) = durations {
                for channel in durations.keys() {
                    if !channel_names.contains(&channel.as_str()) {
                        let pointer = format!("{base}/durations/{}", escape_token(channel));
                        let suggestion = suggest(channel, channel_names.iter().copied());
                        let d = self.at_key(
                            Code::E023,
                            &pointer,
                            format!("unknown channel `{channel}`"),
                        );
                        d.help = Some(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("the channels are: {}", channel_names.join(", ")),
                        });
                    }
                }
            }
            for (e, esc) in escalation.iter().enumerate() {
                if !roles.contains_key(esc.role.as_str()) {
                    self.unknown(
                        Code::E021,
                        &format!("{base}/escalation/{e}/role"),
                        "role",
                        &esc.role,
                        &role_names,
                    );
                }
            }
            if let Step::Task(t) = step
                && let Some(form) = &t.form
            {
                self.form(&form.0, &format!("{base}/form"));
            }
            if let Step::Exclusive(x) = step {
                for (b, branch) in x.branches.iter().enumerate() {
                    if let Err(e) = Condition::compile(&branch.when) {
                        self.at_value(
                            Code::E026,
                            &format!("{base}/branches/{b}/when"),
                            e.to_string(),
                        );
                    }
                }
            }
        }
    }

    /// Every duration the regulation states, with its place: none may be longer than the
    /// calendar can be relied on to count ([`Term::LONGEST`]), or a case would fail when it
    /// reached it.
    fn reach(&mut self) {
        let reg = self.reg();
        let mut terms: Vec<(String, Term)> = Vec::new();
        for (c, channel) in reg.channels.iter().enumerate() {
            for (key, term) in [
                ("term", &channel.term),
                ("extended_term", &channel.extended_term),
            ] {
                if let Some(t) = term {
                    terms.push((format!("/channels/{c}/{key}/duration"), t.duration));
                }
            }
        }
        for (i, step) in reg.steps.iter().enumerate() {
            let base = format!("/steps/{i}");
            let (duration, durations, escalation) = match step {
                Step::Task(t) => (t.duration, Some(&t.durations), &t.escalation[..]),
                Step::System(s) => (s.duration, Some(&s.durations), &s.escalation[..]),
                Step::Dispatch(d) => (d.duration, None, &[][..]),
                _ => (None, None, &[][..]),
            };
            if let Some(t) = duration {
                terms.push((format!("{base}/duration"), t));
            }
            for (channel, t) in durations.into_iter().flatten() {
                terms.push((format!("{base}/durations/{}", escape_token(channel)), *t));
            }
            for (e, esc) in escalation.iter().enumerate() {
                if let Some(t) = esc.after {
                    terms.push((format!("{base}/escalation/{e}/after"), t));
                }
            }
        }
        for (pointer, term) in terms {
            if term.within_reach() {
                continue;
            }
            let longest = term.longest_of_its_unit();
            self.at_value(
                Code::E017,
                &pointer,
                format!(
                    "`{term}` is longer than the working calendar can count: at most {longest}"
                ),
            )
            .help = Some(
                "terms are limited to about ten years, so that the calendar (30 generated years after its last decreed one) can always count them; a statutory term is days or months: check the amount and the unit".to_string(),
            );
        }
    }

    fn duplicates(&mut self, list: &str, what: &str, ids: Vec<&str>) {
        self.duplicate_keys(list, "id", &format!("{what} id"), ids);
    }

    /// Each of `ids` (the `key` field of the items of `list`) must be unique.
    fn duplicate_keys(&mut self, list: &str, key: &str, what: &str, ids: Vec<&str>) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            if let Some(prev) = first.get(id) {
                let prev_line = self
                    .loaded
                    .spans
                    .value_at(&format!("{list}/{prev}/{key}"))
                    .line;
                self.at_value(
                    Code::E020,
                    &format!("{list}/{i}/{key}"),
                    format!("the {what} `{id}` is used twice"),
                )
                .help = Some(format!("it was first declared on line {prev_line}"));
            } else {
                first.insert(id, i);
            }
        }
    }

    fn outcomes(&mut self, base: &str, step: &Step, outcomes: &[Outcome], has_next: bool) {
        let ids: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
        self.duplicates(&format!("{base}/outcomes"), "outcome", ids);
        match (outcomes.is_empty(), has_next) {
            (true, false) => {
                self.at_key(
                    Code::E024,
                    base,
                    format!("{} `{}` has no way on", step.kind_name(), step.id()),
                )
                .help =
                    Some("add `next: <step>` or a list of `outcomes`, each with its `next`".into());
            }
            (false, true) => {
                self.at_key(
                    Code::E024,
                    &format!("{base}/next"),
                    format!(
                        "{} `{}` has both `next` and `outcomes`; the outcomes already say where each goes",
                        step.kind_name(),
                        step.id()
                    ),
                );
            }
            _ => {}
        }
    }

    fn form(&mut self, schema: &serde_json::Value, pointer: &str) {
        if let Err(e) = jsonschema::meta::validate(schema) {
            let inner = format!("{pointer}{}", e.instance_path());
            self.at_value(
                Code::E025,
                &inner,
                format!("the form is not a valid JSON Schema: {}", e.masked()),
            );
            return;
        }
        if let Err(e) = jsonschema::validator_for(schema) {
            self.at_value(
                Code::E025,
                pointer,
                format!("the form cannot be used: {}", e.masked()),
            );
        }
    }

    /// Every branch condition typed against the forms and the process (`E040`–`E044`), each
    /// finding at the place inside the condition where the YAML lets it be found.
    fn conditions(&mut self, p: &Process) {
        let reg = &p.regulation;
        let data = typecheck::data_type(reg.application_form.as_ref().map(|f| &f.0));
        let channel = typecheck::channel_type(reg);
        let mut scope = OutcomeScope::new(p);
        let outcomes_type = typecheck::OutcomesType::new(p);
        for (i, step) in reg.steps.iter().enumerate() {
            let Step::Exclusive(x) = step else {
                continue;
            };
            let conditions = p.conditions(i);
            let outcomes = if conditions.iter().any(|c| c.uses("outcomes")) {
                let named = conditions
                    .iter()
                    .flat_map(|c| typecheck::outcome_names(c.program()))
                    .collect();
                outcomes_type.at(i, &named, |s| scope.at(i, s))
            } else {
                typecheck::Ty::Any
            };
            let env = typecheck::Env {
                data: data.clone(),
                outcomes,
                channel: channel.clone(),
            };
            // A branch is tried only when every branch before it was false.
            let mut known = Facts::new();
            for (b, (condition, branch)) in conditions.iter().zip(&x.branches).enumerate() {
                let checked = typecheck::check(condition.program(), &env, &known);
                let pointer = format!("/steps/{i}/branches/{b}/when");
                let scalar = self.loaded.spans.value_at(&pointer);
                for finding in checked.findings {
                    let index = branch
                        .when
                        .get(..finding.offset)
                        .map_or(0, |before| before.chars().count());
                    let at = yaml::char_place(&self.loaded.source, scalar, &branch.when, index)
                        .unwrap_or(scalar);
                    let mut d =
                        Diagnostic::new(&self.loaded.file, finding.code, at, finding.message)
                            .with_pointer(pointer.clone());
                    d.help = finding.help;
                    self.out.push(d);
                }
                known.extend(checked.when_false);
            }
        }
    }

    /// Reachability, ends, cycles without exit.
    fn graph(&mut self, p: &Process) {
        let reg = &p.regulation;
        let n = reg.steps.len();
        let mut reachable = vec![false; n];
        let mut stack: Vec<usize> = reg
            .channels
            .iter()
            .filter_map(|c| p.step_index(&c.start))
            .collect();
        for &s in &stack {
            reachable[s] = true;
        }
        while let Some(s) = stack.pop() {
            for (_, t) in p.next_steps(s) {
                if !reachable[t] {
                    reachable[t] = true;
                    stack.push(t);
                }
            }
        }
        // Backwards from every end.
        let mut finishes = vec![false; n];
        let mut stack: Vec<usize> = (0..n)
            .filter(|&i| matches!(reg.steps[i], Step::End(_)))
            .collect();
        for &s in &stack {
            finishes[s] = true;
        }
        while let Some(s) = stack.pop() {
            for e in p.graph.edges_directed(p.node(s), Direction::Incoming) {
                let from = p.graph[e.source()];
                if !finishes[from] {
                    finishes[from] = true;
                    stack.push(from);
                }
            }
        }
        // A closed cycle is reported once, as a cycle, rather than step by step.
        let mut in_closed_cycle = vec![false; n];
        for scc in tarjan_scc(&p.graph) {
            let steps: Vec<usize> = scc.iter().map(|&node| p.graph[node]).collect();
            let is_cycle = steps.len() > 1 || p.graph.contains_edge(scc[0], scc[0]);
            if is_cycle
                && steps.iter().all(|&s| !finishes[s])
                && steps.iter().any(|&s| reachable[s])
            {
                let mut ids: Vec<&str> = steps.iter().map(|&s| reg.steps[s].id()).collect();
                ids.sort();
                let first = *steps.iter().min().unwrap_or(&0);
                self.at_value(
                    Code::E032,
                    &format!("/steps/{first}/id"),
                    format!(
                        "the steps {} form a cycle with no way out to an end",
                        ids.join(", ")
                    ),
                );
                for s in steps {
                    in_closed_cycle[s] = true;
                }
            }
        }
        for i in 0..n {
            let id = reg.steps[i].id();
            if !reachable[i] {
                self.at_value(
                    Code::E030,
                    &format!("/steps/{i}/id"),
                    format!("step `{id}` cannot be reached from the start of any channel"),
                );
            } else if !finishes[i] && !in_closed_cycle[i] {
                self.at_value(
                    Code::E031,
                    &format!("/steps/{i}/id"),
                    format!(
                        "no end can be reached from step `{id}`: a case there would never finish"
                    ),
                );
            }
        }
        // Joins must be fed by a split.
        for (i, step) in reg.steps.iter().enumerate() {
            if let Step::Join(j) = step {
                let fed = reg
                    .steps
                    .iter()
                    .enumerate()
                    .any(|(s, st)| matches!(st, Step::Parallel(_)) && p.join_of(s) == Some(i));
                if !fed {
                    self.at_value(
                        Code::E029,
                        &format!("/steps/{i}/id"),
                        format!(
                            "join `{}` is not the meeting point of any parallel split",
                            j.id
                        ),
                    );
                }
            }
        }
    }
}

fn target_pointer(step: &Step, base: &str, edge: &crate::compile::Edge) -> String {
    use crate::compile::Edge;
    match (step, edge) {
        (Step::Task(t), Edge::Outcome(o)) => outcome_pointer(base, &t.outcomes, o),
        (Step::System(s), Edge::Outcome(o)) => outcome_pointer(base, &s.outcomes, o),
        (Step::Exclusive(_), Edge::Branch(b)) => format!("{base}/branches/{b}/next"),
        (Step::Exclusive(_), Edge::Default) => format!("{base}/default"),
        (Step::Parallel(_), Edge::Split(b)) => format!("{base}/branches/{b}"),
        _ => format!("{base}/next"),
    }
}

fn outcome_pointer(base: &str, outcomes: &[Outcome], id: &str) -> String {
    let j = outcomes.iter().position(|x| x.id == id).unwrap_or(0);
    format!("{base}/outcomes/{j}/next")
}
