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
    (
        "regulation_words_only_in",
        "Регламент кейбір сөздерін (нысан өрістерінің атаулары, құжаттан үзінділер) тек мына тілде береді: {langs}.",
        "Часть слов регламента (названия полей форм, цитаты документа) дана только на языке: {langs}.",
        "The regulation gives some of its words (form field titles, quotes of the paper) only in {langs}.",
    ),
    ("in_kk", "қазақ тілі", "казахский", "Kazakh"),
    ("in_ru", "орыс тілі", "русский", "Russian"),
    ("in_en", "ағылшын тілі", "английский", "English"),
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
