//! The interface's own words in Kazakh, Russian and English. A regulation's names (services,
//! steps, roles, channels, outcomes) come from its YAML in each language; everything else
//! the pages say is here.

use std::collections::HashMap;
use std::sync::OnceLock;

use reglament_model::text::Lang;
use reglament_runtime::FieldRule;

/// `(key, kk, ru, en)`.
const WORDS: &[(&str, &str, &str, &str)] = &[
    ("app", "Reglament", "Reglament", "Reglament"),
    // The public status page (web/status.rs) and the notification settings (notify/).
    (
        "status_title",
        "Өтінішім қай кезеңде?",
        "Где моё заявление?",
        "Where is my application?",
    ),
    (
        "status_intro",
        "Талондағы тіркеу нөмірін және өтініш берушінің ЖСН-ін енгізіңіз: өтініштің күйі мен нәтиженің мерзімі көрсетіледі.",
        "Введите регистрационный номер с талона и ИИН заявителя: будут показаны статус заявления и срок результата.",
        "Enter the registration number from the receipt and the applicant's IIN to see the application's status and when the result is due.",
    ),
    (
        "status_iin",
        "Өтініш берушінің ЖСН-і",
        "ИИН заявителя",
        "Applicant's IIN",
    ),
    ("status_check", "Тексеру", "Проверить", "Check"),
    ("status_state", "Күйі", "Статус", "Status"),
    (
        "status_open",
        "Қаралуда",
        "На рассмотрении",
        "Being processed",
    ),
    (
        "status_ready",
        "Нәтиже дайын",
        "Результат готов",
        "Result ready",
    ),
    (
        "status_cancelled",
        "Тіркеу жойылды",
        "Регистрация аннулирована",
        "Registration cancelled",
    ),
    (
        "status_no_due",
        "Мерзім белгіленбеген",
        "Срок не установлен",
        "No term set",
    ),
    (
        "status_not_found",
        "Осы нөмір мен ЖСН бойынша өтініш табылмады. Талондағы нөмірді және ЖСН-ді тексеріңіз.",
        "Заявление с таким номером и ИИН не найдено. Проверьте номер с талона и ИИН.",
        "No application matches this number and IIN. Check the number on the receipt and the IIN.",
    ),
    (
        "status_too_many",
        "Сіздің мекенжайыңыздан тым көп сұрау келді; кейінірек қайталаңыз.",
        "Слишком много запросов с вашего адреса; повторите позже.",
        "Too many lookups from your address; try again later.",
    ),
    (
        "notify_title",
        "Хабарламалар",
        "Уведомления",
        "Notifications",
    ),
    (
        "notify_email",
        "Электрондық пошта",
        "Электронная почта",
        "E-mail",
    ),
    (
        "notify_language",
        "Хабарламалар тілі",
        "Язык уведомлений",
        "Language of notices",
    ),
    (
        "notify_kind_task",
        "Маған немесе рөліме жаңа тапсырма",
        "Новая задача мне или моей роли",
        "A new task for me or my role",
    ),
    (
        "notify_kind_warning",
        "Тапсырмамның мерзімі жақындады",
        "Срок моей задачи подходит",
        "My task is running out of time",
    ),
    (
        "notify_kind_breach",
        "Тапсырмамның мерзімі өтті",
        "Срок моей задачи нарушен",
        "My task is overdue",
    ),
    (
        "notify_kind_escalation",
        "Басшы ретінде маған эскалация",
        "Эскалация мне как руководителю",
        "An escalation to me as head",
    ),
    (
        "notify_kind_digest",
        "Мекемемнің мерзімі өткен тапсырмалары, күн сайын жұмыс басында",
        "Просроченные задачи моего учреждения, каждый день к открытию",
        "My office's overdue tasks, daily at opening",
    ),
    ("notify_mode_now", "Бірден", "Сразу", "At once"),
    (
        "notify_mode_opening",
        "Жұмыс уақытында",
        "В рабочее время",
        "In office hours",
    ),
    ("notify_mode_off", "Жібермеу", "Не присылать", "Never"),
    ("notify_save", "Сақтау", "Сохранить", "Save"),
    (
        "notify_saved",
        "Баптаулар сақталды",
        "Настройки сохранены",
        "Settings saved",
    ),
    (
        "notify_bad_email",
        "Электрондық пошта мекенжайы қате",
        "Неверный адрес электронной почты",
        "Not an e-mail address",
    ),
    ("inbox", "Кіріс тапсырмалар", "Входящие задачи", "Inbox"),
    (
        "register",
        "Өтінішті тіркеу",
        "Регистрация заявления",
        "Register an application",
    ),
    ("regulations", "Регламенттер", "Регламенты", "Regulations"),
    (
        "dashboard",
        "Бақылау тақтасы",
        "Панель руководителя",
        "Dashboard",
    ),
    ("analyst", "Талдаушы", "Аналитик", "Analyst"),
    (
        "report",
        "Сәйкестік есебі",
        "Отчёт о соблюдении",
        "Compliance report",
    ),
    ("sign_in", "Кіру", "Войти", "Sign in"),
    ("sign_out", "Шығу", "Выйти", "Sign out"),
    ("login", "Логин", "Логин", "Login"),
    ("password", "Құпиясөз", "Пароль", "Password"),
    ("language", "Тіл", "Язык", "Language"),
    ("signed_in_as", "Жүйеде", "Вы вошли как", "Signed in as"),
    (
        "wrong_password",
        "Логин немесе құпиясөз қате, не тіркелгі өшірілген",
        "Неверный логин или пароль, либо учётная запись отключена",
        "The login or the password is wrong, or the account is disabled",
    ),
    (
        "rate_limited",
        "Сәтсіз әрекеттер тым көп; кейінірек қайталаңыз",
        "Слишком много неудачных попыток; повторите позже",
        "Too many failed sign-ins; try again later",
    ),
    (
        "change_password",
        "Құпиясөзді өзгерту",
        "Смена пароля",
        "Change password",
    ),
    (
        "current_password",
        "Қазіргі құпиясөз",
        "Текущий пароль",
        "Current password",
    ),
    (
        "new_password",
        "Жаңа құпиясөз",
        "Новый пароль",
        "New password",
    ),
    (
        "repeat_password",
        "Жаңа құпиясөзді қайталаңыз",
        "Повторите новый пароль",
        "Repeat the new password",
    ),
    (
        "must_change_password",
        "Сіздің құпиясөзіңізді басқа адам орнатқан. Жұмысты жалғастыру үшін оны өзгертіңіз.",
        "Ваш пароль задан другим человеком. Чтобы продолжить работу, смените его.",
        "Your password was set by someone else. Change it to go on.",
    ),
    (
        "password_rules",
        "Кемінде 10 таңба, оның ішінде кемінде 4 түрлі таңба; логинсіз және жиі қолданылатын құпиясөздер тізімінен емес.",
        "Не менее 10 символов, из них не менее 4 разных; без логина и не из списка распространённых паролей.",
        "At least 10 characters, 4 of them different; without your login and not a commonly used password.",
    ),
    (
        "password_changed",
        "Құпиясөз өзгертілді; басқа сеанстарыңыз аяқталды",
        "Пароль изменён; другие ваши сеансы завершены",
        "Password changed; your other sessions have ended",
    ),
    (
        "passwords_differ",
        "Жаңа құпиясөздер сәйкес келмейді",
        "Новые пароли не совпадают",
        "The new passwords do not match",
    ),
    (
        "wrong_current_password",
        "Қазіргі құпиясөз қате",
        "Текущий пароль указан неверно",
        "The current password is wrong",
    ),
    (
        "password_too_short",
        "Құпиясөз кемінде 10 таңбадан тұруы керек",
        "Пароль должен быть не короче 10 символов",
        "A password has at least 10 characters",
    ),
    (
        "password_too_long",
        "Құпиясөз тым ұзын (1024 байттан аспауы керек)",
        "Пароль слишком длинный (не более 1024 байт)",
        "The password is too long (at most 1,024 bytes)",
    ),
    (
        "password_too_few_characters",
        "Құпиясөзде кемінде 4 түрлі таңба болуы керек",
        "В пароле должно быть не менее 4 разных символов",
        "A password has at least 4 different characters",
    ),
    (
        "password_contains_login",
        "Құпиясөзде логин болмауы керек",
        "Пароль не должен содержать логин",
        "The password must not contain your login",
    ),
    (
        "password_common",
        "Бұл құпиясөз тым жиі қолданылады; басқасын таңдаңыз",
        "Этот пароль слишком распространён; выберите другой",
        "This password is too common; choose another",
    ),
    (
        "bad_form",
        "Форма қабылданбады: оның мәтіні UTF-8 кодтауында болуы керек",
        "Форма не принята: её текст должен быть в кодировке UTF-8",
        "The form was refused: its text must be UTF-8",
    ),
    (
        "text_too_long",
        "Мәтін тым ұзын",
        "Текст слишком длинный",
        "The text is too long",
    ),
    ("case", "Іс", "Дело", "Case"),
    ("step", "Қадам", "Шаг", "Step"),
    ("applicant", "Өтініш беруші", "Заявитель", "Applicant"),
    ("due", "Мерзімі", "Срок", "Due"),
    ("time_left", "Қалған уақыт", "Осталось", "Time left"),
    ("office", "Бөлім", "Отдел", "Office"),
    ("role", "Рөл", "Роль", "Role"),
    ("status", "Күйі", "Статус", "Status"),
    ("service", "Қызмет", "Услуга", "Service"),
    ("channel", "Арна", "Канал", "Channel"),
    ("claim", "Алу", "Взять", "Claim"),
    ("open", "Ашық", "Открыта", "Open"),
    (
        "state_claimed_by",
        "{} орындауда",
        "В работе у {}",
        "Being worked on by {}",
    ),
    (
        "state_unclaimed",
        "Орындаушыны күтуде",
        "Ожидает исполнителя",
        "Waiting for someone to take it",
    ),
    (
        "state_completed_by",
        "{} орындады",
        "Выполнена: {}",
        "Completed by {}",
    ),
    (
        "no_open_tasks",
        "Ашық тапсырмалар жоқ",
        "Открытых задач нет",
        "No open tasks",
    ),
    ("claimed", "Алынған", "Взята", "Claimed"),
    (
        "claimed_by_me",
        "Мен алғандар",
        "Взятые мной",
        "Claimed by me",
    ),
    (
        "overdue_only",
        "Тек мерзімі өткендер",
        "Только просроченные",
        "Overdue only",
    ),
    ("all_roles", "Барлық рөлдер", "Все роли", "All roles"),
    (
        "all_offices",
        "Барлық бөлімдер",
        "Все отделы",
        "All offices",
    ),
    ("filter", "Сүзу", "Показать", "Filter"),
    (
        "tasks_shown",
        "Көрсетілген тапсырмалар",
        "Показано задач",
        "Tasks shown",
    ),
    ("overdue", "Мерзімі өткен", "Просрочено", "Overdue"),
    ("no_tasks", "Тапсырма жоқ", "Задач нет", "No tasks"),
    (
        "working_time",
        "жұмыс уақыты",
        "рабочего времени",
        "working time",
    ),
    ("overdue_by", "мерзімі өтті", "просрочено на", "overdue by"),
    ("working_day_1", "жұмыс күні", "рабочий день", "working day"),
    ("working_days", "жұмыс күні", "рабочих дня", "working days"),
    ("h", "сағ", "ч", "h"),
    ("min", "мин", "мин", "min"),
    ("no_term", "мерзімсіз", "без срока", "no term"),
    (
        "edit_version",
        "Осы нұсқадан бастап өңдеу",
        "Редактировать на основе этой версии",
        "Edit, starting from this version",
    ),
    (
        "action_refused",
        "Әрекет орындалмады. Бетті жаңартып, қайталап көріңіз; қате қайталанса, әкімшіге хабарлаңыз.",
        "Действие не выполнено. Обновите страницу и повторите; если ошибка повторится, сообщите администратору.",
        "The action was not done. Reload the page and try again; if it happens again, tell an administrator.",
    ),
    (
        "expected_on",
        "{} болжанады (заңды мерзім емес)",
        "ожидается {} (не установленный законом срок)",
        "expected {} (not a statutory due date)",
    ),
    (
        "no_statutory_term_note",
        "Регламент бұл арна үшін нәтиже мерзімін белгілемейді. Болжамды күн — регламенттегі қадамдар уақытының қосындысы, кеңсенің жұмыс күнтізбесі бойынша.",
        "Регламент не устанавливает срок результата для этого канала. Ожидаемая дата — сумма времени шагов регламента по рабочему календарю офиса.",
        "The regulation states no term for the result on this channel. The expected date is the sum of its steps' times on the office's working calendar.",
    ),
    ("open_task", "Ашу", "Открыть", "Open"),
    ("task", "Тапсырма", "Задача", "Task"),
    (
        "extended_term",
        "Құжаттар толық болмағанда",
        "При неполном пакете документов",
        "With documents missing",
    ),
    ("step_kind_task", "тапсырма", "задача", "task"),
    ("step_kind_system", "жүйе", "система", "system"),
    ("step_kind_dispatch", "жіберу", "отправка", "dispatch"),
    ("step_kind_exclusive", "таңдау", "ветвление", "branch"),
    ("step_kind_parallel", "параллель", "параллельно", "parallel"),
    ("step_kind_join", "біріктіру", "слияние", "join"),
    ("step_kind_end", "соңы", "конец", "end"),
    ("case_data", "Іс деректері", "Данные дела", "Case data"),
    ("history", "Тарих", "История", "History"),
    ("when", "Уақыты", "Когда", "When"),
    ("who", "Кім", "Кто", "Who"),
    ("what", "Не", "Что", "What"),
    ("outcome", "Нәтиже", "Результат", "Outcome"),
    ("reason", "Себебі", "Причина", "Reason"),
    (
        "reason_help",
        "Бас тарту немесе қайтару үшін міндетті",
        "Обязательна для отказа или возврата",
        "Required for a refusal or a return",
    ),
    ("form", "Қадам нысаны", "Форма шага", "Step form"),
    ("complete", "Аяқтау", "Завершить", "Complete"),
    (
        "legal_source",
        "Құқықтық негіз",
        "Правовое основание",
        "Legal source",
    ),
    (
        "fix_errors",
        "Нысандағы қателерді түзетіңіз",
        "Исправьте ошибки в форме",
        "Fix the errors in the form",
    ),
    (
        "claim_first",
        "Тапсырманы аяқтау кезінде сізге беріледі",
        "Задача будет взята вами при завершении",
        "The task is claimed by you when you complete it",
    ),
    (
        "task_closed",
        "Тапсырма жабық",
        "Задача закрыта",
        "The task is closed",
    ),
    (
        "already_done",
        "Бұл тапсырманы сіз аяқтап қойдыңыз",
        "Вы уже завершили эту задачу",
        "You have already completed this task",
    ),
    ("done", "Орындалды", "Выполнено", "Done"),
    ("release", "Рөлге қайтару", "Вернуть роли", "Release"),
    (
        "released_ok",
        "Тапсырма рөлге қайтарылды",
        "Задача возвращена роли",
        "The task is back with its role",
    ),
    (
        "reassign",
        "Басқа қызметкерге беру",
        "Передать другому сотруднику",
        "Hand to someone else",
    ),
    ("reassign_to", "Кімге", "Кому", "To"),
    ("assigned_to", "Тағайындалған", "Назначена", "Assigned to"),
    (
        "to_the_role",
        "Рөлдің барлық қызметкерлеріне",
        "Всем сотрудникам роли",
        "Everyone with the role",
    ),
    (
        "reassigned_ok",
        "Тапсырма басқа қызметкерге берілді",
        "Задача передана",
        "The task was handed on",
    ),
    (
        "cannot_take_task",
        "Бұл қызметкер бұл тапсырманы ала алмайды: оның осы бөлімшеде бұл рөлі жоқ",
        "Этот сотрудник не может взять задачу: у него нет этой роли в этом отделе",
        "This person cannot take the task: they do not hold its role in this office",
    ),
    (
        "claimed_ok",
        "Тапсырма сізге берілді",
        "Задача взята",
        "The task is yours",
    ),
    (
        "registration_number",
        "Тіркеу нөмірі",
        "Регистрационный номер",
        "Registration number",
    ),
    (
        "result_due",
        "Нәтиже беру мерзімі",
        "Срок выдачи результата",
        "Result due",
    ),
    ("provisional", "алдын ала", "предварительно", "provisional"),
    (
        "due_provisional_note",
        "Мерзім алдын ала күнтізбе бойынша есептелді: сол жылдың мерекелері мен демалыс күндерін ауыстыру әлі бекітілмеген, олар бекітілгенде мерзім өзгеруі мүмкін.",
        "Срок рассчитан по предварительному календарю: праздники и переносы выходных дней на этот год ещё не утверждены, после их утверждения срок может измениться.",
        "The due date was counted on a provisional calendar: that year's holidays and transfers of days off are not decreed yet, and the date may change once they are.",
    ),
    ("receipt", "Талон", "Талон", "Receipt (talon)"),
    (
        "receipt_for",
        "Құжаттарды қабылдау туралы талон",
        "Талон о приёме документов",
        "Receipt for the documents",
    ),
    (
        "registered_at",
        "Тіркелген уақыты",
        "Дата регистрации",
        "Registered at",
    ),
    ("registered_by", "Тіркеген", "Принял", "Registered by"),
    ("print", "Басып шығару", "Печать", "Print"),
    (
        "choose_service",
        "Қызметті таңдаңыз",
        "Выберите услугу",
        "Choose the service",
    ),
    ("next", "Әрі қарай", "Далее", "Next"),
    (
        "applicant_data",
        "Өтініш берушінің деректері",
        "Данные заявителя",
        "Applicant data",
    ),
    (
        "statutory_term",
        "Заңды мерзім",
        "Нормативный срок",
        "Statutory term",
    ),
    (
        "nothing_to_register",
        "Сізде өтініш тіркеу рөлі жоқ",
        "У вас нет роли для регистрации заявлений",
        "You hold no role that registers applications",
    ),
    // When a regulation is in force (server/src/versions.rs): the registration pages' reasons.
    (
        "not_in_force",
        "Бұл қызметтің регламенті бүгін күшінде емес",
        "Регламент этой услуги сегодня не действует",
        "The regulation of this service is not in force today",
    ),
    (
        "not_in_force_repealed",
        "Бұл қызметтің регламенті {date} бастап күшін жойды ({act}), ал күшіндегі жаңа нұсқасы жоқ",
        "Регламент этой услуги утратил силу с {date} ({act}), а новой действующей редакции нет",
        "The regulation of this service was repealed from {date} ({act}), and no later version is in force",
    ),
    (
        "not_in_force_ended",
        "Бұл қызметтің регламенті {last} дейін қолданылды, ал күшіндегі жаңа нұсқасы жоқ",
        "Регламент этой услуги действовал по {last}, а новой действующей редакции нет",
        "The regulation of this service applied until {last}, and no later version is in force",
    ),
    (
        "not_in_force_yet",
        "Регламент {from} бастап күшіне енеді",
        "Регламент вступает в силу {from}",
        "The regulation takes effect on {from}",
    ),
    ("error", "Қате", "Ошибка", "Error"),
    ("not_found", "Табылмады", "Не найдено", "Not found"),
    (
        "not_found_detail",
        "Мұндай бет жоқ немесе сізге көрінбейді",
        "Такой страницы нет, или она вам не видна",
        "There is no such page, or it is not visible to you",
    ),
    ("forbidden", "Рұқсат жоқ", "Доступ запрещён", "Forbidden"),
    (
        "csrf_failed",
        "Нысан ескірген немесе басқа беттен жіберілген. Бетті жаңартып, қайталаңыз.",
        "Форма устарела или отправлена с чужой страницы. Обновите страницу и повторите.",
        "The form is stale or was sent from another page. Reload the page and try again.",
    ),
    ("conflict", "Қайшылық", "Конфликт", "Conflict"),
    ("back", "Артқа", "Назад", "Back"),
    ("yes", "иә", "да", "yes"),
    ("no", "жоқ", "нет", "no"),
    ("row", "Жол", "Строка", "Row"),
    (
        "one_per_line",
        "Әр жолға біреуден",
        "По одному на строку",
        "One per line",
    ),
    ("diagram", "Диаграмма", "Диаграмма", "Diagram"),
    ("steps", "Қадамдар", "Шаги", "Steps"),
    ("duration", "Ұзақтығы", "Длительность", "Duration"),
    ("versions", "Нұсқалар", "Версии", "Versions"),
    ("version", "Нұсқа", "Версия", "Version"),
    ("deployed_at", "Енгізілген", "Развёрнута", "Deployed"),
    ("deployed_by", "Енгізген", "Кем", "By"),
    (
        "lint_warnings",
        "Линтер ескертулері",
        "Предупреждения линтера",
        "Lint warnings",
    ),
    (
        "no_warnings",
        "Ескерту жоқ",
        "Предупреждений нет",
        "No warnings",
    ),
    ("changes", "Өзгерістер", "Изменения", "Changes"),
    (
        "yaml_text",
        "Регламент мәтіні (YAML)",
        "Текст регламента (YAML)",
        "Regulation text (YAML)",
    ),
    ("yaml_file", "немесе файл", "или файл", "or a file"),
    ("validate", "Тексеру", "Проверить", "Validate"),
    ("deploy", "Енгізу", "Развернуть", "Deploy"),
    ("clean", "Қате жоқ", "Ошибок нет", "No errors"),
    ("deployed_ok", "Енгізілді", "Развёрнуто", "Deployed"),
    ("line", "Жол", "Строка", "Line"),
    ("column", "Баған", "Столбец", "Column"),
    ("code", "Код", "Код", "Code"),
    ("message", "Хабар", "Сообщение", "Message"),
    ("timeline", "Уақыт сызығы", "Хронология", "Timeline"),
    ("taken", "Жұмсалды", "Затрачено", "Taken"),
    ("allowed", "Рұқсат", "Норматив", "Allowed"),
    ("breach", "Бұзушылық", "Нарушение", "Breach"),
    ("breaches", "Бұзушылықтар", "Нарушения", "Breaches"),
    (
        "chain_ok",
        "Хэш тізбегі тексерілді",
        "Цепочка хэшей проверена",
        "Hash chain verified",
    ),
    (
        "chain_bad",
        "Хэш тізбегі бұзылған",
        "Цепочка хэшей нарушена",
        "Hash chain broken",
    ),
    (
        "current_step",
        "Ағымдағы қадам",
        "Текущий шаг",
        "Current step",
    ),
    ("ended", "Аяқталды", "Завершено", "Ended"),
    ("result", "Нәтижесі", "Итог", "Result"),
    ("open_cases", "Ашық істер", "Открытые дела", "Open cases"),
    (
        "open_tasks",
        "Ашық тапсырмалар",
        "Открытые задачи",
        "Open tasks",
    ),
    ("due_today", "Бүгін мерзімі", "Срок сегодня", "Due today"),
    ("per_step", "Қадамдар бойынша", "По шагам", "By step"),
    (
        "per_person",
        "Қызметкерлер бойынша",
        "По сотрудникам",
        "By person",
    ),
    ("unclaimed", "Ешкім алмаған", "Никем не взята", "Unclaimed"),
    ("cases", "Істер", "Дела", "Cases"),
    ("granted", "Берілді", "Оказано", "Granted"),
    ("refused", "Бас тартылды", "Отказано", "Refused"),
    ("returned", "Қайтарылды", "Возвращено", "Returned"),
    ("appendix", "Қосымша", "Приложение", "Appendix"),
    ("table", "Кесте", "Таблица", "Table"),
    ("action", "Әрекет", "Действие", "Action"),
    ("paragraph", "Тармақ", "Пункт", "Paragraph"),
    ("quote", "Дәйексөз", "Цитата", "Quote"),
    ("all_tasks", "Барлығы", "Все", "All"),
    (
        "case_started",
        "Өтініш тіркелді",
        "Заявление зарегистрировано",
        "Application registered",
    ),
    (
        "task_opened",
        "Тапсырма ашылды",
        "Задача открыта",
        "Task opened",
    ),
    (
        "task_claimed",
        "Тапсырма алынды",
        "Задача взята",
        "Task claimed",
    ),
    (
        "task_released",
        "Тапсырма қайтарылды",
        "Задача возвращена",
        "Task released",
    ),
    (
        "task_reassigned",
        "Тапсырма берілді",
        "Задача передана",
        "Task reassigned",
    ),
    (
        "task_completed",
        "Тапсырма орындалды",
        "Задача выполнена",
        "Task completed",
    ),
    (
        "task_cancelled",
        "Тапсырма тоқтатылды",
        "Задача отменена",
        "Task cancelled",
    ),
    (
        "branch_taken",
        "Тармақ таңдалды",
        "Выбрана ветвь",
        "Branch taken",
    ),
    (
        "split",
        "Параллель жолдар",
        "Параллельные пути",
        "Parallel split",
    ),
    (
        "join_arrived",
        "Жолдар қосылды",
        "Слияние путей",
        "Paths joined",
    ),
    (
        "dispatch_queued",
        "Жөнелтуді күтуде",
        "Ожидает отправки",
        "Waiting for dispatch",
    ),
    (
        "dispatch_released",
        "Жөнелтілді",
        "Отправлено",
        "Dispatched",
    ),
    (
        "documents_missing",
        "Құжаттар жетіспейді",
        "Не хватает документов",
        "Documents missing",
    ),
    (
        "deadline_breached",
        "Мерзім бұзылды",
        "Срок нарушен",
        "Deadline breached",
    ),
    (
        "escalation_notified",
        "Басшыға хабарланды",
        "Эскалация",
        "Escalated",
    ),
    ("case_ended", "Іс аяқталды", "Дело завершено", "Case ended"),
    (
        "case_cancelled",
        "Іс тоқтатылды",
        "Дело отменено",
        "Case cancelled",
    ),
    ("incidents", "Инциденттер", "Инциденты", "Incidents"),
    (
        "incidents_help",
        "Жүйе жолын жалғастыра алмаған істер: шарт есептелмеді немесе мерзім күнтізбеден тыс. Әкімші деректерді түзетіп немесе күнтізбені ұзартып, қайталайды.",
        "Дела, путь которых система не смогла продолжить: условие не вычислено или срок за пределами календаря. Администратор исправляет данные или продлевает календарь и повторяет шаг.",
        "Cases whose path the engine could not take on: a condition could not be evaluated, or a deadline lies beyond the calendar. An administrator corrects the data or extends the calendar, then retries.",
    ),
    (
        "no_incidents",
        "Ашық инциденттер жоқ.",
        "Открытых инцидентов нет.",
        "No open incidents.",
    ),
    ("incident_cause", "Себебі", "Причина", "Cause"),
    ("event", "оқиға", "событие", "event"),
    ("changed", "өзгертілген", "изменено", "changed"),
    ("deleted", "жойылған", "удалено", "deleted"),
    ("inserted", "қосылған", "вставлено", "inserted"),
    (
        "reordered",
        "орны ауыстырылған",
        "переставлено",
        "reordered",
    ),
    (
        "held_cases",
        "Тарихы тексерілмейтін істер",
        "Дела, история которых не проходит проверку",
        "Cases whose history does not verify",
    ),
    (
        "held_help",
        "Бұл істердің сақталған тарихы өзгертілген: оларға ештеңе жазылмайды. Дерекқорды сақтық көшірмеден қалпына келтіріп, reglament audit verify арқылы тексеріңіз.",
        "Сохранённая история этих дел изменена: в них больше ничего не записывается. Восстановите базу из резервной копии и проверьте её командой reglament audit verify.",
        "The stored history of these cases was changed: nothing more is recorded on them. Restore the database from a backup and check it with reglament audit verify.",
    ),
    ("next_page", "Келесі бет", "Следующая страница", "Next page"),
    ("retry", "Қайталау", "Повторить", "Retry"),
    ("resolved_at", "Шешілді", "Устранён", "Resolved"),
    (
        "reason_required",
        "Себебін көрсетіңіз.",
        "Укажите причину.",
        "Give a reason.",
    ),
    (
        "corrected_data",
        "Түзетілген деректер (JSON)",
        "Исправленные данные (JSON)",
        "Corrected data (JSON)",
    ),
    (
        "corrected_data_help",
        "Тек түзетілетін өрістер, мысалы {\"family_size\": 2}. Бос қалдырсаңыз, деректер өзгермейді.",
        "Только исправляемые поля, например {\"family_size\": 2}. Оставьте пустым, если данные не меняются.",
        "Only the fields to correct, e.g. {\"family_size\": 2}. Leave empty when the data stays as it is.",
    ),
    (
        "correction_not_object",
        "Түзетулер JSON нысаны болуы керек, мысалы {\"family_size\": 2}.",
        "Исправления должны быть объектом JSON, например {\"family_size\": 2}.",
        "The corrections must be a JSON object, e.g. {\"family_size\": 2}.",
    ),
    (
        "incident_retried",
        "Инцидент шешілді, іс жалғасты.",
        "Инцидент устранён, дело продолжено.",
        "Incident resolved: the case went on.",
    ),
    ("warning", "Ескерту", "Предупреждение", "Warning"),
    (
        "warnings_scheduled",
        "Ескертулер жоспарланды",
        "Запланированы предупреждения",
        "Warnings scheduled",
    ),
    (
        "deadline_warned",
        "Мерзім туралы ескерту",
        "Предупреждение о сроке",
        "Deadline warning",
    ),
    (
        "incident_opened",
        "Іс тоқтап қалды (инцидент)",
        "Дело остановлено (инцидент)",
        "Case stopped (incident)",
    ),
    (
        "incident_resolved",
        "Инцидент шешілді",
        "Инцидент устранён",
        "Incident resolved",
    ),
    (
        "condition-failed",
        "шарт есептелмеді",
        "условие не вычислено",
        "a condition could not be evaluated",
    ),
    (
        "no-branch",
        "бірде-бір шарт орындалмады",
        "ни одно условие не выполнено",
        "no condition held",
    ),
    (
        "beyond-calendar",
        "мерзім күнтізбеден тыс",
        "срок за пределами календаря",
        "the deadline is beyond the calendar",
    ),
    (
        "before-calendar",
        "мерзім күнтізбеден бұрын",
        "срок раньше начала календаря",
        "the deadline is before the calendar",
    ),
    ("completed", "Орындалды", "Выполнена", "Completed"),
    ("cancelled", "Тоқтатылды", "Отменена", "Cancelled"),
    ("withdrawn", "Қайтарып алынды", "Отозвано", "Withdrawn"),
    ("page_time", "Бет", "Страница", "Page"),
    (
        "deadlines_rescheduled",
        "Мерзімдер жаңа күнтізбе бойынша қайта есептелді",
        "Сроки пересчитаны по новому календарю",
        "Deadlines recomputed on a new calendar",
    ),
    (
        "days_changed",
        "Өзгерген күндер",
        "Изменённые дни",
        "Days changed",
    ),
    ("case_term", "Істің мерзімі", "Срок дела", "The case's term"),
    (
        "route_unresolved",
        "Бұл мекеме құжаттарды қай уәкілетті органға жіберетіні көрсетілмеген",
        "Для этого учреждения не указан уполномоченный орган, куда передаются документы",
        "This office names no provider office it forwards applications to",
    ),
    // Migration of running cases onto a new regulation version.
    (
        "case_migrated",
        "Іс регламенттің жаңа нұсқасына ауыстырылды",
        "Дело переведено на новую версию регламента",
        "Case moved to a new version of the regulation",
    ),
    ("migration_basis", "Негіздеме", "Основание", "Legal basis"),
    (
        "case_handed_over",
        "Іс басқа мекемеге берілді",
        "Дело передано в другое учреждение",
        "Case handed over to another office",
    ),
    (
        "task_suspended",
        "Мерзімнің өтуі тоқтатылды",
        "Течение срока приостановлено",
        "Time stopped (suspended)",
    ),
    (
        "task_resumed",
        "Мерзімнің өтуі қайта басталды",
        "Течение срока возобновлено",
        "Time running again (resumed)",
    ),
    (
        "case_term_stopped",
        "істің мерзімі де тоқтатылды",
        "срок дела также приостановлен",
        "the case's term stopped too",
    ),
    (
        "suspended_for",
        "Тоқтатылған жұмыс уақыты",
        "Приостановлено рабочего времени",
        "Working time suspended",
    ),
    // Suspending and resuming a task's time (the task page and the inbox).
    (
        "suspended",
        "Уақытша тоқтатылған",
        "Приостановлена",
        "Suspended",
    ),
    (
        "suspended_since",
        "Уақытша тоқтатылды: {}",
        "Приостановлена с {}",
        "Suspended since {}",
    ),
    (
        "suspend_task",
        "Мерзімнің өтуін уақытша тоқтату",
        "Приостановить течение срока",
        "Suspend the task's time",
    ),
    ("suspend", "Уақытша тоқтату", "Приостановить", "Suspend"),
    ("resume", "Қайта бастау", "Возобновить", "Resume"),
    (
        "suspension_reason",
        "Тоқтату негізі",
        "Основание приостановления",
        "Reason for suspending",
    ),
    ("comment", "Түсініктеме", "Комментарий", "Comment"),
    (
        "suspend_help",
        "Мерзім қайта басталғанда, тапсырманың (және негіз оны да тоқтатса, істің) мерзімі тоқтатылған жұмыс уақытына ұзарады.",
        "При возобновлении срок задачи (и дела, если основание приостанавливает и его) продлевается на приостановленное рабочее время.",
        "On resuming, the task's due date (and the case's, when the reason stops it too) moves by the working time suspended.",
    ),
    (
        "suspended_ok",
        "Тапсырма мерзімінің өтуі уақытша тоқтатылды",
        "Течение срока задачи приостановлено",
        "The task's time is suspended",
    ),
    (
        "resumed_ok",
        "Тапсырма мерзімінің өтуі қайта басталды",
        "Течение срока задачи возобновлено",
        "The task's time runs again",
    ),
    (
        "already_suspended",
        "Тапсырма бұрыннан уақытша тоқтатылған",
        "Задача уже приостановлена",
        "The task is suspended already",
    ),
    (
        "not_suspended",
        "Тапсырма уақытша тоқтатылмаған: мерзімі өтіп жатыр",
        "Задача не приостановлена: срок идёт",
        "The task is not suspended: its time is running",
    ),
    (
        "resume_to_complete",
        "Тапсырма уақытша тоқтатылған: оны орындау үшін алдымен мерзімді қайта бастаңыз",
        "Задача приостановлена: чтобы её выполнить, сначала возобновите течение срока",
        "The task is suspended: resume it before completing it",
    ),
    (
        "choose_suspension_reason",
        "Регламент рұқсат ететін тоқтату негізін таңдаңыз",
        "Выберите основание приостановления, которое допускает регламент",
        "Choose a reason for suspending that the regulation allows",
    ),
    (
        "not_allowed_to_suspend",
        "Мерзімді тапсырманы алған қызметкер немесе басшы ғана тоқтата және қайта бастай алады",
        "Приостановить и возобновить срок может только взявший задачу сотрудник или руководитель",
        "Only the person who took the task, or a head, may suspend or resume it",
    ),
    // Cases across offices: staff of an office the case passed through see its tasks at the
    // other office but may not act on them.
    (
        "task_at_another_office",
        "Бұл тапсырма істің басқа кеңсесінде: оны сол кеңсенің тиісті рөлдегі қызметкерлері ғана орындай алады",
        "Эта задача в другом офисе маршрута дела: действовать по ней могут только сотрудники того офиса с ролью задачи",
        "This task is at another office of the case's route: only that office's staff of the task's role may act on it",
    ),
    // Registering at an office that forwards to several provider offices (by district).
    (
        "forward_to",
        "Өтініш берушінің ауданының бөлімі",
        "Отдел района заявителя",
        "Department of the applicant's district",
    ),
    (
        "forward_to_help",
        "Облыстық орталық өтінішті өтініш берушінің ауданының бөліміне жібереді",
        "Областной центр передаёт заявление в отдел района заявителя",
        "The regional centre hands the application to the department of the applicant's district",
    ),
    (
        "route_choose_department",
        "Бұл кеңсе өтініштерді бірнеше аудандық бөлімге жібереді: өтініш берушінің ауданының бөлімін таңдаңыз",
        "Этот офис передаёт заявления в отделы нескольких районов: выберите отдел района заявителя",
        "This office hands applications to the departments of several districts: choose the applicant's district's department",
    ),
    (
        "route_not_forwarded",
        "Бұл кеңсе өтініштерді мына бөлімге жібермейді",
        "Этот офис не передаёт заявления в этот отдел",
        "This office does not hand applications to this department",
    ),
    // What changed between two versions of a regulation (the regulation page).
    (
        "diff_title",
        "Нұсқалар арасындағы өзгерістер",
        "Что изменилось между версиями",
        "What changed between versions",
    ),
    (
        "diff_from",
        "Бұрынғы нұсқа",
        "Прежняя версия",
        "Old version",
    ),
    ("diff_to", "Жаңа нұсқа", "Новая версия", "New version"),
    ("diff_compare", "Салыстыру", "Сравнить", "Compare"),
    (
        "diff_with_previous",
        "алдыңғысымен салыстыру",
        "сравнить с предыдущей",
        "compare with the previous",
    ),
    (
        "diff_removed_steps",
        "Алынып тасталған қадамдар (жаңа сызбада жоқ)",
        "Удалённые шаги (их нет на новой схеме)",
        "Removed steps (not in the new diagram)",
    ),
    (
        "diff_diagram",
        "Жоғарыдағы сызбада қосылған және өзгертілген қадамдар белгіленген",
        "На схеме выше отмечены добавленные и изменённые шаги",
        "The diagram above marks the added and changed steps",
    ),
    // Migrations of running cases with a second person's approval (web/migrations.rs).
    ("migrations", "Көшірулер", "Миграции", "Migrations"),
    ("migration", "Көшіру", "Миграция", "Migration"),
    (
        "mig_help",
        "Жұмыстағы істерді регламенттің жаңа нұсқасына көшіру: талдаушы жоспарды ұсынады, әкімші немесе басқа талдаушы бекітеді. Ұсынушы өз ұсынысын бекіте алмайды.",
        "Перевод дел в работе на новую версию регламента: аналитик предлагает план, администратор или другой аналитик утверждает. Предложивший не может утвердить своё предложение.",
        "Moving running cases onto a new version of a regulation: an analyst proposes a plan, an administrator or another analyst approves it. Whoever proposed it cannot approve it.",
    ),
    (
        "mig_none",
        "Көшіру ұсыныстары жоқ.",
        "Предложений миграции нет.",
        "No migrations proposed.",
    ),
    ("mig_proposed_by", "Ұсынған", "Предложил", "Proposed by"),
    (
        "mig_decided_by",
        "Шешім қабылдаған",
        "Решение принял",
        "Decided by",
    ),
    (
        "mig_decision_reason",
        "Шешімнің себебі",
        "Причина решения",
        "Reason for the decision",
    ),
    (
        "mig_propose",
        "Көшіруді ұсыну",
        "Предложить миграцию",
        "Propose a migration",
    ),
    (
        "mig_propose_button",
        "Ұсыну (алдын ала тексерумен)",
        "Предложить (с пробным прогоном)",
        "Propose (with a dry run)",
    ),
    (
        "mig_plan",
        "Көшіру жоспары (YAML)",
        "План миграции (YAML)",
        "Migration plan (YAML)",
    ),
    (
        "mig_plan_errors",
        "Жоспарда қателер бар: төмендегі жолдарды қараңыз.",
        "В плане есть ошибки: см. строки ниже.",
        "The plan has errors: see the lines below.",
    ),
    (
        "mig_status_proposed",
        "Бекітуді күтуде",
        "Ожидает утверждения",
        "Waiting for approval",
    ),
    (
        "mig_status_approved",
        "Бекітілді, орындалуда",
        "Утверждена, выполняется",
        "Approved, running",
    ),
    (
        "mig_status_rejected",
        "Қабылданбады",
        "Отклонена",
        "Rejected",
    ),
    ("mig_status_done", "Орындалды", "Выполнена", "Done"),
    (
        "mig_status_failed",
        "Қатемен тоқтады",
        "Остановлена с ошибкой",
        "Failed",
    ),
    (
        "mig_digest",
        "Жоспардың дайджесті",
        "Дайджест плана",
        "Plan digest",
    ),
    (
        "mig_result",
        "Орындау нәтижесі",
        "Результат выполнения",
        "What the run did",
    ),
    (
        "mig_approve",
        "Бекіту және көшіру",
        "Утвердить и перевести",
        "Approve and migrate",
    ),
    ("mig_reject", "Қабылдамау", "Отклонить", "Reject"),
    (
        "mig_withdraw",
        "Ұсынысты кері қайтару",
        "Отозвать предложение",
        "Withdraw the proposal",
    ),
    (
        "mig_own",
        "Бұл көшіруді сіз ұсындыңыз: оны басқа талдаушы немесе әкімші бекітуі керек.",
        "Эту миграцию предложили вы: утвердить её должен другой аналитик или администратор.",
        "You proposed this migration: another analyst or an administrator must approve it.",
    ),
    (
        "mig_dry_run",
        "Алдын ала тексеру",
        "Пробный прогон",
        "Dry run",
    ),
    (
        "mig_dry_run_help",
        "Ешбір іс өзгертілмеді. Ұсыну сәтіндегі жағдай:",
        "Ни одно дело не изменено. Состояние на момент предложения:",
        "No case was changed. As it stood when proposed:",
    ),
    (
        "mig_truncated",
        "Алғашқы 500 іс көрсетілген; сандар барлық істер бойынша.",
        "Показаны первые 500 дел; числа — по всем делам.",
        "The first 500 cases are shown; the counts cover them all.",
    ),
    ("mig_due_before", "Мерзім бұрын", "Срок до", "Due before"),
    ("mig_due_after", "Мерзім кейін", "Срок после", "Due after"),
    (
        "mig_policy",
        "Мерзім ережесі",
        "Правило срока",
        "Deadline policy",
    ),
    ("mig_warnings", "Ескертулер", "Предупреждения", "Warnings"),
    (
        "mig_selected",
        "Таңдалған ашық істер",
        "Выбрано открытых дел",
        "Open cases selected",
    ),
    (
        "mig_would_move",
        "Көшірілер еді",
        "Будут переведены",
        "Would move",
    ),
    ("mig_migrated", "Көшірілді", "Переведено", "Moved"),
    (
        "mig_not_moved",
        "Көшірілмейді",
        "Не переводятся",
        "Not moved",
    ),
    (
        "mig_into_breach",
        "Мерзімі өтіп кетеді",
        "Окажутся просрочены",
        "Put past due by the move",
    ),
    (
        "mig_warn_case_past_due",
        "істің заңды мерзімі қазіргі сәттен бұрынға жылжиды, іс мерзімі өткен болады",
        "законный срок дела сдвигается раньше текущего момента, дело окажется просроченным",
        "the case's statutory due instant moves before now: the case would be past due",
    ),
    (
        "mig_warn_task_past_due",
        "мерзімі қазіргі сәттен бұрын болады, тапсырма мерзімі өткен болады",
        "срок окажется раньше текущего момента, задача будет просрочена",
        "would be due before now: it would be past due",
    ),
    (
        "mig_warn_loses_role",
        "тапсырма өзінде қалады, бірақ оны аяқтай алмайды: оның рөлі жоқ",
        "задача останется за ним, но завершить её он не сможет: у него нет роли",
        "keeps the task but cannot complete it: they do not hold role",
    ),
    (
        "mig_proposed",
        "Көшіру ұсынылды; енді оны екінші адам бекітуі керек.",
        "Миграция предложена; теперь её должен утвердить второй человек.",
        "Migration proposed; a second person must now approve it.",
    ),
    (
        "mig_approved",
        "Көшіру бекітілді және орындалды.",
        "Миграция утверждена и выполнена.",
        "Migration approved and run.",
    ),
    (
        "mig_rejected",
        "Көшіру қабылданбады.",
        "Миграция отклонена.",
        "Migration rejected.",
    ),
    (
        "mig_decided_already",
        "Бұл көшіру бойынша шешім бұрын қабылданған; ештеңе екінші рет орындалған жоқ.",
        "Решение по этой миграции уже принято; ничего не выполнено повторно.",
        "This migration was decided already; nothing ran twice.",
    ),
];

