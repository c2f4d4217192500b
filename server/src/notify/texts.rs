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
    /// The user the recipient acts for under a deputy rule, when the notice is theirs through it.
    pub acting_for: Option<String>,
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
    if let Some(p) = &f.acting_for {
        body.push('\n');
        body.push_str(&match lang {
            Lang::Kk => format!("Сіз бұйрық бойынша {p} міндетін атқарасыз."),
            Lang::Ru => format!("Вы исполняете обязанности {p} по приказу."),
            Lang::En => format!("You act for {p} by an order."),
        });
    }
    body.push_str(&format!("\n{open}: {}\n\n-- \n{footer}\n", f.link));
    (subject, body)
}

/// One overdue task in a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLine {
    /// The case's registration number.
    pub case: String,
    pub task: u32,
    /// The step's and the role's names in the recipient's language.
    pub step: String,
    pub role: String,
    /// The due instant, local to the office.
    pub due: String,
    /// How late it is, in minutes of calendar time.
    pub late_minutes: i64,
}

/// What a digest is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The office's name in the recipient's language.
    pub office: String,
    /// The office-local day, `YYYY-MM-DD`.
    pub day: String,
    /// The tasks listed, most late first.
    pub lines: Vec<DigestLine>,
    /// Overdue tasks not listed (the e-mail stays readable; the inbox has them all).
    pub more: usize,
    /// A link to the overdue tasks in the inbox.
    pub link: String,
}

/// How late, in the recipient's language: days and hours, or hours and minutes under a day.
pub fn late(lang: Lang, minutes: i64) -> String {
    let m = minutes.max(0);
    let (d, h, min) = (m / 1440, m % 1440 / 60, m % 60);
    let (day, hour, minute) = match lang {
        Lang::Kk => ("күн", "сағ", "мин"),
        Lang::Ru => ("дн.", "ч", "мин"),
        Lang::En => ("d", "h", "min"),
    };
    if d > 0 {
        format!("{d} {day} {h} {hour}")
    } else if h > 0 {
        format!("{h} {hour} {min} {minute}")
    } else {
        format!("{min} {minute}")
    }
}

/// The subject and the text of a digest of overdue tasks.
pub fn digest(lang: Lang, d: &Digest) -> (String, String) {
    let n = d.lines.len() + d.more;
    let (office, day) = (&d.office, &d.day);
    let subject = match lang {
        Lang::Kk => format!("Мерзімі өткен тапсырмалар: {n} — {office}, {day}"),
        Lang::Ru => format!("Просроченные задачи: {n} — {office}, {day}"),
        Lang::En => format!("Overdue tasks: {n} — {office}, {day}"),
    };
    let mut body = match lang {
        Lang::Kk => {
            format!("{office}: {day} жұмыс күнінің басында мерзімі өткен тапсырмалар ({n}):\n")
        }
        Lang::Ru => format!("{office}: просроченные задачи на начало рабочего дня {day} ({n}):\n"),
        Lang::En => format!("{office}: tasks overdue at the opening on {day} ({n}):\n"),
    };
    for l in &d.lines {
        let late = late(lang, l.late_minutes);
        let (case, task, step, role, due) = (&l.case, l.task, &l.step, &l.role, &l.due);
        body.push_str(&match lang {
            Lang::Kk => format!(
                "\n- {case}, {task}-тапсырма: {step} ({role}); мерзімі {due}, {late} кешікті"
            ),
            Lang::Ru => format!(
                "\n- {case}, задача {task}: {step} ({role}); срок {due}, просрочено на {late}"
            ),
            Lang::En => {
                format!("\n- {case}, task {task}: {step} ({role}); due {due}, {late} late")
            }
        });
    }
    if d.more > 0 {
        let more = d.more;
        body.push_str(&match lang {
            Lang::Kk => format!("\n… және тағы {more}"),
            Lang::Ru => format!("\n… и ещё {more}"),
            Lang::En => format!("\n… and {more} more"),
        });
    }
    let (open, footer) = match lang {
        Lang::Kk => ("Ашу", "Хабарламаларды баптау: /notifications"),
        Lang::Ru => ("Открыть", "Настройка уведомлений: /notifications"),
        Lang::En => ("Open", "Notification settings: /notifications"),
    };
    body.push_str(&format!("\n\n{open}: {}\n\n-- \n{footer}\n", d.link));
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
            acting_for: None,
        }
    }

    #[test]
    fn a_deputy_is_told_whom_they_act_for() {
        let f = Facts {
            acting_for: Some("exec1".into()),
            ..facts("breach")
        };
        assert!(
            staff(Lang::Ru, &f)
                .1
                .contains("Вы исполняете обязанности exec1 по приказу.")
        );
        assert!(staff(Lang::Kk, &f).1.contains("exec1 міндетін атқарасыз"));
        assert!(
            staff(Lang::En, &f)
                .1
                .contains("You act for exec1 by an order.")
        );
        assert!(!staff(Lang::En, &facts("breach")).1.contains("act for"));
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

    #[test]
    fn a_digest_lists_each_task_in_the_recipients_language() {
        let d = Digest {
            office: "Office".into(),
            day: "2026-04-29".into(),
            lines: vec![DigestLine {
                case: "A-1".into(),
                task: 1,
                step: "Review".into(),
                role: "Executor".into(),
                due: "2026-04-28 10:15".into(),
                late_minutes: 22 * 60 + 45,
            }],
            more: 2,
            link: "/inbox?overdue=on".into(),
        };
        let (subject, en) = digest(Lang::En, &d);
        assert_eq!(subject, "Overdue tasks: 3 — Office, 2026-04-29");
        assert!(
            en.contains("- A-1, task 1: Review (Executor); due 2026-04-28 10:15, 22 h 45 min late"),
            "{en}"
        );
        assert!(en.contains("… and 2 more"), "{en}");
        assert!(!(subject + &en).chars().any(|c| ('а'..='я').contains(&c)));
        let (_, ru) = digest(Lang::Ru, &d);
        assert!(
            ru.contains("срок 2026-04-28 10:15, просрочено на 22 ч 45 мин"),
            "{ru}"
        );
        let (_, kk) = digest(Lang::Kk, &d);
        assert!(
            kk.contains("1-тапсырма") && kk.contains("22 сағ 45 мин кешікті"),
            "{kk}"
        );
    }

    #[test]
    fn lateness_reads_as_days_and_hours_or_hours_and_minutes() {
        assert_eq!(late(Lang::En, 3 * 1440 + 2 * 60 + 59), "3 d 2 h");
        assert_eq!(late(Lang::En, 61), "1 h 1 min");
        assert_eq!(late(Lang::Ru, 5), "5 мин");
        assert_eq!(late(Lang::Kk, -5), "0 мин");
    }
}
