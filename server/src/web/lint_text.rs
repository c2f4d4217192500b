//! The linter's warnings in the page's language. The linter (`reglament_model::lint`) words
//! them in English for the command line; on a page in Kazakh or Russian each code has its own
//! sentence, naming the channel, step, role or outcome by its name in that language (found
//! from the warning's JSON pointer); the linter's English detail is shown apart on an English
//! page.

use reglament_model::compile::Process;
use reglament_model::model::Step;
use reglament_model::text::Lang;

/// `(code, kk, ru, en)`: `{channel}`, `{step}`, `{role}`, `{outcome}` and `{term}` are filled
/// in from the warning's place.
const TEXTS: &[(&str, &str, &str, &str)] = &[
    (
        "W100",
        "«{channel}» арнасында ең ұзақ жолдағы қадамдар уақытының қосындысы нормативтік мерзімнен ({term}) асады.",
        "В канале «{channel}» сумма времени шагов по самому длинному пути больше нормативного срока ({term}).",
        "On channel «{channel}» the steps' times along the longest path add up to more than the statutory term ({term}).",
    ),
    (
        "W101",
        "«{channel}» арнасында нормативтік мерзім көрсетілмеген.",
        "У канала «{channel}» не указан нормативный срок.",
        "Channel «{channel}» has no statutory term.",
    ),
    (
        "W102",
        "«{role}» рөлі жарияланған, бірақ оны бірде-бір қадам пайдаланбайды.",
        "Роль «{role}» объявлена, но ни один шаг её не использует.",
        "Role «{role}» is declared but no step uses it.",
    ),
    (
        "W103",
        "«{step}» тапсырмасының ұзақтығы көрсетілмеген.",
        "У задачи «{step}» не указана длительность.",
        "Task «{step}» has no duration.",
    ),
    (
        "W104",
        "«{step}» қадамындағы «{outcome}» нәтижесі бас тартуға не қайтаруға әкеледі, бірақ себебін сұрамайды.",
        "Результат «{outcome}» шага «{step}» ведёт к отказу или возврату, но не требует причины.",
        "Outcome «{outcome}» of step «{step}» leads to a refusal or a return but does not ask for a reason.",
    ),
    (
        "W105",
        "«{step}» қадамы құжаттың қай жерінен алынғанын көрсетпейді.",
        "Шаг «{step}» не указывает, из какого места документа он взят.",
        "Step «{step}» does not say where in the paper it comes from.",
    ),
    (
        "W106",
        "«{step}» таңдауында әдепкі жол жоқ: ешбір шарт орындалмаса, іс осы жерде тоқтайды.",
        "У выбора «{step}» нет пути по умолчанию: если ни одно условие не выполнено, дело остановится здесь.",
        "Choice «{step}» has no default: if no condition holds, the case stops here.",
    ),
    (
        "W107",
        "«{channel}» арнасында ең ұзақ жол тіпті ұзартылған мерзімнен де ұзақ.",
        "В канале «{channel}» самый длинный путь дольше даже продлённого срока.",
        "On channel «{channel}» the longest path takes longer than even the extended term.",
    ),
    (
        "W108",
        "«{step}» қадамының өзі «{channel}» арнасының бүкіл мерзімінен ({term}) ұзақ.",
        "Шаг «{step}» один длится дольше всего срока канала «{channel}» ({term}).",
        "Step «{step}» alone takes longer than channel «{channel}»'s whole term ({term}).",
    ),
];

/// The warning `code` at `pointer` of `p`, in `lang` (the linter's own detail, with its
/// figures and the paper's quotes, is shown apart on an English page). A code without words
/// of its own keeps the linter's text.
pub fn lint_text(lang: Lang, p: &Process, code: &str, pointer: &str, english: &str) -> String {
    let Some(t) = TEXTS.iter().find(|t| t.0 == code) else {
        return english.to_string();
    };
    let template = match lang {
        Lang::Kk => t.1,
        Lang::Ru => t.2,
        Lang::En => t.3,
    };
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    let index = |i: usize| parts.get(i).and_then(|s| s.parse::<usize>().ok());
    let reg = &p.regulation;
    let mut text = template.to_string();
    let mut fill = |name: &str, value: Option<String>| {
        text = text.replace(&format!("{{{name}}}"), value.as_deref().unwrap_or("?"));
    };
    let channel = match parts.first() {
        Some(&"channels") => index(1).and_then(|i| reg.channels.get(i)),
        // A step's duration for one channel: `/steps/3/durations/<channel>`.
        _ => parts
            .iter()
            .position(|s| *s == "durations")
            .and_then(|k| parts.get(k + 1))
            .and_then(|c| reg.channels.iter().find(|ch| ch.id == *c))
            .or_else(|| (code == "W108").then(|| reg.channels.first()).flatten()),
    };
    fill(
        "channel",
        channel.map(|c| {
            c.name
                .as_ref()
                .map_or_else(|| c.id.clone(), |n| n.get(lang).to_string())
        }),
    );
    fill(
        "term",
        channel
            .and_then(|c| c.term.as_ref())
            .map(|t| reglament_model::render::term_in(t.duration, lang)),
    );
    let step = match parts.first() {
        Some(&"steps") => index(1).and_then(|i| reg.steps.get(i)),
        _ => None,
    };
    fill(
        "step",
        step.map(|s| {
            s.name()
                .map_or_else(|| s.id().to_string(), |n| n.get(lang).to_string())
        }),
    );
    fill(
        "role",
        match parts.first() {
            Some(&"roles") => index(1)
                .and_then(|i| reg.roles.get(i))
                .map(|r| r.name.get(lang).to_string()),
            _ => None,
        },
    );
    fill(
        "outcome",
        match (step, parts.get(2), index(3)) {
            (Some(Step::Task(ts)), Some(&"outcomes"), Some(j)) => ts.outcomes.get(j).map(|o| {
                o.name
                    .as_ref()
                    .map_or_else(|| o.id.clone(), |n| n.get(lang).to_string())
            }),
            _ => None,
        },
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> std::sync::Arc<Process> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../regulations/north-kazakhstan/nko-social-assistance.yaml");
        let loaded = reglament_model::load::load_file(&path).expect("loads");
        Process::compile(loaded.regulation)
            .expect("compiles")
            .shared()
    }

    #[test]
    fn every_warning_reads_in_each_language_with_the_names_in_it() {
        let p = process();
        let provider = p
            .regulation
            .channels
            .iter()
            .position(|c| c.id == "provider")
            .expect("provider channel");
        let review = p.step_index("review").expect("review");
        let kk = lint_text(Lang::Kk, &p, "W101", &format!("/channels/{provider}"), "x");
        assert!(
            kk.contains("нормативтік мерзім") && !kk.contains('?'),
            "{kk}"
        );
        let ru = lint_text(Lang::Ru, &p, "W105", &format!("/steps/{review}/id"), "x");
        assert!(
            ru.starts_with("Шаг «Рассмотрение документов") && !ru.contains("x"),
            "{ru}"
        );
        let en = lint_text(
            Lang::En,
            &p,
            "W105",
            &format!("/steps/{review}/id"),
            "detail",
        );
        assert!(
            en.starts_with("Step «Review the documents") && !en.contains("detail"),
            "{en}"
        );
        for (code, ..) in TEXTS {
            for lang in Lang::ALL {
                let t = lint_text(lang, &p, code, "/steps/0/id", "");
                assert!(!t.contains('{'), "{code} {lang:?}: {t}");
            }
        }
        // A code without words of its own keeps the linter's.
        assert_eq!(lint_text(Lang::Ru, &p, "W999", "", "as is"), "as is");
    }
}
