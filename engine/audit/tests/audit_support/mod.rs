//! A test corpus for the audit tools: every bundled regulation driven through several paths of
//! each channel by the store's `Service`, in one simulated time line (all cases interleaved,
//! deadlines fired by `tick` as the server's timer would), persisted in a SQLite file.
//!
//! People work at four paces: on time (half the allowed time), at the due instant, late
//! (two hours after it) and at once; some cases report documents missing; one case per
//! regulation is left open halfway. The file is built once per test binary and then only read.

#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, DurationRound, Utc};
use reglament_calendar::{Calendars, OfficeKind};
use reglament_model::compile::Process;
use reglament_model::model::{RoleKind, Step};
use reglament_model::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_model::sample::sample;
use reglament_model::validate;
use reglament_runtime::{Actor, CaseId, Command, NewCase};
use reglament_store::{Service, Store};
use serde_json::Value;

use super::store_support::{calendars, t, temp_dir};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    OnTime,
    AtDue,
    Late,
    Quick,
}

pub struct Plan {
    pub case: CaseId,
    pub process: Arc<Process>,
    pub channel: String,
    pub office: String,
    pub decisions: BTreeMap<String, String>,
    pub pace: Pace,
    pub documents_missing: bool,
    /// Leave the case open after this many completed tasks.
    pub stop_after: Option<usize>,
    pub start: DateTime<Utc>,
    /// The offices the case passes through, by kind (empty: every task where it was
    /// registered).
    pub route: BTreeMap<String, String>,
    /// Suspend the first task of this step for this reason, and resume it two days later.
    pub suspend: Option<(String, String)>,
    /// Every task is claimed by its worker and then taken over and completed by a deputy
    /// acting for them (the events name the worker in `actor.on_behalf_of`).
    pub deputy: bool,
    /// Changes by hand an administrator makes, each once the case has this many tasks done.
    pub interventions: Vec<(usize, ByHand)>,
}

/// A change by hand ([`Command::Intervene`]) the corpus makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByHand {
    /// The case's statutory due instant three days later (approved by a second administrator).
    CaseDueLater,
    /// The open task's due instant a working day later than it was (or than now).
    TaskDueLater,
    /// Back to the case's first task step.
    BackToFirst,
    /// The open task cancelled, its path going on (skipped when its step chooses a way).
    CancelTask,
}

/// The bundled regulations, compiled, with their sources.
pub fn bundled() -> Vec<(String, Arc<Process>)> {
    let root = reglament_testkit::regulations_dir();
    let files = validate::regulation_files(&[root]).expect("regulation files");
    files
        .iter()
        .map(|f| {
            let source = std::fs::read_to_string(f).expect("read");
            let report = validate::check_str(&source, &f.display().to_string(), None);
            let p = report
                .process
                .unwrap_or_else(|| panic!("{} compiles", f.display()));
            (source, Arc::new(p))
        })
        .collect()
}

fn provider_office(calendars: &Calendars, region: &str) -> String {
    calendars
        .offices()
        .find(|o| o.region == region && o.data.kind == OfficeKind::ProviderOffice)
        .map(|o| o.data.id.clone())
        .unwrap_or_else(|| panic!("region {region} has a provider office"))
}

/// Several plans per channel of every regulation.
pub fn plans(processes: &[Arc<Process>], calendars: &Calendars) -> Vec<Plan> {
    let t0 = t("2026-04-06T09:30:00+05:00");
    let paces = [Pace::OnTime, Pace::AtDue, Pace::Late, Pace::Quick];
    let mut out = Vec::new();
    for p in processes {
        let office = provider_office(calendars, &p.regulation.region);
        let mut left_open = false;
        for channel in &p.regulation.channels {
            let (list, _) = paths::channel_paths(p, &channel.id, DEFAULT_DAY_MINUTES, 100);
            let picks: Vec<&paths::Path> = match list.len() {
                0 => Vec::new(),
                1 => vec![&list[0]],
                n => vec![&list[0], &list[n / 2], &list[n - 1]],
            };
            for (k, path) in picks.into_iter().enumerate() {
                let decisions: BTreeMap<String, String> = path
                    .steps
                    .iter()
                    .zip(&path.outcomes)
                    .filter_map(|(&s, o)| Some((p.step(s).id().to_string(), o.clone()?)))
                    .collect();
                let i = out.len();
                let stop_after = (!left_open && k == 1).then_some(1);
                left_open |= stop_after.is_some();
                out.push(Plan {
                    case: CaseId::new(format!("{}-{}-{}", p.id(), channel.id, k)),
                    process: p.clone(),
                    channel: channel.id.clone(),
                    office: office.clone(),
                    decisions,
                    pace: paces[i % paces.len()],
                    documents_missing: channel.extended_term.is_some() && k == 0,
                    stop_after,
                    start: t0 + Duration::minutes(47 * i as i64),
                    route: BTreeMap::new(),
                    suspend: None,
                    deputy: false,
                    interventions: Vec::new(),
                });
            }
        }
    }
    out
}

