//! The words BPMN needs that a regulation does not hold: the pools' names, the names of the
//! shapes the export adds, in Kazakh, Russian and English.

use crate::model::{Escalation, EscalationAction, Regulation};
use crate::text::Lang;

use super::plan::Org;

fn pick(lang: Lang, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

/// The name of an organisation's pool.
pub fn org(org: Org, lang: Lang) -> &'static str {
    match org {
        Org::Applicant => pick(
            lang,
            "Көрсетілетін қызметті алушы",
            "Услугополучатель",
            "Applicant",
        ),
        Org::Egov => pick(
            lang,
            "«Электрондық үкімет» веб-порталы",
            "Веб-портал «электронного правительства»",
            "E-government portal",
        ),
        Org::Centre => pick(
            lang,
            "Халыққа қызмет көрсету орталығы",
            "Центр обслуживания населения",
            "Public service centre",
        ),
        Org::Akim => pick(
            lang,
            "Ауылдық округ әкімі",
            "Аким сельского округа",
            "Rural akim",
        ),
        Org::Provider => pick(
            lang,
            "Көрсетілетін қызметті беруші",
            "Услугодатель",
            "Service provider",
        ),
    }
}

/// The lane of steps that no role's lane took.
pub fn process_lane(lang: Lang) -> &'static str {
    pick(lang, "Үдеріс", "Процесс", "Process")
}

/// An unnamed exclusive choice (BPMN wants a forking gateway named).
pub fn choice(lang: Lang) -> &'static str {
    pick(lang, "Таңдау", "Выбор", "Choice")
}

/// The gateway after a task whose outcomes lead to different steps.
pub fn outcome(lang: Lang) -> &'static str {
    pick(lang, "Нәтиже", "Результат", "Outcome")
}

pub fn otherwise(lang: Lang) -> &'static str {
    pick(lang, "әйтпесе", "иначе", "otherwise")
}

/// The message from the applicant that starts a channel's case.
pub fn application(lang: Lang) -> &'static str {
    pick(lang, "Өтініш", "Заявление", "Application")
}

/// The end event after a deadline: what the escalation does, or that the term was breached.
pub fn breach(lang: Lang, escalation: &[Escalation], reg: &Regulation) -> String {
    if escalation.is_empty() {
        return pick(lang, "Мерзім бұзылды", "Срок нарушен", "Deadline breached").to_string();
    }
    escalation
        .iter()
        .map(|e| {
            let role = reg
                .roles
                .iter()
                .find(|r| r.id == e.role)
                .map_or(e.role.as_str(), |r| r.name.get(lang));
            let action = match e.action {
                EscalationAction::Notify => pick(lang, "Хабарлау", "Уведомить", "Notify"),
                EscalationAction::Reassign => pick(lang, "Беру", "Передать", "Reassign to"),
            };
            format!("{action}: {role}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}