fn table() -> &'static HashMap<&'static str, [&'static str; 3]> {
    static T: OnceLock<HashMap<&'static str, [&'static str; 3]>> = OnceLock::new();
    T.get_or_init(|| {
        std::iter::once(WORDS)
            .chain(super::words::PARTS.iter().copied())
            .flatten()
            .map(|(k, kk, ru, en)| (*k, [*kk, *ru, *en]))
            .collect()
    })
}

/// The word for `key` in `lang`; the key itself when there is none (a test keeps every
/// key used by the templates in the table).
pub fn t(lang: Lang, key: &str) -> &str {
    match table().get(key) {
        Some(w) => match lang {
            Lang::Kk => w[0],
            Lang::Ru => w[1],
            Lang::En => w[2],
        },
        None => key,
    }
}

/// A broken form rule said in `lang`; `None` for a rule without words of its own (the
/// validator's English message is shown then).
pub fn field_rule(lang: Lang, rule: &FieldRule) -> Option<String> {
    let pick = |kk: String, ru: String, en: String| match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    };
    let s = |x: &str| x.to_string();
    Some(match rule {
        FieldRule::Required => pick(s("Толтыру міндетті"), s("Обязательное поле"), s("Required")),
        FieldRule::Type { expected } => {
            let (kk, ru, en) = match expected.as_str() {
                "integer" => ("бүтін сан", "целое число", "a whole number"),
                "number" => ("сан", "число", "a number"),
                "boolean" => ("иә немесе жоқ", "да или нет", "yes or no"),
                "array" => ("тізім", "список", "a list"),
                "object" => ("бірнеше өріс", "несколько полей", "a group of fields"),
                _ => ("мәтін", "текст", "text"),
            };
            pick(
                format!("Мұнда {kk} керек"),
                format!("Здесь нужно {ru}"),
                format!("This must be {en}"),
            )
        }
        FieldRule::MinLength { limit } => pick(
            format!("Кемінде {limit} таңба"),
            format!("Не менее {limit} символов"),
            format!("At least {limit} characters"),
        ),
        FieldRule::MaxLength { limit } => pick(
            format!("{limit} таңбадан аспауы керек"),
            format!("Не более {limit} символов"),
            format!("At most {limit} characters"),
        ),
        FieldRule::Pattern => pick(
            s("Мән пішімге сәйкес емес"),
            s("Значение не соответствует формату"),
            s("The value does not have the expected form"),
        ),
        FieldRule::Format { format } if format == "date" => pick(
            s("Күнді ЖЖЖЖ-АА-КК түрінде жазыңыз"),
            s("Укажите дату в виде ГГГГ-ММ-ДД"),
            s("Write the date as YYYY-MM-DD"),
        ),
        FieldRule::Format { format } => pick(
            format!("Мән «{format}» пішіміне сәйкес емес"),
            format!("Значение не соответствует формату «{format}»"),
            format!("The value is not a valid {format}"),
        ),
        FieldRule::Minimum { limit } => pick(
            format!("Кемінде {limit}"),
            format!("Не меньше {limit}"),
            format!("At least {limit}"),
        ),
        FieldRule::Maximum { limit } => pick(
            format!("{limit} аспауы керек"),
            format!("Не больше {limit}"),
            format!("At most {limit}"),
        ),
        FieldRule::MinItems { limit } => pick(
            format!("Кемінде {limit} жол"),
            format!("Не менее {limit} строк"),
            format!("At least {limit} rows"),
        ),
        FieldRule::MaxItems { limit } => pick(
            format!("{limit} жолдан аспауы керек"),
            format!("Не более {limit} строк"),
            format!("At most {limit} rows"),
        ),
        FieldRule::Enum => pick(
            s("Ұсынылған мәндердің бірін таңдаңыз"),
            s("Выберите одно из предложенных значений"),
            s("Choose one of the values offered"),
        ),
        FieldRule::Unknown => pick(
            s("Мұндай өріс формада жоқ"),
            s("Такого поля нет в форме"),
            s("The form has no such field"),
        ),
        FieldRule::Other => return None,
    })
}

