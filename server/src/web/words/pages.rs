//! The words of the pages' shared parts (web/recorded.rs, the receipt, …), `(key, kk, ru, en)`.

pub const WORDS: &[(&str, &str, &str, &str)] = &[
    (
        "recorded_steps",
        "Алдыңғы қадамдарда жазылғаны",
        "Что записано на предыдущих шагах",
        "What the steps recorded",
    ),
    ("next_step", "Келесі қадам", "Следующий шаг", "Next step"),
    (
        "astana_time",
        "Астана уақыты",
        "время Астаны",
        "Astana time",
    ),
    ("identifier", "Идентификатор", "Идентификатор", "Identifier"),
];
