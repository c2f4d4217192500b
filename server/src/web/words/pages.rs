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
    ("receipt_contacts", "Байланыс", "Контакты", "Contacts"),
    (
        "receipt_documents",
        "Қабылданған құжаттар",
        "Принятые документы",
        "Documents received",
    ),
    (
        "receipt_status_qr",
        "Өтініштің күйін осы мекенжай бойынша тексеріңіз",
        "Проверить статус заявления по этому адресу",
        "Check the application's status at this address",
    ),
];
