//! Registering an application (clerk, rural akim, centre inspector): the service, the
//! channel, the office and the applicant's data, then the receipt (талон) with the
//! registration number and the date the result is due.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::compile::Process;
use reglament_model::model::{RoleKind, Step};
use reglament_runtime::{Actor, CaseId, Command, CommandError, EventKind, NewCase};
use reglament_store::{ServiceError, StoreError};
use serde_json::Value;

use super::forms::{self, Choice, Field};
use super::{Ctx, Page, WebResult, local_time, office_name, render, render_status};
use crate::auth::{Principal, secret};
use crate::state::AppState;
use crate::versions::{self, NotInForce, Registrable};

/// The roles that may register on `channel`: its first step's role, or any person of the
/// regulation when the first step is automatic (as the API decides).
pub fn start_roles<'p>(process: &'p Process, channel: &str) -> Vec<&'p str> {
    let first = process
        .channel(channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i));
    match first {
        Some(role) => vec![role],
        None => process
            .regulation
            .roles
            .iter()
            .filter(|r| r.kind == RoleKind::Person)
            .map(|r| r.id.as_str())
            .collect(),
    }
}

/// (channel, office) pairs of `process` where `principal` may register.
fn allowed(
    state: &AppState,
    principal: &Principal,
    process: &Process,
) -> (Vec<String>, Vec<String>) {
    let offices: Vec<String> = state
        .calendars
        .offices()
        .filter(|o| o.region == process.regulation.region)
        .map(|o| o.data.id.clone())
        .collect();
    let mut channels = Vec::new();
    let mut allowed_offices = Vec::new();
    for c in &process.regulation.channels {
        let roles = start_roles(process, &c.id);
        let here: Vec<&String> = offices
            .iter()
            .filter(|o| principal.grants().start(o, &roles).is_ok())
            .collect();
        if !here.is_empty() {
            channels.push(c.id.clone());
            allowed_offices.extend(here.into_iter().cloned());
        }
    }
    allowed_offices.sort();
    allowed_offices.dedup();
    (channels, allowed_offices)
}

/// A service the caller may register.
#[derive(Debug, Clone)]
pub struct ServiceLine {
    pub id: String,
    pub title: String,
    /// Why it cannot be registered today (no version in force), in the page's language; the
    /// service is listed without a link.
    pub not_in_force: Option<String>,
}

#[derive(Template)]
#[template(path = "register_choose.html")]
struct ChoosePage {
    page: Page,
    services: Vec<ServiceLine>,
}

/// Each deployed regulation's newest version (for who may register it and its title), with
/// the reason none is in force today in its region, if none is.
async fn latest_processes(
    state: &AppState,
) -> Result<Vec<(Arc<Process>, Option<NotInForce>)>, crate::problem::Problem> {
    let mut ids: Vec<String> = state
        .store
        .regulations()
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        if let Ok(p) = state.store.latest(&id).await {
            let day = versions::registration_day(state, None, Some(&p.regulation.region));
            let why = match versions::in_force(state, &id, day).await? {
                Registrable::Process(_) => None,
                Registrable::NotInForce(why) => Some(why),
            };
            out.push((p, why));
        }
    }
    Ok(out)
}

/// `GET /register`: the services the caller may register.
pub async fn choose(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let principal = ctx.user()?;
    let mut services = Vec::new();
    for (p, why) in latest_processes(&state).await.map_err(|e| ctx.problem(e))? {
        if !allowed(&state, principal, &p).0.is_empty() {
            services.push(ServiceLine {
                id: p.id().to_string(),
                title: p.regulation.title.get(ctx.lang).to_string(),
                not_in_force: why.map(|w| w.say(ctx.lang)),
            });
        }
    }
    Ok(render(&ChoosePage {
        page: ctx.page(ctx.t("register")),
        services,
    }))
}

#[derive(Template)]
#[template(path = "register_form.html")]
struct FormPage {
    page: Page,
    regulation: String,
    service: String,
    channels: Vec<Choice>,
    offices: Vec<Choice>,
    /// The provider offices that the offered offices forwarding to several (a regional
    /// service centre) may hand the application to: the applicant's district's is chosen.
    forward_to: Vec<Choice>,
    fields: Vec<Field>,
    errors: Vec<String>,
}

struct Filled {
    channel: String,
    office: String,
    forward_to: String,
    values: Value,
    problems: Vec<crate::problem::FieldProblem>,
    messages: Vec<String>,
}

