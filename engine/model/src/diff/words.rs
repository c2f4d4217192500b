//! Each change said in Kazakh, Russian or English, for the text and HTML outputs and the web
//! page. Ids of steps, roles, channels and fields are the YAML's and stay as written, between
//! backquotes (the HTML output sets them as code); durations are spelled in the language.

use serde_json::Value;

use crate::duration::Term;
use crate::render::term_in;
use crate::text::{Lang, Text};

use super::What;

/// `(key, kk, ru, en)`; `{0}`… are the change's values in order.
const SENTENCES: &[(&str, &str, &str, &str)] = &[
    (
        "id_changed",
        "регламент идентификаторы: `{0}` → `{1}`",
        "идентификатор регламента: `{0}` → `{1}`",
        "regulation id: `{0}` → `{1}`",
    ),
    (
        "version_changed",
        "нұсқа: {0} → {1}",
        "версия: {0} → {1}",
        "version: {0} → {1}",
    ),
    (
        "title_changed",
        "қызмет атауы: «{0}» → «{1}»",
        "наименование услуги: «{0}» → «{1}»",
        "title: «{0}» → «{1}»",
    ),
    (
        "source_changed",
        "{0}: {1} → {2}",
        "{0}: {1} → {2}",
        "{0}: {1} → {2}",
    ),
    (
        "date_changed",
        "{0}: {1} → {2}",
        "{0}: {1} → {2}",
        "{0}: {1} → {2}",
    ),
    (
        "repeal_changed",
        "күшін жою: {0} → {1}",
        "утрата силы: {0} → {1}",
        "repeal: {0} → {1}",
    ),
    (
        "calendar_changed",
        "күнтізбе: `{0}` → `{1}`",
        "календарь: `{0}` → `{1}`",
        "calendar: `{0}` → `{1}`",
    ),
    (
        "region_changed",
        "өңір: `{0}` → `{1}`",
        "регион: `{0}` → `{1}`",
        "region: `{0}` → `{1}`",
    ),
    (
        "warnings_changed",
        "мерзім бұзылғанға дейінгі ескертулер (%): {0} → {1}",
        "предупреждения до нарушения срока (%): {0} → {1}",
        "warnings before a breach (%): {0} → {1}",
    ),
    (
        "role_added",
        "`{0}` рөлі қосылды ({1})",
        "добавлена роль `{0}` ({1})",
        "role `{0}` added ({1})",
    ),
    (
        "role_removed",
        "`{0}` рөлі алынып тасталды ({1})",
        "удалена роль `{0}` ({1})",
        "role `{0}` removed ({1})",
    ),
    (
        "role_kind_changed",
        "`{0}` рөлі: түрі `{1}` → `{2}`",
        "роль `{0}`: вид `{1}` → `{2}`",
        "role `{0}`: kind `{1}` → `{2}`",
    ),
    (
        "role_office_changed",
        "`{0}` рөлі: кеңсе түрі {1} → {2}",
        "роль `{0}`: вид офиса {1} → {2}",
        "role `{0}`: kind of office {1} → {2}",
    ),
    (
        "role_name_changed",
        "`{0}` рөлі: атауы «{1}» → «{2}»",
        "роль `{0}`: наименование «{1}» → «{2}»",
        "role `{0}`: name «{1}» → «{2}»",
    ),
    (
        "channel_added",
        "`{0}` арнасы қосылды (`{1}`)",
        "добавлен канал `{0}` (`{1}`)",
        "channel `{0}` added (`{1}`)",
    ),
    (
        "channel_removed",
        "`{0}` арнасы алынып тасталды (`{1}`)",
        "удалён канал `{0}` (`{1}`)",
        "channel `{0}` removed (`{1}`)",
    ),
    (
        "channel_kind_changed",
        "`{0}` арнасы: түрі `{1}` → `{2}`",
        "канал `{0}`: вид `{1}` → `{2}`",
        "channel `{0}`: kind `{1}` → `{2}`",
    ),
    (
        "channel_name_changed",
        "`{0}` арнасы: атауы «{1}» → «{2}»",
        "канал `{0}`: наименование «{1}» → «{2}»",
        "channel `{0}`: name «{1}» → «{2}»",
    ),
    (
        "channel_start_changed",
        "`{0}` арнасы: істер басталатын қадам `{1}` → `{2}`",
        "канал `{0}`: дела начинаются с шага `{1}` → `{2}`",
        "channel `{0}`: cases start at `{1}` → `{2}`",
    ),
    (
        "statutory_term_changed",
        "`{0}` арнасы: нормативтік мерзім {1} → {2}",
        "канал `{0}`: нормативный срок {1} → {2}",
        "channel `{0}`: statutory term {1} → {2}",
    ),
    (
        "extended_term_changed",
        "`{0}` арнасы: құжаттар жетіспеген кездегі мерзім {1} → {2}",
        "канал `{0}`: срок при недостающих документах {1} → {2}",
        "channel `{0}`: term when documents are missing {1} → {2}",
    ),
    (
        "counting_excluded",
        "`{0}` арнасы: қабылдау және беру күндері енді мерзімге кірмейді",
        "канал `{0}`: дни приёма и выдачи теперь не входят в срок",
        "channel `{0}`: the days of receipt and issue no longer count in the term",
    ),
    (
        "counting_included",
        "`{0}` арнасы: қабылдау және беру күндері енді мерзімге кіреді",
        "канал `{0}`: дни приёма и выдачи теперь входят в срок",
        "channel `{0}`: the days of receipt and issue now count in the term",
    ),
    (
        "step_added",
        "`{0}` қадамы қосылды ({1})",
        "добавлен шаг `{0}` ({1})",
        "step `{0}` added ({1})",
    ),
    (
        "step_removed",
        "`{0}` қадамы алынып тасталды ({1})",
        "удалён шаг `{0}` ({1})",
        "step `{0}` removed ({1})",
    ),
    (
        "step_renamed",
        "`{0}` қадамы `{1}` болып қайта аталды (рөлі мен орны сол)",
        "шаг `{0}` переименован в `{1}` (та же роль и место)",
        "step `{0}` renamed `{1}` (same role and place)",
    ),
    (
        "step_moved",
        "`{0}` қадамы басқа рөлге берілді: {1} → {2}",
        "шаг `{0}` передан другой роли: {1} → {2}",
        "step `{0}` moved to another role: {1} → {2}",
    ),
    (
        "step_kind_changed",
        "`{0}` қадамы: түрі `{1}` → `{2}`",
        "шаг `{0}`: вид `{1}` → `{2}`",
        "step `{0}`: kind `{1}` → `{2}`",
    ),
    (
        "step_name_changed",
        "`{0}` қадамы: атауы «{1}» → «{2}»",
        "шаг `{0}`: наименование «{1}» → «{2}»",
        "step `{0}`: name «{1}» → «{2}»",
    ),
    (
        "duration_changed",
        "`{0}` қадамы: {1} арнасы бойынша мерзімі {2} → {3}",
        "шаг `{0}`: срок по каналу {1}: {2} → {3}",
        "step `{0}`: duration on {1}: {2} → {3}",
    ),
    (
        "dispatch_times_changed",
        "`{0}` қадамы: жөнелту уақыты {1} → {2}",
        "шаг `{0}`: время отправки {1} → {2}",
        "step `{0}`: dispatch times {1} → {2}",
    ),
    (
        "integration_changed",
        "`{0}` қадамы: интеграция {1} → {2}",
        "шаг `{0}`: интеграция {1} → {2}",
        "step `{0}`: integration {1} → {2}",
    ),
    (
        "produces_changed",
        "`{0}` қадамы: нәтиже құжаты «{1}» → «{2}»",
        "шаг `{0}`: результат «{1}» → «{2}»",
        "step `{0}`: document produced «{1}» → «{2}»",
    ),
    (
        "next_changed",
        "`{0}` қадамы: келесі қадам {1} → {2}",
        "шаг `{0}`: следующий шаг {1} → {2}",
        "step `{0}`: next step {1} → {2}",
    ),
    (
        "outcome_added",
        "`{0}` қадамы: `{1}` нәтижесі қосылды (→ `{2}`)",
        "шаг `{0}`: добавлен исход `{1}` (→ `{2}`)",
        "step `{0}`: outcome `{1}` added (→ `{2}`)",
    ),
    (
        "outcome_removed",
        "`{0}` қадамы: `{1}` нәтижесі алынып тасталды (→ `{2}`)",
        "шаг `{0}`: удалён исход `{1}` (→ `{2}`)",
        "step `{0}`: outcome `{1}` removed (→ `{2}`)",
    ),
    (
        "outcome_next_changed",
        "`{0}` қадамы: `{1}` нәтижесі: `{2}` → `{3}`",
        "шаг `{0}`: исход `{1}` ведёт к шагу `{2}` → `{3}`",
        "step `{0}`: outcome `{1}` leads to `{2}` → `{3}`",
    ),
    (
        "outcome_reason_required",
        "`{0}` қадамы: `{1}` нәтижесі енді жазбаша негіздемені талап етеді",
        "шаг `{0}`: исход `{1}` теперь требует письменного обоснования",
        "step `{0}`: outcome `{1}` now needs a written reason",
    ),
    (
        "outcome_reason_dropped",
        "`{0}` қадамы: `{1}` нәтижесі енді жазбаша негіздемені талап етпейді",
        "шаг `{0}`: исход `{1}` больше не требует письменного обоснования",
        "step `{0}`: outcome `{1}` no longer needs a written reason",
    ),
    (
        "branch_added",
        "`{0}` таңдауы: тармақ қосылды: егер {1}, онда `{2}`",
        "выбор `{0}`: добавлена ветвь: если {1}, то `{2}`",
        "choice `{0}`: branch added: if {1}, go to `{2}`",
    ),
    (
        "branch_removed",
        "`{0}` таңдауы: тармақ алынып тасталды: егер {1}, онда `{2}`",
        "выбор `{0}`: удалена ветвь: если {1}, то `{2}`",
        "choice `{0}`: branch removed: if {1}, go to `{2}`",
    ),
    (
        "branch_condition_changed",
        "`{0}` таңдауы: `{1}` қадамына өту шарты: {2} → {3}",
        "выбор `{0}`: условие перехода к `{1}`: {2} → {3}",
        "choice `{0}`: the condition to go to `{1}`: {2} → {3}",
    ),
    (
        "branch_target_changed",
        "`{0}` таңдауы: егер {1}, онда `{2}` → `{3}`",
        "выбор `{0}`: если {1}, то `{2}` → `{3}`",
        "choice `{0}`: if {1}, go to `{2}` → `{3}`",
    ),
    (
        "branch_order_changed",
        "`{0}` таңдауы: шарттар басқа ретпен тексеріледі: {1} → {2}",
        "выбор `{0}`: условия проверяются в другом порядке: {1} → {2}",
        "choice `{0}`: the conditions are tried in another order: {1} → {2}",
    ),
    (
        "default_changed",
        "`{0}` таңдауы: әйтпесе {1} → {2}",
        "выбор `{0}`: иначе {1} → {2}",
        "choice `{0}`: otherwise {1} → {2}",
    ),
    (
        "parallel_branches_changed",
        "`{0}` тармақталуы: қатар жолдар {1} → {2}",
        "разветвление `{0}`: параллельные пути {1} → {2}",
        "split `{0}`: parallel paths {1} → {2}",
    ),
    (
        "end_result_changed",
        "`{0}` аяқталуы: нәтижесі {1} → {2}",
        "завершение `{0}`: результат {1} → {2}",
        "end `{0}`: result {1} → {2}",
    ),
    (
        "escalation_changed",
        "`{0}` қадамы: мерзім бұзылғанда {1} → {2}",
        "шаг `{0}`: при нарушении срока {1} → {2}",
        "step `{0}`: on a breach {1} → {2}",
    ),
    (
        "suspension_added",
        "`{0}` қадамы: енді `{1}` негізі бойынша тоқтатыла алады{2}",
        "шаг `{0}`: теперь может быть приостановлен по основанию `{1}`{2}",
        "step `{0}`: may now be suspended for `{1}`{2}",
    ),
    (
        "suspension_removed",
        "`{0}` қадамы: енді `{1}` негізі бойынша тоқтатыла алмайды",
        "шаг `{0}`: больше не может быть приостановлен по основанию `{1}`",
        "step `{0}`: may no longer be suspended for `{1}`",
    ),
    (
        "suspension_stops_case",
        "`{0}` қадамы: `{1}` тоқтатуы енді істің мерзімін де тоқтатады",
        "шаг `{0}`: приостановление `{1}` теперь останавливает и срок дела",
        "step `{0}`: suspending for `{1}` now stops the case's term too",
    ),
    (
        "suspension_keeps_case",
        "`{0}` қадамы: `{1}` тоқтатуы енді істің мерзімін тоқтатпайды",
        "шаг `{0}`: приостановление `{1}` больше не останавливает срок дела",
        "step `{0}`: suspending for `{1}` no longer stops the case's term",
    ),
    ("form_added", "{0} қосылды", "добавлена {0}", "{0} added"),
    (
        "form_removed",
        "{0} алынып тасталды",
        "удалена {0}",
        "{0} removed",
    ),
    (
        "field_added",
        "{0}: `{1}` өрісі қосылды{2}",
        "{0}: добавлено поле `{1}`{2}",
        "{0}: field `{1}` added{2}",
    ),
    (
        "field_removed",
        "{0}: `{1}` өрісі алынып тасталды",
        "{0}: удалено поле `{1}`",
        "{0}: field `{1}` removed",
    ),
    (
        "field_now_required",
        "{0}: `{1}` өрісі енді міндетті",
        "{0}: поле `{1}` теперь обязательное",
        "{0}: field `{1}` is now required",
    ),
    (
        "field_no_longer_required",
        "{0}: `{1}` өрісі енді міндетті емес",
        "{0}: поле `{1}` больше не обязательное",
        "{0}: field `{1}` is no longer required",
    ),
    (
        "field_constraint_changed",
        "{0}: `{1}` өрісі: `{2}` {3} → {4}",
        "{0}: поле `{1}`: `{2}` {3} → {4}",
        "{0}: field `{1}`: `{2}` {3} → {4}",
    ),
    (
        "form_constraint_changed",
        "{0}: `{2}` {3} → {4}",
        "{0}: `{2}` {3} → {4}",
        "{0}: `{2}` {3} → {4}",
    ),
];

