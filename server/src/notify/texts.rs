//! The words of staff notices, in Kazakh, Russian and English: a notice is written in its
//! recipient's language when it is made.

use reglament_model::text::Lang;

/// What a staff notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `task`, `warning`, `breach` or `escalation`.
    pub kind: &'static str,
    pub case: String,
    pub task: u32,
    /// The step's name in the recipient's language.
    pub step: String,
    /// The task's due instant, local to its office (`None`: no time limit).
    pub due: Option<String>,
    /// For a warning: how much of the working time has passed.
    pub percent: Option<u8>,
    /// A link to the task in the web interface.
    pub link: String,
}

/// The subject and the text of a staff notice.
pub fn staff(lang: Lang, f: &Facts) -> (String, String) {
    let case = &f.case;
    let step = &f.step;
    let n = f.task;
    let subject = match (f.kind, lang) {
        ("task", Lang::Kk) => format!("Жаңа тапсырма: {step} ({case})"),
        ("task", Lang::Ru) => format!("Новая задача: {step} ({case})"),
        ("task", Lang::En) => format!("New task: {step} ({case})"),
        ("warning", Lang::Kk) => format!("Мерзімі жақындап қалды: {step} ({case})"),
        ("warning", Lang::Ru) => format!("Срок подходит: {step} ({case})"),
        ("warning", Lang::En) => format!("Running out of time: {step} ({case})"),
        ("breach", Lang::Kk) => format!("Мерзімі өтіп кетті: {step} ({case})"),
        ("breach", Lang::Ru) => format!("Срок нарушен: {step} ({case})"),
        ("breach", Lang::En) => format!("Overdue: {step} ({case})"),
        (_, Lang::Kk) => format!("Эскалация: {step} ({case})"),
        (_, Lang::Ru) => format!("Эскалация: {step} ({case})"),
        (_, Lang::En) => format!("Escalation: {step} ({case})"),
    };
    let what = match (f.kind, lang) {
        ("task", Lang::Kk) => format!("{case} ісі бойынша {n}-тапсырма сізді күтіп тұр: {step}."),
        ("task", Lang::Ru) => format!("Вас ждёт задача {n} по делу {case}: {step}."),
        ("task", Lang::En) => format!("Task {n} of case {case} is waiting for you: {step}."),
        ("warning", Lang::Kk) => format!(
            "{case} ісі бойынша {n}-тапсырманың ({step}) жұмыс уақытының {}% өтті.",
            f.percent.unwrap_or(0)
        ),
        ("warning", Lang::Ru) => format!(
            "По задаче {n} дела {case} ({step}) прошло {}% рабочего времени.",
            f.percent.unwrap_or(0)
        ),
        ("warning", Lang::En) => format!(
            "{}% of the working time of task {n} of case {case} ({step}) has passed.",
            f.percent.unwrap_or(0)
        ),
        ("breach", Lang::Kk) => {
            format!("{case} ісі бойынша {n}-тапсырманың ({step}) мерзімі өтіп кетті.")
        }
        ("breach", Lang::Ru) => format!("Срок задачи {n} дела {case} ({step}) нарушен."),
        ("breach", Lang::En) => format!("Task {n} of case {case} ({step}) is overdue."),
        (_, Lang::Kk) => {
            format!("{case} ісі бойынша {n}-тапсырма ({step}) басшы ретінде сізге жіберілді.")
        }
        (_, Lang::Ru) => {
            format!("Задача {n} дела {case} ({step}) передана вам как руководителю (эскалация).")
        }
        (_, Lang::En) => {
            format!("Task {n} of case {case} ({step}) was escalated to you as head.")
        }
    };
    let due = f.due.as_ref().map(|d| match lang {
        Lang::Kk => format!("Мерзімі: {d}."),
        Lang::Ru => format!("Срок: {d}."),
        Lang::En => format!("Due: {d}."),
    });
    let open = match lang {
        Lang::Kk => "Ашу",
        Lang::Ru => "Открыть",
        Lang::En => "Open",
    };
    let footer = match lang {
        Lang::Kk => "Хабарламаларды баптау: /notifications",
        Lang::Ru => "Настройка уведомлений: /notifications",
        Lang::En => "Notification settings: /notifications",
    };
    let mut body = what;
    if let Some(d) = due {
        body.push('\n');
        body.push_str(&d);
    }
    body.push_str(&format!("\n{open}: {}\n\n-- \n{footer}\n", f.link));
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: &'static str) -> Facts {
        Facts {
            kind,
            case: "A-1".into(),
            task: 2,
            step: "Review".into(),
            due: Some("2026-04-16 18:00".into()),
            percent: Some(75),
            link: "/tasks/A-1:2".into(),
        }
    }

    #[test]
    fn every_kind_reads_in_every_language_without_another_languages_words() {
        for kind in ["task", "warning", "breach", "escalation"] {
            let (_, kk) = staff(Lang::Kk, &facts(kind));
            let (_, ru) = staff(Lang::Ru, &facts(kind));
            let (subject, en) = staff(Lang::En, &facts(kind));
            assert!(kk.contains("Мерзімі") && ru.contains("Срок") && en.contains("Due"));
            // The English text has no Cyrillic; the Russian one no English words.
            assert!(!(subject + &en).chars().any(|c| ('а'..='я').contains(&c)));
            assert!(!ru.contains("Task") && !ru.contains("Open"));
            assert_ne!(kk, ru);
        }
        assert!(staff(Lang::En, &facts("warning")).1.contains("75%"));
    }
}