fn form_page(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    process: &Process,
    filled: Filled,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let (channels, offices) = allowed(state, principal, process);
    let channels = channels
        .iter()
        .map(|c| Choice {
            selected: *c == filled.channel,
            label: process
                .channel(c)
                .and_then(|ch| ch.name.as_ref())
                .map_or_else(|| c.clone(), |n| n.get(lang).to_string()),
            value: c.clone(),
        })
        .collect();
    let mut forward_to: Vec<String> = offices
        .iter()
        .filter_map(|o| state.calendars.forwards(o).ok())
        .filter(|targets| targets.len() > 1)
        .flatten()
        .cloned()
        .collect();
    forward_to.sort();
    forward_to.dedup();
    let forward_to = forward_to
        .into_iter()
        .map(|o| Choice {
            selected: o == filled.forward_to,
            label: office_name(state, lang, &o),
            value: o,
        })
        .collect();
    let offices = offices
        .iter()
        .map(|o| Choice {
            selected: *o == filled.office,
            label: office_name(state, lang, o),
            value: o.clone(),
        })
        .collect();
    let errors = forms::errors_by_field("d", &filled.problems, ctx.lang);
    let fields = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| forms::fields(&f.0, "d", &filled.values, &errors, lang))
        .unwrap_or_default();
    render_status(
        status,
        &FormPage {
            page: ctx.page(ctx.t("register")).noting_languages_of(process),
            regulation: process.id().to_string(),
            service: process.regulation.title.get(lang).to_string(),
            channels,
            offices,
            forward_to,
            fields,
            errors: filled.messages,
        },
    )
}

/// The version a registration at `office` (or, before one is chosen, anywhere in the
/// regulation's region) starts on today: the one in force; when none is, the page says why
/// (422) and nothing is written.
async fn process_for(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    office: Option<&str>,
) -> Result<Arc<Process>, super::WebError> {
    let latest = match state.store.latest(id).await {
        Ok(p) => p,
        Err(StoreError::UnknownRegulation(_)) => return Err(ctx.not_found()),
        Err(e) => return Err(ctx.problem(e.into())),
    };
    let office = office.filter(|o| {
        state
            .calendars
            .office(o)
            .is_ok_and(|o| o.region == latest.regulation.region)
    });
    let day = versions::registration_day(state, office, Some(&latest.regulation.region));
    match versions::in_force(state, id, day).await {
        Ok(Registrable::Process(p)) => Ok(p),
        Ok(Registrable::NotInForce(why)) => {
            Err(ctx.error(StatusCode::UNPROCESSABLE_ENTITY, why.say(ctx.lang)))
        }
        Err(StoreError::UnknownRegulation(_)) => Err(ctx.not_found()),
        Err(e) => Err(ctx.problem(e.into())),
    }
}

/// `GET /register/{regulation}`: the application form.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(regulation): Path<String>,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let process = process_for(&state, &ctx, &regulation, None).await?;
    if allowed(&state, principal, &process).0.is_empty() {
        return Err(ctx.error(StatusCode::FORBIDDEN, ctx.t("nothing_to_register")));
    }
    Ok(form_page(
        &state,
        &ctx,
        principal,
        &process,
        Filled {
            channel: String::new(),
            office: String::new(),
            forward_to: String::new(),
            values: Value::Null,
            problems: Vec::new(),
            messages: Vec::new(),
        },
        StatusCode::OK,
    ))
}

fn prefix_of(region: &str) -> String {
    let p: String = region
        .split('-')
        .filter_map(|w| w.chars().next())
        .collect::<String>()
        .to_uppercase();
    match p.len() {
        0 => "R".to_string(),
        1 => region.chars().take(3).collect::<String>().to_uppercase(),
        _ => p,
    }
}