fn first_person_role(p: &Process) -> String {
    p.regulation
        .roles
        .iter()
        .find(|r| r.kind == RoleKind::Person)
        .map_or("registrar".to_string(), |r| r.id.clone())
}

fn outcome_for(step: &Step, decisions: &BTreeMap<String, String>) -> (Option<String>, bool) {
    let outcomes = match step {
        Step::Task(t) => &t.outcomes,
        Step::System(s) => &s.outcomes,
        _ => return (None, false),
    };
    let chosen = decisions
        .get(step.id())
        .cloned()
        .or_else(|| outcomes.first().map(|o| o.id.clone()));
    let reason = outcomes
        .iter()
        .any(|o| Some(&o.id) == chosen.as_ref() && o.requires_reason);
    (chosen, reason)
}

/// Runs every plan in one time line; returns the instant at which the corpus is complete.
pub async fn drive(service: &Service, plans: &[Plan]) -> DateTime<Utc> {
    let second = Duration::seconds(1);
    let mut queue: BinaryHeap<Reverse<(DateTime<Utc>, usize)>> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| Reverse((p.start, i)))
        .collect();
    let mut started = vec![false; plans.len()];
    let mut done = vec![0usize; plans.len()];
    let mut by_hand = vec![0usize; plans.len()];
    let mut now = DateTime::<Utc>::MIN_UTC;
    let mut guard = 0;
    while let Some(Reverse((at, i))) = queue.pop() {
        guard += 1;
        assert!(guard < 100_000, "the corpus does not finish");
        if at > now {
            // Time passes up to just before the work: whatever fell due meanwhile breaches.
            let report = service.tick(at - second).await.expect("tick");
            assert!(report.failed.is_empty(), "{:?}", report.failed);
            now = at;
        }
        let plan = &plans[i];
        let p = &plan.process;
        if !started[i] {
            started[i] = true;
            let data = p
                .regulation
                .application_form
                .as_ref()
                .map(|f| sample(&f.0))
                .unwrap_or(Value::Object(Default::default()));
            let registrar = Actor::new(format!("reg-{}", i % 3), first_person_role(p));
            let new = NewCase {
                case: plan.case.clone(),
                channel: plan.channel.clone(),
                office: plan.office.clone(),
                data,
            };
            let started = if plan.route.is_empty() {
                service.start(p, new, &registrar, at).await
            } else {
                service
                    .start_routed(p, new, &plan.route, &registrar, at)
                    .await
            };
            started.unwrap_or_else(|e| panic!("{}: start: {e}", plan.case));
            if plan.documents_missing {
                service
                    .execute(
                        &plan.case,
                        &Command::DocumentsMissing {
                            note: Some("copy of the ID card is missing".into()),
                        },
                        &registrar,
                        at,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{}: documents missing: {e}", plan.case));
            }
            queue.push(Reverse((at, i)));
            continue;
        }
        let state = service.case_state(&plan.case).await.expect("state");
        if !state.is_open() || plan.stop_after.is_some_and(|n| done[i] >= n) {
            continue;
        }
        let Some(task) = state.open_tasks().next().cloned() else {
            // Waiting at a dispatch: come back when it leaves.
            let wake = state
                .next_wakeup()
                .expect("a case without work waits for time");
            queue.push(Reverse((wake.max(at) + second, i)));
            continue;
        };
        if let Some(&(after, change)) = plan.interventions.get(by_hand[i])
            && done[i] >= after
        {
            by_hand[i] += 1;
            if let Some(command) = by_hand_command(&state, &task, change, at) {
                let admin = Actor::new("admin-1", "administrator");
                service
                    .execute(&plan.case, &command, &admin, at)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {change:?}: {e}", plan.case));
            }
            queue.push(Reverse((at + second, i)));
            continue;
        }
        if let Some((step, reason)) = &plan.suspend
            && *task.step_id == **step
        {
            let actor = Actor::new(format!("{}-{}", task.role, i % 2 + 1), &*task.role);
            let command = match task.suspended.as_ref().map(|s| s.since) {
                // Only the task's holder suspends it: claim it first.
                None if task.suspensions.is_empty() && task.claimed_by.is_none() => {
                    Some(Command::Claim { task: task.id })
                }
                None if task.suspensions.is_empty() => Some(Command::Suspend {
                    task: task.id,
                    reason: reason.clone(),
                    comment: Some("the applicant brings the missing certificate".into()),
                }),
                Some(since) if at >= since + Duration::days(2) => Some(Command::Resume {
                    task: task.id,
                    comment: Some("the certificate is in".into()),
                }),
                Some(since) => {
                    queue.push(Reverse((since + Duration::days(2), i)));
                    None
                }
                None => None,
            };
            if let Some(command) = command {
                service
                    .execute(&plan.case, &command, &actor, at)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", plan.case, command.name()));
                queue.push(Reverse((at, i)));
                continue;
            }
            if task.suspended.is_some() {
                continue;
            }
        }
        let due = task.deadline.as_ref().map(|d| d.due);
        let when = match (plan.pace, due) {
            (Pace::OnTime, Some(d)) => task.opened_at + (d - task.opened_at) / 2,
            (Pace::AtDue, Some(d)) => d,
            (Pace::Late, Some(d)) => d + Duration::hours(2),
            _ => task.opened_at + Duration::minutes(5),
        }
        .duration_trunc(second)
        .expect("whole seconds");
        if when > at {
            queue.push(Reverse((when, i)));
            continue;
        }
        let step = p.step(task.step as usize);
        let (outcome, needs_reason) = outcome_for(step, &plan.decisions);
        let data = match step {
            Step::Task(t) => t.form.as_ref().map(|f| sample(&f.0)),
            _ => None,
        }
        .unwrap_or(Value::Object(Default::default()));
        let reason = needs_reason.then(|| "documents do not meet the requirements".to_string());
        let worker = format!("{}-{}", task.role, i % 2 + 1);
        let actor = if plan.deputy && matches!(step, Step::Task(_)) {
            // The worker took it before leaving; their deputy takes it over and finishes it.
            if task.claimed_by.is_none() {
                service
                    .execute(
                        &plan.case,
                        &Command::Claim { task: task.id },
                        &Actor::new(&worker, &*task.role),
                        at,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{}: claim: {e}", plan.case));
                queue.push(Reverse((at + second, i)));
                continue;
            }
            Actor::on_behalf(format!("{}-deputy", task.role), &*task.role, &worker)
        } else {
            Actor::new(&worker, &*task.role)
        };
        let command = match step {
            Step::System(_) => Command::SystemResult {
                step: task.step_id.to_string(),
                outcome,
                data,
                reason,
            },
            _ => Command::Complete {
                task: task.id,
                outcome,
                data,
                reason,
            },
        };
        service
            .execute(&plan.case, &command, &actor, at)
            .await
            .unwrap_or_else(|e| panic!("{}: task {} ({}): {e}", plan.case, task.id, task.step_id));
        done[i] += 1;
        queue.push(Reverse((at, i)));
    }
    // A day later: the open cases' deadlines have fired.
    let end = now + Duration::days(1);
    service.tick(end).await.expect("last tick");
    end
}

/// The command for a change by hand on a case whose open task is `task`; `None` when the
/// case offers nothing to change that way (no due instant, a step that chooses a way on).
fn by_hand_command(
    state: &reglament_runtime::CaseState,
    task: &reglament_runtime::Task,
    change: ByHand,
    at: DateTime<Utc>,
) -> Option<Command> {
    use reglament_runtime::{DeadlineTarget, Intervention};
    let (action, approved_by) = match change {
        ByHand::CaseDueLater => {
            let due = state.deadline.as_ref()?.due;
            (
                Intervention::ChangeDue {
                    target: DeadlineTarget::Case,
                    due: due.max(at) + Duration::days(3),
                },
                Some("admin-2".to_string()),
            )
        }
        ByHand::TaskDueLater => {
            let due = task.deadline.as_ref()?.due;
            (
                Intervention::ChangeDue {
                    target: DeadlineTarget::Task(task.id),
                    due: due.max(at) + Duration::days(1),
                },
                Some("admin-2".to_string()),
            )
        }
        ByHand::BackToFirst => {
            let first = state.tasks.iter().min_by_key(|t| t.id)?;
            (
                Intervention::MoveTo {
                    step: first.step_id.to_string(),
                },
                None,
            )
        }
        ByHand::CancelTask => {
            state.process.follow(task.step as usize, None)?;
            (Intervention::CancelTask { task: task.id }, None)
        }
    };
    Some(Command::Intervene {
        action,
        reason: "the applicant's complaint of 12 April was upheld".into(),
        legal_basis: "order of the head of department No. 17 of 13 April 2026".into(),
        approved_by,
    })
}

/// Cases that cross offices and tasks whose time stood still, the kinds of history the first
/// corpus has none of: every channel that starts at a service centre or a rural akim,
/// registered at such an office and routed to the provider office it forwards to (at four
/// paces, one left open at the provider office), and the social assistance review suspended
/// for missing documents and resumed two days later (its case's term stopped meanwhile).
pub fn offices_plans(processes: &[Arc<Process>], calendars: &Calendars) -> Vec<Plan> {
    let t0 = t("2026-04-13T12:40:00+05:00");
    let paces = [Pace::OnTime, Pace::AtDue, Pace::Late, Pace::Quick];
    let mut out = Vec::new();
    for p in processes {
        for channel in &p.regulation.channels {
            let kind = match paths::channel_office(p, &channel.id) {
                Some(k @ (OfficeKind::ServiceCentre | OfficeKind::RuralAkim)) => k,
                _ => continue,
            };
            let office = calendars
                .offices()
                .filter(|o| o.region == p.regulation.region && o.data.kind == kind)
                .find(|o| {
                    o.data
                        .forwards_to
                        .as_ref()
                        .is_some_and(|f| f.offices().len() == 1)
                })
                .map(|o| o.data.id.clone())
                .unwrap_or_else(|| panic!("{}: an office of kind {kind:?}", p.id()));
            let route = calendars.route(&office).expect("routed");
            let (list, _) = paths::channel_paths(p, &channel.id, DEFAULT_DAY_MINUTES, 100);
            for (k, path) in list.iter().take(2).enumerate() {
                let decisions: BTreeMap<String, String> = path
                    .steps
                    .iter()
                    .zip(&path.outcomes)
                    .filter_map(|(&s, o)| Some((p.step(s).id().to_string(), o.clone()?)))
                    .collect();
                let i = out.len();
                out.push(Plan {
                    case: CaseId::new(format!("{}-{}-{office}-{k}", p.id(), channel.id)),
                    process: p.clone(),
                    channel: channel.id.clone(),
                    office: office.clone(),
                    decisions,
                    pace: paces[i % paces.len()],
                    documents_missing: false,
                    // The first case of the first channel stays open at the provider office.
                    stop_after: (i == 0).then_some(3),
                    start: t0 + Duration::minutes(53 * i as i64),
                    route: route.clone(),
                    suspend: None,
                    deputy: false,
                    interventions: Vec::new(),
                });
            }
        }
        for channel in &p.regulation.channels {
            for (s, step) in p.regulation.steps.iter().enumerate() {
                let Step::Task(task) = step else { continue };
                let Some(reason) = task.suspensions.first() else {
                    continue;
                };
                if !paths::channel_steps(p, &channel.id).contains(&s) {
                    continue;
                }
                let office = provider_office(calendars, &p.regulation.region);
                let i = out.len();
                out.push(Plan {
                    case: CaseId::new(format!("{}-{}-suspended", p.id(), channel.id)),
                    process: p.clone(),
                    channel: channel.id.clone(),
                    office,
                    decisions: BTreeMap::new(),
                    pace: Pace::OnTime,
                    documents_missing: false,
                    stop_after: None,
                    start: t0 + Duration::minutes(53 * i as i64),
                    route: BTreeMap::new(),
                    suspend: Some((task.id.clone(), reason.reason.clone())),
                    deputy: false,
                    interventions: Vec::new(),
                });
            }
        }
    }
    out
}

/// The corpus database: its URL, the instant it is complete, and its plans' case ids.
pub struct Corpus {
    pub url: String,
    pub end: DateTime<Utc>,
    pub cases: Vec<CaseId>,
}

/// Builds the corpus once per test binary, on a thread with its own runtime (a store belongs
/// to the runtime it was opened on; each test opens the file again on its own).
pub fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| build(plans))
}