/// Words around the changes: headings, the legend, the names of parts.
const LABELS: &[(&str, &str, &str, &str)] = &[
    ("changes", "Өзгерістер", "Изменения", "Changes"),
    (
        "no_changes",
        "Айырмашылық жоқ",
        "Различий нет",
        "No differences",
    ),
    ("old", "Бұрынғы", "Было", "Old"),
    ("new", "Жаңа", "Стало", "New"),
    ("added", "қосылды", "добавлен", "added"),
    ("changed", "өзгертілді", "изменён", "changed"),
    ("removed", "алынып тасталды", "удалён", "removed"),
    (
        "removed_steps",
        "Алынып тасталған қадамдар (жаңа сызбада жоқ)",
        "Удалённые шаги (их нет на новой схеме)",
        "Removed steps (not in the new diagram)",
    ),
    (
        "diagram",
        "Жаңа нұсқаның сызбасы",
        "Схема новой версии",
        "Diagram of the new version",
    ),
    ("change", "Өзгеріс", "Изменение", "Change"),
    (
        "legend_added",
        "қадам қосылды",
        "шаг добавлен",
        "step added",
    ),
    (
        "legend_changed",
        "қадам өзгертілді",
        "шаг изменён",
        "step changed",
    ),
    ("kind", "Түрі", "Вид", "Kind"),
    ("none", "—", "—", "—"),
    ("yes", "иә", "да", "yes"),
    ("no", "жоқ", "нет", "no"),
    (
        "application_form",
        "өтініш нысаны",
        "форма заявления",
        "the application form",
    ),
    (
        "step_form",
        "`{0}` қадамының нысаны",
        "форма шага `{0}`",
        "the form of step `{0}`",
    ),
    (
        "required_mark",
        " (міндетті)",
        " (обязательное)",
        " (required)",
    ),
    (
        "stops_case_mark",
        " (істің мерзімі де тоқтайды)",
        " (срок дела тоже останавливается)",
        " (the case's term stops too)",
    ),
    ("act", "бекіткен акт", "утверждающий акт", "approving act"),
    (
        "appendix",
        "актінің қосымшасы",
        "приложение акта",
        "appendix",
    ),
    ("url", "жариялануы", "публикация", "publication"),
    (
        "standard",
        "қызмет стандарты",
        "стандарт услуги",
        "service standard",
    ),
    (
        "valid_from",
        "актінің күні (valid_from)",
        "дата акта (valid_from)",
        "date of the act (valid_from)",
    ),
    (
        "in_force_from",
        "күшіне енген күні (in_force_from)",
        "вступает в силу (in_force_from)",
        "in force from (in_force_from)",
    ),
    (
        "valid_to",
        "қолданылуының соңғы күні (valid_to)",
        "действует по (valid_to)",
        "applies until (valid_to)",
    ),
];