/// `POST /register`: starts the case and shows its receipt.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let regulation = form.text("regulation").unwrap_or_default().to_string();
    // The version in force on the day of the registration at the chosen office.
    let process = process_for(&state, &ctx, &regulation, form.text("office")).await?;
    let channel = form.text("channel").unwrap_or_default().to_string();
    let office = form.text("office").unwrap_or_default().to_string();
    let forward_to = form.text("forward_to").unwrap_or_default().to_string();
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| forms::read(&f.0, "d", &form))
        .unwrap_or_else(|| Value::Object(Default::default()));
    let refuse = |problems: Vec<crate::problem::FieldProblem>, messages: Vec<String>| {
        form_page(
            &state,
            &ctx,
            principal,
            &process,
            Filled {
                channel: channel.clone(),
                office: office.clone(),
                forward_to: forward_to.clone(),
                values: data.clone(),
                problems,
                messages,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let in_region = state
        .calendars
        .office(&office)
        .is_ok_and(|o| o.region == process.regulation.region);
    if process.channel(&channel).is_none() || !in_region {
        return Ok(refuse(
            Vec::new(),
            vec![format!("{} / {}", ctx.t("channel"), ctx.t("office"))],
        ));
    }
    let roles = start_roles(&process, &channel);
    let actor = principal
        .grants()
        .start(&office, &roles)
        .map_err(|d| ctx.problem(d.into()))?;
    // A district's department is asked for only where the office forwards to several; a
    // choice left on the form for another office is not held against it.
    let several = state
        .calendars
        .forwards(&office)
        .is_ok_and(|targets| targets.len() > 1);
    let chosen = (several && !forward_to.is_empty()).then_some(forward_to.as_str());
    let route = match crate::routing::route(&state.calendars, &process, &office, chosen) {
        Ok(r) => r,
        Err(e) => {
            let message = match &e {
                crate::routing::Unrouted::NoProvider { office, .. } => {
                    format!(
                        "{}: {}",
                        ctx.t("route_unresolved"),
                        office_name(&state, ctx.lang, office)
                    )
                }
                crate::routing::Unrouted::Choose { .. } => {
                    ctx.t("route_choose_department").to_string()
                }
                crate::routing::Unrouted::NotForwardedTo { to, .. } => format!(
                    "{}: {}",
                    ctx.t("route_not_forwarded"),
                    office_name(&state, ctx.lang, to)
                ),
            };
            return Ok(refuse(Vec::new(), vec![message]));
        }
    };
    if let Err(p) = crate::limits::check_data(
        process.regulation.application_form.as_ref().map(|f| &f.0),
        &data,
    ) {
        return Ok(refuse(p.errors, vec![ctx.t("fix_errors").to_string()]));
    }
    let date = state.now().format("%Y%m%d");
    let prefix = prefix_of(&process.regulation.region);
    for _ in 0..3 {
        let random = secret::random_base32(8)
            .map_err(|e| ctx.problem(crate::problem::Problem::internal(&e)))?;
        let id = CaseId::new(format!("{prefix}-{date}-{random}"));
        let new = NewCase {
            case: id.clone(),
            channel: channel.clone(),
            office: office.clone(),
            data: data.clone(),
        };
        match state
            .service
            .start_routed(&process, new, &route, &actor, state.now())
            .await
        {
            Ok(_) => {
                finish_registration(&state, &id, &actor).await;
                return Ok(super::redirect(&format!("/cases/{}/receipt", id.as_str())));
            }
            Err(ServiceError::Command(CommandError::CaseExists(_))) => continue,
            Err(e) => {
                let p: crate::problem::Problem = e.into();
                if p.status() == StatusCode::UNPROCESSABLE_ENTITY {
                    let mut messages = vec![ctx.t("fix_errors").to_string()];
                    if p.errors.iter().all(|f| !f.pointer.starts_with("/data")) {
                        messages.push(p.detail.clone());
                    }
                    return Ok(refuse(p.errors, messages));
                }
                return Err(ctx.problem(p));
            }
        }
    }
    Err(ctx.problem(crate::problem::Problem::internal(
        &"could not make up a free registration number",
    )))
}

/// Registering on this form is the channel's first step ("receive and register") when that
/// step is the registrar's own and asks for nothing more (no field it requires, one way on):
/// it is completed at once, by the same person, so that they land on what comes next instead
/// of a task that repeats what they just did. Anything else stays open as it was.
async fn finish_registration(state: &AppState, id: &CaseId, actor: &Actor) {
    let Ok(st) = state.service.case_state(id).await else {
        return;
    };
    let Some(first) = st
        .open_tasks()
        .find(|t| t.role == actor.role && t.id == reglament_runtime::TaskId(1))
    else {
        return;
    };
    let asks_nothing = match st.step_of(first) {
        Step::Task(ts) => {
            ts.outcomes.is_empty()
                && ts.form.as_ref().is_none_or(|f| {
                    f.0.get("required")
                        .and_then(Value::as_array)
                        .is_none_or(Vec::is_empty)
                })
        }
        _ => false,
    };
    if !asks_nothing {
        return;
    }
    let command = Command::Complete {
        task: first.id,
        outcome: None,
        data: Value::Object(Default::default()),
        reason: None,
    };
    if let Err(e) = state
        .service
        .execute(id, &command, actor, state.now())
        .await
    {
        // The task stays open for its worker: nothing is lost, the registration stands.
        tracing::info!(case = %id, error = %e, "the registration task stays open");
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    page: Page,
    number: String,
    service: String,
    channel: String,
    office: String,
    address: String,
    applicant: String,
    registered: String,
    registered_by: String,
    due: String,
    /// The regulation states no term for the case's channel: `due` is an expected date.
    no_statutory_term: bool,
    /// The due date was counted into a provisional calendar year.
    due_provisional: bool,
    term: String,
    act: String,
    /// The case's next task the reader may work: (task id, step name).
    next: Option<(String, String)>,
    /// The documents the application says were handed in (their titles in the form).
    documents: Vec<String>,
    /// The office's telephones and e-mail.
    contacts: String,
    /// The public status page's address for this application, and its QR code (SVG).
    status_url: String,
    qr: String,
}

/// The public status page's address for case `id`, on the host the request came to (the
/// address the applicant's receipt is printed from is the one they can reach).
fn status_url(state: &AppState, headers: &axum::http::HeaderMap, id: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    let query = serde_urlencoded::to_string([("number", id)]).unwrap_or_default();
    format!("{scheme}://{host}/status?{query}")
}

/// A QR code of `text` as an SVG element, dark on light, that prints sharply at any size.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(120, 120)
            .quiet_zone(true)
            .build()
            // The XML declaration does not belong inside an HTML page.
            .split_once("?>")
            .map_or_else(String::new, |(_, svg)| svg.trim().to_string()),
        Err(_) => String::new(),
    }
}

/// The titles of the application's document fields (`doc_…`) that are ticked.
fn documents(schema: Option<&Value>, data: &Value) -> Vec<String> {
    let Some(map) = data.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, v)| k.starts_with("doc_") && v.as_bool() == Some(true))
        .map(|(k, _)| {
            schema
                .and_then(|s| s.get("properties"))
                .and_then(|p| p.get(k))
                .and_then(|f| f.get("title"))
                .and_then(Value::as_str)
                .unwrap_or(k)
                .to_string()
        })
        .collect()
}