/// Cases worked by deputies: the first path of each bundled regulation's provider channel,
/// every task claimed by its worker and completed by a deputy acting for them.
pub fn deputies_plans(processes: &[Arc<Process>], calendars: &Calendars) -> Vec<Plan> {
    let mut out: Vec<Plan> = plans(processes, calendars)
        .into_iter()
        .filter(|p| p.case.as_str().ends_with("-0") && p.stop_after.is_none())
        .collect();
    for p in &mut out {
        p.case = CaseId::new(format!("{}-deputy", p.case.as_str()));
        p.deputy = true;
        p.documents_missing = false;
    }
    out
}

/// Cases changed by hand: the first path of each bundled regulation's channels, each with
/// two of the changes an administrator may make (a later due instant of the case or of a
/// task, a return to the first task, a task cancelled), between its ordinary tasks.
pub fn interventions_plans(processes: &[Arc<Process>], calendars: &Calendars) -> Vec<Plan> {
    let mut out: Vec<Plan> = plans(processes, calendars)
        .into_iter()
        .filter(|p| p.case.as_str().ends_with("-0") && p.stop_after.is_none())
        .collect();
    for (j, p) in out.iter_mut().enumerate() {
        p.case = CaseId::new(format!("{}-by-hand", p.case.as_str()));
        p.documents_missing = false;
        p.interventions = match j % 3 {
            0 => vec![(1, ByHand::CaseDueLater), (2, ByHand::BackToFirst)],
            1 => vec![(1, ByHand::TaskDueLater), (2, ByHand::CancelTask)],
            _ => vec![(2, ByHand::BackToFirst), (3, ByHand::CaseDueLater)],
        };
    }
    out
}