fn lookup(
    table: &[(&str, &'static str, &'static str, &'static str)],
    key: &str,
    lang: Lang,
) -> &'static str {
    table
        .iter()
        .find(|(k, ..)| *k == key)
        .map(|(_, kk, ru, en)| match lang {
            Lang::Kk => *kk,
            Lang::Ru => *ru,
            Lang::En => *en,
        })
        .unwrap_or("")
}

/// A word of the diff's outputs in `lang` (see `LABELS`); empty for an unknown key.
pub fn label(key: &str, lang: Lang) -> &'static str {
    lookup(LABELS, key, lang)
}

fn fill(template: &str, args: &[String]) -> String {
    let mut out = template.to_string();
    for (i, a) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), a);
    }
    out
}

fn or_none<T>(v: Option<T>, lang: Lang, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| label("none", lang).to_string())
}

fn term(t: Option<Term>, lang: Lang) -> String {
    or_none(t, lang, |t| term_in(t, lang))
}

fn code(s: &str) -> String {
    format!("`{s}`")
}

fn text(t: Option<&Text>, lang: Lang) -> String {
    or_none(t, lang, |t| t.get(lang).to_string())
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "—".to_string()
    } else {
        v.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
    }
}

fn json(v: Option<&Value>, lang: Lang) -> String {
    or_none(v, lang, |v| code(&v.to_string()))
}