/// `GET /cases/{id}/receipt`: the receipt (талон) of a registration.
pub async fn receipt(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let st = super::cases::visible_case(&state, &ctx, principal, &id).await?;
    let lang = ctx.lang;
    let p = &st.process;
    let events = state
        .store
        .events(&st.id)
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    let registered_by = events
        .iter()
        .find(|e| matches!(e.event.kind, EventKind::CaseStarted { .. }))
        .map(|e| e.event.actor.user.to_string())
        .unwrap_or_default();
    let channel = p.channel(&st.channel);
    let applicant = ["full_name", "applicant_name", "name"]
        .iter()
        .find_map(|k| st.data.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let office = state.calendars.office(&st.office).ok();
    let pinned = state
        .service
        .case_clock(&st.office, &st.calendar_version)
        .await
        .ok();
    let due_provisional =
        crate::api::dto::due_provisional(pinned.as_ref(), st.deadline.as_ref().map(|d| d.due));
    Ok(render(&ReceiptPage {
        page: ctx.page(ctx.t("receipt")).noting_languages_of(p),
        number: st.id.to_string(),
        service: p.regulation.title.get(lang).to_string(),
        channel: channel
            .and_then(|c| c.name.as_ref())
            .map_or_else(|| st.channel.to_string(), |n| n.get(lang).to_string()),
        office: office_name(&state, lang, &st.office),
        address: office.map(|o| o.data.address.clone()).unwrap_or_default(),
        applicant,
        registered: local_time(&state, &st.office, Some(st.registered_at)),
        registered_by,
        due: match (&st.deadline, super::expected::expected_result(&state, &st)) {
            (Some(d), _) => local_time(&state, &st.office, Some(d.due)),
            (None, Some(at)) => ctx
                .t("expected_on")
                .replace("{}", &local_time(&state, &st.office, Some(at))),
            (None, None) => ctx.t("no_term").to_string(),
        },
        no_statutory_term: st.deadline.is_none(),
        due_provisional,
        term: channel
            .and_then(|c| c.term.as_ref())
            .map(|t| format!("{} ({})", t.text, t.duration))
            .unwrap_or_default(),
        act: p.regulation.source.act.clone(),
        documents: documents(
            p.regulation.application_form.as_ref().map(|f| &f.0),
            &st.data,
        ),
        contacts: office
            .map(|o| {
                let mut c = o.data.phones.join(", ");
                if let Some(e) = &o.data.email {
                    if !c.is_empty() {
                        c.push_str(", ");
                    }
                    c.push_str(e);
                }
                c
            })
            .unwrap_or_default(),
        status_url: status_url(&state, &headers, st.id.as_str()),
        qr: qr_svg(&status_url(&state, &headers, st.id.as_str())),
        next: st
            .open_tasks()
            .find(|t| {
                principal
                    .grants()
                    .task(&t.office, &t.role, crate::auth::TaskAction::Complete)
                    .is_ok()
            })
            .map(|t| {
                (
                    format!("{}:{}", st.id, t.id),
                    super::inbox::step_name(Some(p), &t.step_id, lang),
                )
            }),
    }))
}