/// Whether `key` has words.
pub fn known(key: &str) -> bool {
    table().contains_key(key)
}

/// "2 h 15 min working time", "overdue by 1 working day", from working minutes left
/// (negative: overdue). A working day is counted as `day_minutes` of working time.
/// What a refused command means, in `lang`, by the problem's code: the engine's own details
/// are English, for logs and API clients; a page says it in its reader's language.
pub fn problem_text(lang: Lang, code: &str) -> Option<&'static str> {
    const PROBLEMS: &[(&str, &str, &str, &str)] = &[
        (
            "case-closed",
            "Іс жабылған: онымен бұдан әрі жұмыс істеуге болмайды.",
            "Дело закрыто: действия с ним больше невозможны.",
            "The case is closed: nothing more can be done with it.",
        ),
        (
            "task-not-open",
            "Бұл тапсырма енді ашық емес: оны басқа біреу орындады немесе ол тоқтатылды.",
            "Эта задача уже не открыта: её выполнил кто-то другой или она отменена.",
            "This task is no longer open: someone else finished it or it was cancelled.",
        ),
        (
            "wrong-role",
            "Бұл тапсырма сіздің рөліңізге арналмаған.",
            "Эта задача не для вашей роли.",
            "This task is not for your role.",
        ),
        (
            "claimed-by-other",
            "Бұл тапсырманы басқа қызметкер алған.",
            "Эту задачу уже взял другой сотрудник.",
            "Another member of staff has taken this task.",
        ),
        (
            "assigned-to-other",
            "Бұл тапсырма басқа қызметкерге тағайындалған.",
            "Эта задача назначена другому сотруднику.",
            "This task is assigned to another member of staff.",
        ),
        (
            "not-claimed",
            "Алдымен тапсырманы алыңыз.",
            "Сначала возьмите задачу.",
            "Take the task first.",
        ),
        (
            "unknown-outcome",
            "Мұндай шешім бұл қадамда жоқ.",
            "Такого решения на этом шаге нет.",
            "This step has no such decision.",
        ),
        (
            "outcome-required",
            "Шешімді таңдаңыз.",
            "Выберите решение.",
            "Choose a decision.",
        ),
        (
            "reason-required",
            "Бұл шешім үшін себебін жазыңыз.",
            "Для этого решения укажите причину.",
            "Give the reason for this decision.",
        ),
        (
            "invalid-data",
            "Деректерде қате бар: белгіленген өрістерді түзетіңіз.",
            "В данных есть ошибки: исправьте отмеченные поля.",
            "The data has errors: correct the marked fields.",
        ),
        (
            "not-allowed-to-reassign",
            "Тапсырманы тек кеңсе басшысы басқа қызметкерге бере алады.",
            "Передать задачу другому сотруднику может только руководитель офиса.",
            "Only the head of the office may hand a task to someone else.",
        ),
        (
            "not-allowed-to-cancel",
            "Істі тек әкімші тоқтата алады.",
            "Отменить дело может только администратор.",
            "Only an administrator may cancel a case.",
        ),
        (
            "already-missing",
            "Құжаттардың жетіспейтіні бұрын белгіленген.",
            "Недостающие документы уже отмечены.",
            "Missing documents have already been recorded.",
        ),
        (
            "suspension-not-allowed",
            "Бұл қадамда мұндай себеппен тоқтата тұруға болмайды.",
            "На этом шаге нельзя приостановить задачу по такой причине.",
            "This step cannot be suspended for this reason.",
        ),
        (
            "not-allowed-to-suspend",
            "Тапсырманы тек оны алған қызметкер немесе басшы тоқтата алады.",
            "Приостановить задачу может только взявший её сотрудник или руководитель.",
            "Only the holder of the task or a head may suspend it.",
        ),
        (
            "already-suspended",
            "Тапсырма тоқтатылып қойған.",
            "Задача уже приостановлена.",
            "The task is already suspended.",
        ),
        (
            "not-suspended",
            "Тапсырма тоқтатылмаған.",
            "Задача не приостановлена.",
            "The task is not suspended.",
        ),
        (
            "task-suspended",
            "Тапсырма тоқтатылған: алдымен оны жалғастырыңыз.",
            "Задача приостановлена: сначала возобновите её.",
            "The task is suspended: resume it first.",
        ),
        (
            "regulation-not-in-force",
            "Бұл регламент қазір күшінде емес: өтінішті тіркеуге болмайды.",
            "Регламент сейчас не действует: заявление нельзя зарегистрировать.",
            "The regulation is not in force: the application cannot be registered.",
        ),
        (
            "route-unresolved",
            "Өтінішті жіберетін бөлім анықталмады: бөлімді таңдаңыз.",
            "Не определён отдел, куда передаётся заявление: выберите отдел.",
            "The department the application goes to is not known: choose one.",
        ),
        (
            "history-does-not-verify",
            "Істің тарихы тексеруден өтпеді: іс әкімші шешкенше тоқтатылды.",
            "История дела не прошла проверку: дело остановлено до решения администратора.",
            "The case's history does not verify: it is held until an administrator decides.",
        ),
        (
            "beyond-calendar",
            "Мерзім жұмыс күнтізбесі бекітілген кезеңнен тыс: әкімшіге хабарлаңыз.",
            "Срок выходит за пределы утверждённого рабочего календаря: сообщите администратору.",
            "The term goes beyond the decreed working calendar: tell an administrator.",
        ),
    ];
    let own = PROBLEMS.iter().find(|p| p.0 == code).map(|p| match lang {
        Lang::Kk => p.1,
        Lang::Ru => p.2,
        Lang::En => p.3,
    });
    // A feature's own problems live with its words (web/words/), as `problem.<code>`.
    own.or_else(|| {
        table()
            .get(format!("problem.{code}").as_str())
            .map(|w| match lang {
                Lang::Kk => w[0],
                Lang::Ru => w[1],
                Lang::En => w[2],
            })
    })
}