fn form(step: &Option<String>, lang: Lang) -> String {
    match step {
        None => label("application_form", lang).to_string(),
        Some(s) => fill(label("step_form", lang), std::slice::from_ref(s)),
    }
}

fn upper_first(s: String) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

fn snake<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The change as a sentence in `lang`.
pub fn describe(what: &What, lang: Lang) -> String {
    use What::*;
    let none = || label("none", lang).to_string();
    let opt_code = |s: &Option<String>| s.as_deref().map(code).unwrap_or_else(none);
    let role_what =
        |kind: &crate::model::RoleKind, office: &Option<crate::model::OfficeKind>| match office {
            Some(o) => format!("`{}`, `{}`", snake(kind), o.as_str()),
            None => code(&snake(kind)),
        };
    let office =
        |o: &Option<crate::model::OfficeKind>| o.map(|o| code(o.as_str())).unwrap_or_else(none);
    let step_what = |kind: &str, role: &Option<String>| match role {
        Some(r) => format!("`{kind}`, `{r}`"),
        None => code(kind),
    };
    let (key, args): (&str, Vec<String>) = match what {
        IdChanged { from, to } => ("id_changed", vec![from.clone(), to.clone()]),
        VersionChanged { from, to } => ("version_changed", vec![from.to_string(), to.to_string()]),
        TitleChanged { from, to } => (
            "title_changed",
            vec![from.get(lang).to_string(), to.get(lang).to_string()],
        ),
        SourceChanged { field, from, to } => (
            "source_changed",
            vec![
                label(field, lang).to_string(),
                or_none(from.as_ref(), lang, |s| format!("«{s}»")),
                or_none(to.as_ref(), lang, |s| format!("«{s}»")),
            ],
        ),
        DateChanged { field, from, to } => (
            "date_changed",
            vec![
                label(field, lang).to_string(),
                or_none(*from, lang, |d| d.to_string()),
                or_none(*to, lang, |d| d.to_string()),
            ],
        ),
        RepealChanged { from, to } => {
            let r = |r: &crate::model::Repeal| {
                [
                    Some(format!("«{}»", r.text)),
                    r.act.clone(),
                    r.date.map(|d| d.to_string()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
            };
            (
                "repeal_changed",
                vec![
                    or_none(from.as_ref(), lang, r),
                    or_none(to.as_ref(), lang, r),
                ],
            )
        }
        CalendarChanged { from, to } => ("calendar_changed", vec![from.clone(), to.clone()]),
        RegionChanged { from, to } => ("region_changed", vec![from.clone(), to.clone()]),
        WarningsChanged { from, to } => {
            let l = |v: &[u8]| {
                if v.is_empty() {
                    none()
                } else {
                    v.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
                }
            };
            ("warnings_changed", vec![l(from), l(to)])
        }
        RoleAdded { role, kind, office } => {
            ("role_added", vec![role.clone(), role_what(kind, office)])
        }
        RoleRemoved { role, kind, office } => {
            ("role_removed", vec![role.clone(), role_what(kind, office)])
        }
        RoleKindChanged { role, from, to } => (
            "role_kind_changed",
            vec![role.clone(), snake(from), snake(to)],
        ),
        RoleOfficeChanged { role, from, to } => (
            "role_office_changed",
            vec![role.clone(), office(from), office(to)],
        ),
        RoleNameChanged { role, from, to } => (
            "role_name_changed",
            vec![role.clone(), text(Some(from), lang), text(Some(to), lang)],
        ),
        ChannelAdded { channel, kind } => (
            "channel_added",
            vec![channel.clone(), kind.as_str().to_string()],
        ),
        ChannelRemoved { channel, kind } => (
            "channel_removed",
            vec![channel.clone(), kind.as_str().to_string()],
        ),
        ChannelKindChanged { channel, from, to } => (
            "channel_kind_changed",
            vec![
                channel.clone(),
                from.as_str().to_string(),
                to.as_str().to_string(),
            ],
        ),
        ChannelNameChanged { channel, from, to } => (
            "channel_name_changed",
            vec![
                channel.clone(),
                text(from.as_ref(), lang),
                text(to.as_ref(), lang),
            ],
        ),
        ChannelStartChanged { channel, from, to } => (
            "channel_start_changed",
            vec![channel.clone(), from.clone(), to.clone()],
        ),
        StatutoryTermChanged {
            channel,
            extended,
            from,
            to,
            from_text,
            to_text,
        } => {
            let key = if *extended {
                "extended_term_changed"
            } else {
                "statutory_term_changed"
            };
            let words = |t: &Option<String>| or_none(t.as_ref(), lang, |t| format!("«{t}»"));
            let (a, b) = if from != to {
                (term(*from, lang), term(*to, lang))
            } else {
                (words(from_text), words(to_text))
            };
            (key, vec![channel.clone(), a, b])
        }
        CountingChanged {
            channel,
            receipt_and_issue_days_excluded,
        } => (
            if *receipt_and_issue_days_excluded {
                "counting_excluded"
            } else {
                "counting_included"
            },
            vec![channel.clone()],
        ),
        StepAdded { step, kind, role } => ("step_added", vec![step.clone(), step_what(kind, role)]),
        StepRemoved { step, kind, role } => {
            ("step_removed", vec![step.clone(), step_what(kind, role)])
        }
        StepRenamed { from, to } => ("step_renamed", vec![from.clone(), to.clone()]),
        StepMoved {
            step,
            from_role,
            to_role,
        } => (
            "step_moved",
            vec![step.clone(), opt_code(from_role), opt_code(to_role)],
        ),
        StepKindChanged { step, from, to } => (
            "step_kind_changed",
            vec![step.clone(), from.clone(), to.clone()],
        ),
        StepNameChanged { step, from, to } => (
            "step_name_changed",
            vec![
                step.clone(),
                text(from.as_ref(), lang),
                text(to.as_ref(), lang),
            ],
        ),
        DurationChanged {
            step,
            channels,
            from,
            to,
        } => (
            "duration_changed",
            vec![
                step.clone(),
                list(channels),
                term(*from, lang),
                term(*to, lang),
            ],
        ),
        DispatchTimesChanged { step, from, to } => (
            "dispatch_times_changed",
            vec![step.clone(), from.join(", "), to.join(", ")],
        ),
        IntegrationChanged { step, from, to } => (
            "integration_changed",
            vec![step.clone(), opt_code(from), opt_code(to)],
        ),
        ProducesChanged { step, from, to } => (
            "produces_changed",
            vec![
                step.clone(),
                text(from.as_ref(), lang),
                text(to.as_ref(), lang),
            ],
        ),
        NextChanged { step, from, to } => (
            "next_changed",
            vec![step.clone(), opt_code(from), opt_code(to)],
        ),
        OutcomeAdded {
            step,
            outcome,
            next,
        } => (
            "outcome_added",
            vec![step.clone(), outcome.clone(), next.clone()],
        ),
        OutcomeRemoved {
            step,
            outcome,
            next,
        } => (
            "outcome_removed",
            vec![step.clone(), outcome.clone(), next.clone()],
        ),
        OutcomeNextChanged {
            step,
            outcome,
            from,
            to,
        } => (
            "outcome_next_changed",
            vec![step.clone(), outcome.clone(), from.clone(), to.clone()],
        ),
        OutcomeReasonChanged {
            step,
            outcome,
            requires_reason,
        } => (
            if *requires_reason {
                "outcome_reason_required"
            } else {
                "outcome_reason_dropped"
            },
            vec![step.clone(), outcome.clone()],
        ),
        BranchAdded { step, when, next } => {
            ("branch_added", vec![step.clone(), code(when), next.clone()])
        }
        BranchRemoved { step, when, next } => (
            "branch_removed",
            vec![step.clone(), code(when), next.clone()],
        ),
        BranchConditionChanged {
            step,
            next,
            from,
            to,
        } => (
            "branch_condition_changed",
            vec![step.clone(), next.clone(), code(from), code(to)],
        ),
        BranchTargetChanged {
            step,
            when,
            from,
            to,
        } => (
            "branch_target_changed",
            vec![step.clone(), code(when), from.clone(), to.clone()],
        ),
        BranchOrderChanged { step, from, to } => (
            "branch_order_changed",
            vec![step.clone(), list(from), list(to)],
        ),
        DefaultChanged { step, from, to } => (
            "default_changed",
            vec![step.clone(), opt_code(from), opt_code(to)],
        ),
        ParallelBranchesChanged { step, from, to } => (
            "parallel_branches_changed",
            vec![step.clone(), list(from), list(to)],
        ),
        EndResultChanged { step, from, to } => {
            let r = |r: &Option<crate::model::CaseResult>| {
                r.map(|r| code(r.as_str())).unwrap_or_else(none)
            };
            ("end_result_changed", vec![step.clone(), r(from), r(to)])
        }
        EscalationChanged { step, from, to } => {
            let l = |v: &[String]| if v.is_empty() { none() } else { v.join("; ") };
            ("escalation_changed", vec![step.clone(), l(from), l(to)])
        }
        SuspensionAdded {
            step,
            reason,
            stops_case_term,
        } => (
            "suspension_added",
            vec![
                step.clone(),
                reason.clone(),
                if *stops_case_term {
                    label("stops_case_mark", lang).to_string()
                } else {
                    String::new()
                },
            ],
        ),
        SuspensionRemoved { step, reason } => {
            ("suspension_removed", vec![step.clone(), reason.clone()])
        }
        SuspensionChanged {
            step,
            reason,
            stops_case_term,
        } => (
            if *stops_case_term {
                "suspension_stops_case"
            } else {
                "suspension_keeps_case"
            },
            vec![step.clone(), reason.clone()],
        ),
        FormAdded { step } => ("form_added", vec![form(step, lang)]),
        FormRemoved { step } => ("form_removed", vec![form(step, lang)]),
        FieldAdded {
            step,
            field,
            required,
        } => (
            "field_added",
            vec![
                form(step, lang),
                field.clone(),
                if *required {
                    label("required_mark", lang).to_string()
                } else {
                    String::new()
                },
            ],
        ),
        FieldRemoved { step, field } => ("field_removed", vec![form(step, lang), field.clone()]),
        FieldNowRequired { step, field } => {
            ("field_now_required", vec![form(step, lang), field.clone()])
        }
        FieldNoLongerRequired { step, field } => (
            "field_no_longer_required",
            vec![form(step, lang), field.clone()],
        ),
        FieldConstraintChanged {
            step,
            field,
            constraint,
            from,
            to,
        } => (
            if field.is_empty() {
                "form_constraint_changed"
            } else {
                "field_constraint_changed"
            },
            vec![
                form(step, lang),
                field.clone(),
                constraint.clone(),
                json(from.as_ref(), lang),
                json(to.as_ref(), lang),
            ],
        ),
    };
    upper_first(fill(lookup(SENTENCES, key, lang), &args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_and_label_is_in_three_languages() {
        for (k, kk, ru, en) in SENTENCES.iter().chain(LABELS) {
            assert!(!kk.is_empty() && !ru.is_empty() && !en.is_empty(), "{k}");
            // The same placeholders in every language.
            let marks = |s: &str| (0..6).filter(|i| s.contains(&format!("{{{i}}}"))).count();
            assert_eq!(marks(kk), marks(en), "{k}");
            assert_eq!(marks(ru), marks(en), "{k}");
        }
    }

    #[test]
    fn a_duration_change_is_said_in_each_language() {
        let w = What::DurationChanged {
            step: "review".into(),
            channels: vec!["provider".into()],
            from: Some(Term::hours(2)),
            to: Some(Term::hours(3)),
        };
        assert_eq!(
            describe(&w, Lang::En),
            "Step `review`: duration on `provider`: 2 hours → 3 hours"
        );
        assert_eq!(
            describe(&w, Lang::Ru),
            "Шаг `review`: срок по каналу `provider`: 2 часа → 3 часа"
        );
        assert!(describe(&w, Lang::Kk).contains("2 сағат → 3 сағат"));
    }
}