/// The corpus of [`interventions_plans`], built as [`corpus`] is.
pub fn interventions_corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| build(interventions_plans))
}

/// The corpus of [`deputies_plans`], built as [`corpus`] is.
pub fn deputies_corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| build(deputies_plans))
}

/// The corpus of [`offices_plans`], built as [`corpus`] is.
pub fn offices_corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| build(offices_plans))
}

fn build(plans: fn(&[Arc<Process>], &Calendars) -> Vec<Plan>) -> Corpus {
    {
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let dir = temp_dir();
                let url = format!("sqlite:{}", dir.join("corpus.db").display());
                let store = Store::open(&url).await.expect("store");
                let bundled = bundled();
                for (source, _) in &bundled {
                    store
                        .deploy(source, "admin", t("2026-04-01T09:00:00+05:00"))
                        .await
                        .expect("deploys");
                }
                let processes: Vec<Arc<Process>> = bundled.into_iter().map(|(_, p)| p).collect();
                let calendars = calendars();
                let plans = plans(&processes, &calendars);
                let service = Service::new(store.clone(), calendars);
                let end = drive(&service, &plans).await;
                store.close().await;
                Corpus {
                    url,
                    end,
                    cases: plans.into_iter().map(|p| p.case).collect(),
                }
            })
        })
        .join()
        .expect("the corpus builds")
    }
}