/// A role's name in `lang`, for the staff roles every regulation shares and the global ones;
/// another role by its identifier (a regulation names it on its own pages).
pub fn role_word(lang: Lang, role: &str) -> String {
    const ROLES: &[(&str, &str, &str, &str)] = &[
        ("registrar", "Тіркеуші", "Регистратор", "Registrar"),
        ("head", "Басшы", "Руководитель", "Head"),
        ("executor", "Орындаушы", "Исполнитель", "Executor"),
        ("rural_akim", "Ауыл әкімі", "Аким села", "Rural akim"),
        (
            "centre_inspector",
            "ХҚКО инспекторы",
            "Инспектор ЦОН",
            "Service centre inspector",
        ),
        (
            "centre_accumulator",
            "ХҚКО жинақтаушысы",
            "Накопитель ЦОН",
            "Service centre accumulator",
        ),
        ("analyst", "Талдаушы", "Аналитик", "Analyst"),
        ("auditor", "Аудитор", "Аудитор", "Auditor"),
        ("administrator", "Әкімші", "Администратор", "Administrator"),
        ("portal", "Портал", "Портал", "Portal"),
    ];
    ROLES.iter().find(|r| r.0 == role).map_or_else(
        || role.to_string(),
        |r| {
            match lang {
                Lang::Kk => r.1,
                Lang::Ru => r.2,
                Lang::En => r.3,
            }
            .to_string()
        },
    )
}

pub fn working_time_left(lang: Lang, minutes: i64, day_minutes: i64) -> String {
    let amount = span(lang, minutes.abs(), day_minutes);
    if minutes < 0 {
        match lang {
            Lang::Kk => format!("{amount} {}", t(lang, "overdue_by")),
            _ => format!("{} {amount}", t(lang, "overdue_by")),
        }
    } else {
        format!("{amount} {}", t(lang, "working_time"))
    }
}

/// "3 working days 2 h", "2 h 15 min", "5 min".
pub fn span(lang: Lang, minutes: i64, day_minutes: i64) -> String {
    let day_minutes = day_minutes.max(1);
    let days = minutes / day_minutes;
    let rest = minutes % day_minutes;
    let (h, m) = (rest / 60, rest % 60);
    let mut parts = Vec::new();
    if days > 0 {
        let unit = match (lang, days) {
            (Lang::Ru, 1) => "рабочий день",
            (Lang::Ru, 2..=4) => "рабочих дня",
            (Lang::Ru, _) => "рабочих дней",
            (_, 1) => t(lang, "working_day_1"),
            _ => t(lang, "working_days"),
        };
        parts.push(format!("{days} {unit}"));
    }
    if h > 0 {
        parts.push(format!("{h} {}", t(lang, "h")));
    }
    if m > 0 && days == 0 {
        parts.push(format!("{m} {}", t(lang, "min")));
    }
    if parts.is_empty() {
        parts.push(format!("0 {}", t(lang, "min")));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_three_different_or_equal_nonempty_words() {
        let all: Vec<_> = std::iter::once(WORDS)
            .chain(super::super::words::PARTS.iter().copied())
            .flatten()
            .collect();
        for (k, kk, ru, en) in &all {
            assert!(
                !kk.is_empty() && !ru.is_empty() && !en.is_empty(),
                "{k} lacks a word"
            );
        }
        assert_eq!(table().len(), all.len(), "a key is listed twice");
    }

    #[test]
    fn working_time_reads_as_people_say_it() {
        assert_eq!(
            working_time_left(Lang::En, 135, 480),
            "2 h 15 min working time"
        );
        assert_eq!(
            working_time_left(Lang::En, -480, 480),
            "overdue by 1 working day"
        );
        assert_eq!(
            working_time_left(Lang::Ru, -1000, 480),
            "просрочено на 2 рабочих дня"
        );
        assert_eq!(
            working_time_left(Lang::En, 3 * 480 + 120, 480),
            "3 working days 2 h working time"
        );
        assert_eq!(working_time_left(Lang::En, 0, 480), "0 min working time");
        assert_eq!(t(Lang::Kk, "inbox"), "Кіріс тапсырмалар");
        assert_eq!(t(Lang::En, "no-such-key"), "no-such-key");
    }
}
