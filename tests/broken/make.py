#!/usr/bin/env python3
"""Generates the corpus of broken regulation files, one per kind of analyst mistake.

Each file starts from BASE (a valid regulation) with one mistake put in. The expected place
is computed here, independently of the validator, by finding the MARKER text in the broken
file: `# expect: CODE LINE:COLUMN` heads every file and tests/broken_corpus.rs checks that the
validator reports exactly that. Run `python3 tests/broken/make.py` after changing this list.
"""
import os, re

HERE = os.path.dirname(os.path.abspath(__file__))

BASE = """\
# yaml-language-server: $schema=../../regulations/schema/regulation.schema.json
id: demo-service
version: 1
valid_from: 2012-11-16
title:
  kk: Демо қызмет
  ru: Демо-услуга
source:
  act: Постановление № 1
region: atyrau
roles:
  - id: executor
    kind: person
    name: {kk: Жауапты орындаушы, ru: Ответственный исполнитель}
  - id: head
    kind: person
    name: {kk: Басшы, ru: Руководитель}
  - id: portal
    kind: system
    name: {kk: Портал, ru: Портал}
channels:
  - id: provider
    kind: provider_office
    start: register
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
  - id: portal
    kind: egov_portal
    start: authorize
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
steps:
  - id: authorize
    kind: system
    name: {kk: Авторизация, ru: Авторизация}
    role: portal
    integration: egov.authorization
    source: {paragraph: "9"}
    outcomes:
      - {id: ok, next: register}
      - {id: failed, next: refused}
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация}
    role: executor
    duration: 15 minutes
    source: {appendix: "2", table: "1", action: "1"}
    next: review
  - id: review
    kind: task
    name: {kk: Қарау, ru: Рассмотрение}
    role: executor
    duration: 5 working days
    source: {appendix: "2", table: "1", action: "2"}
    escalation:
      - {action: notify, role: head}
    outcomes:
      - id: grant
        next: sign
      - id: refuse
        next: refused
        requires_reason: true
  - id: sign
    kind: task
    name: {kk: Қол қою, ru: Подписание}
    role: head
    duration: 1 working day
    source: {appendix: "2", table: "1", action: "3"}
    next: route
  - id: route
    kind: exclusive
    branches:
      - when: 'channel == "portal"'
        next: granted
    default: granted
  - id: granted
    kind: end
    name: {kk: Берілді, ru: Оказано}
    result: granted
  - id: refused
    kind: end
    name: {kk: Бас тартылды, ru: Отказано}
    result: refused
"""

# (file name, code, layer, [(old, new), ...], marker, occurrence of marker (1-based), column offset in marker)
# layer: syntax (YAML does not parse), schema (the JSON Schema rejects it), semantic (the schema
# accepts it; the validator's reference, form, condition or graph checks reject it).
CASES = [
    ("syntax-unclosed-quote", "E002", "syntax", [("  act: Постановление № 1", '  act: "Постановление № 1')], '"Постановление', 1, 0),
    ("syntax-bad-indentation", "E002", "syntax", [("    kind: person\n    name: {kk: Басшы", "    kind: person\n   name: {kk: Басшы")], "   name: {kk: Басшы", 1, 3),
    ("duplicate-key", "E003", "syntax", [("version: 1\n", "version: 1\nid: demo-again\n")], "id: demo-again", 1, 0),
    ("empty-file", "E004", "syntax", [("ALL", "# nothing here yet\n")], "@1:1", 1, 0),
    ("two-documents", "E004", "syntax", [("    result: refused\n", "    result: refused\n---\nid: second\n")], "id: second", 1, 0),
    ("unknown-top-level-key", "E010", "schema", [("title:\n", "titel:\n")], "titel", 1, 0),
    ("unknown-step-key", "E010", "schema", [("    duration: 15 minutes\n", "    duraton: 15 minutes\n")], "duraton", 1, 0),
    ("missing-step-name", "E011", "schema", [("    name: {kk: Қол қою, ru: Подписание}\n", "")], "- id: sign", 1, 2),
    ("missing-task-role", "E011", "schema", [("    role: head\n    duration: 1 working day", "    duration: 1 working day")], "- id: sign", 1, 2),
    ("version-not-a-number", "E012", "schema", [("version: 1", "version: one")], "one", 1, 0),
    ("roles-not-a-list", "E012", "schema", [("roles:\n  - id: executor", "roles: executor\nold_roles:\n  - id: executor")], "executor\nold_roles", 1, 0),
    ("step-kind-typo", "E013", "schema", [("    kind: task\n    name: {kk: Қарау", "    kind: tsk\n    name: {kk: Қарау")], "tsk", 1, 0),
    ("channel-kind-typo", "E013", "schema", [("kind: provider_office", "kind: provider_ofice")], "provider_ofice", 1, 0),
    ("end-result-typo", "E013", "schema", [("result: refused", "result: refuse")], "result: refuse\n", 1, 8),
    ("duration-unit-typo", "E014", "schema", [("duration: 5 working days", "duration: 5 workng days")], "5 workng", 1, 0),
    ("duration-ambiguous-days", "E014", "schema", [("duration: 5 working days", "duration: 5 days")], "5 days", 1, 0),
    ("duration-without-unit", "E014", "schema", [("duration: 1 working day", "duration: '1'")], "'1'", 1, 0),
    ("duration-capitalised", "E014", "schema", [("duration: 5 working days", "duration: 5 Working Days")], "5 Working", 1, 0),
    ("term-duration-typo", "E014", "schema", [("duration: 10 working days}\n  - id: portal", "duration: 10 workdays}\n  - id: portal")], "10 workdays", 1, 0),
    ("step-id-with-spaces", "E015", "schema", [("  - id: sign\n", "  - id: Sign Result\n")], "Sign Result", 1, 0),
    ("bad-date", "E015", "schema", [("valid_from: 2012-11-16", "valid_from: 2012-13-40")], "2012-13-40", 1, 0),
    ("dispatch-bad-time", "E015", "schema", [("  - id: route\n", "  - id: send\n    kind: dispatch\n    name: {kk: Жіберу, ru: Отправка}\n    role: executor\n    at: [\"11:00\", \"25:00\"]\n    source: {paragraph: \"9\"}\n    next: route\n  - id: route\n"), ("    next: route\n  - id: send", "    next: send\n  - id: send")], '"25:00"', 1, 0),
    ("parallel-one-branch", "E016", "schema", [("  - id: route\n", "  - id: split\n    kind: parallel\n    branches: [route]\n  - id: route\n")], "[route]", 1, 0),
    ("duplicate-step-id", "E020", "semantic", [("  - id: sign\n", "  - id: review\n")], "- id: review", 2, 6),
    ("duplicate-outcome-id", "E020", "semantic", [("      - id: refuse\n", "      - id: grant\n")], "- id: grant", 2, 6),
    ("unknown-role", "E021", "semantic", [("    role: head\n    duration", "    role: haed\n    duration")], "haed", 1, 0),
    ("unknown-escalation-role", "E021", "semantic", [("{action: notify, role: head}", "{action: notify, role: chief}")], "chief", 1, 0),
    ("unknown-next-step", "E022", "semantic", [("        next: sign\n", "        next: sing\n")], "sing", 1, 0),
    ("unknown-channel-start", "E022", "semantic", [("start: register", "start: registr")], "registr", 1, 0),
    ("unknown-duration-channel", "E023", "semantic", [("    duration: 5 working days\n", "    duration: 5 working days\n    durations: {rural: 4 working days}\n")], "rural:", 1, 0),
    ("next-and-outcomes", "E024", "semantic", [("    escalation:\n", "    next: sign\n    escalation:\n")], "next: sign\n    escalation", 1, 0),
    ("no-way-on", "E024", "semantic", [("    source: {appendix: \"2\", table: \"1\", action: \"3\"}\n    next: route\n", "    source: {appendix: \"2\", table: \"1\", action: \"3\"}\n")], "- id: sign", 1, 2),
    ("form-not-a-schema", "E025", "semantic", [("    duration: 1 working day\n", "    duration: 1 working day\n    form:\n      type: strng\n")], "strng", 1, 0),
    ("condition-syntax", "E026", "semantic", [("'channel == \"portal\"'", "'channel == '")], "'channel == '", 1, 0),
    ("condition-unknown-variable", "E026", "semantic", [("'channel == \"portal\"'", "'chanel == \"portal\"'")], "'chanel", 1, 0),
    ("task-for-system-role", "E027", "semantic", [("    role: head\n    duration", "    role: portal\n    duration")], "portal\n    duration", 1, 0),
    ("valid-to-before-from", "E028", "semantic", [("valid_from: 2012-11-16\n", "valid_from: 2012-11-16\nvalid_to: 2011-01-01\n")], "2011-01-01", 1, 0),
    ("unreachable-step", "E030", "semantic", [("  - id: granted\n", "  - id: archive\n    kind: task\n    name: {kk: Мұрағат, ru: Архив}\n    role: executor\n    duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: granted\n  - id: granted\n")], "archive", 1, 0),
    ("step-leads-into-closed-loop", "E031", "semantic", [("        next: sign\n", "        next: check\n"), ("  - id: sign\n", "  - id: check\n    kind: task\n    name: {kk: Тексеру, ru: Проверка}\n    role: executor\n    duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: loop_a\n  - id: loop_a\n    kind: task\n    name: {kk: А, ru: А}\n    role: executor\n    duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: loop_b\n  - id: loop_b\n    kind: task\n    name: {kk: Б, ru: Б}\n    role: executor\n    duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: loop_a\n  - id: sign\n")], "check\n    kind", 1, 0),
    ("closed-loop", "E032", "semantic", [("    next: route\n", "    next: recheck\n  - id: recheck\n    kind: task\n    name: {kk: Қайта, ru: Повтор}\n    role: executor\n    duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: sign\n")], "sign\n    kind: task", 1, 0),
    ("join-without-split", "E029", "semantic", [("    next: route\n", "    next: meet\n  - id: meet\n    kind: join\n    next: route\n")], "meet\n    kind: join", 1, 0),
    ("split-never-joins", "E029", "semantic", [("    next: route\n", "    next: split\n  - id: split\n    kind: parallel\n    branches: [route, granted]\n")], "split\n    kind: parallel", 1, 0),
    ("duration-beyond-calendar", "E017", "semantic", [("duration: 5 working days", "duration: 4000000 working days")], "4000000", 1, 0),
]

# Branch conditions, type-checked against the application form, the outcomes recorded before
# the choice and the channels (E040-E044). Each is placed at the offending part of the
# condition: the marker is the condition as written, the offset counts its characters.
FORM = """application_form:
  type: object
  required: [full_name, family_size, income, kind, children]
  properties:
    full_name: {type: string}
    family_size: {type: integer, minimum: 1}
    income: {type: number, minimum: 0}
    kind: {type: string, enum: [family, single]}
    by_proxy: {type: boolean}
    children:
      type: array
      items:
        type: object
        required: [age]
        properties:
          age: {type: integer, minimum: 0}
"""
WITH_FORM = ("steps:\n  - id: authorize", FORM + "steps:\n  - id: authorize")
WHEN = "'channel == \"portal\"'"

def condition(name, code, when, offset, form=True, marker=None):
    edits = ([WITH_FORM] if form else []) + [(WHEN, when)]
    return (name, code, "semantic", edits, marker or when, 1, offset)

CASES += [
    condition("condition-unknown-function", "E040", "'matches(data.full_name, \"^А\")'", 1),
    condition("condition-misspelt-macro", "E040", "'data.children.exist(c, c.age < 3)'", 15),
    condition("condition-unknown-method-plain-scalar", "E040", "data.full_name.lowerAscii() == \"x\"", 15),
    condition("condition-undeclared-field", "E041", "'data.family_sise > 3'", 6),
    condition("condition-field-without-form", "E041", "'data.family_size > 3'", 6, form=False),
    condition("condition-undeclared-item-field", "E041", "'data.children.exists(c, c.agee < 3)'", 27),
    condition("condition-outcome-of-unknown-step", "E041", "'outcomes.reveiw == \"grant\"'", 10),
    condition("condition-outcome-never-recorded", "E041", "'outcomes.sign == \"done\"'", 10),
    condition("condition-optional-field-unguarded", "E042", "'data.by_proxy'", 6),
    condition("condition-guard-on-the-wrong-side", "E042", "'has(data.by_proxy) || data.by_proxy'", 28),
    condition("condition-outcome-only-on-some-ways", "E042", "'outcomes.authorize == \"ok\"'", 10),
    condition("condition-text-against-number", "E043", "'data.full_name == 3'", 1),
    condition("condition-mixed-number-kinds-double-quoted", "E043", "\"data.kind == \\\"family\\\" && data.family_size + 1 > 3\"", 28),
    condition("condition-number-of-any-kind-in-arithmetic", "E043", "'data.income * 2 > 100.0'", 1),
    condition("condition-not-true-or-false", "E043", "'data.family_size'", 1),
    condition("condition-bool-against-int", "E043", "'documents_missing == 0'", 1),
    condition("condition-null-for-a-missing-field", "E043", "'data.full_name == null'", 1),
    condition("condition-branches-of-two-types", "E043", "'(has(data.by_proxy) ? 1 : \"no\") == 1'", 2),
    condition("condition-unknown-channel", "E044", "'channel == \"centre\"'", 12),
    condition("condition-unknown-outcome", "E044", "'outcomes.review == \"refsue\"'", 20),
    condition("condition-value-not-in-enum", "E044", "'data.kind in [\"family\", \"singel\"]'", 25),
    condition("condition-block-scalar", "E041", ">-\n          data.family_sise > 3", 5, marker="data.family_sise"),
    ("condition-later-branch-unguarded", "E042", "semantic", [WITH_FORM, (WHEN + "\n        next: granted\n", "'has(data.by_proxy) && data.by_proxy'\n        next: granted\n      - when: 'data.by_proxy'\n        next: granted\n")], "'data.by_proxy'", 1, 6),
    ("warnings-out-of-range", "E016", "schema", [("\nsteps:\n", "\nwarnings: [50, 120]\nsteps:\n")], "120]", 1, 0),
]

def locate(text, marker, occurrence, offset):
    pos = -1
    for _ in range(occurrence):
        pos = text.index(marker, pos + 1)
    pos += offset
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col

for old in os.listdir(HERE):
    if old.endswith(".yaml"):
        os.remove(os.path.join(HERE, old))
for i, (name, code, layer, edits, marker, occ, off) in enumerate(CASES, 1):
    text = BASE
    for old, new in edits:
        if old == "ALL":
            text = new
            continue
        assert old in text, (name, old)
        text = text.replace(old, new, 1)
    body = text
    header_lines = 2  # the two header lines below shift every line by 2
    if marker is not None and marker.startswith("@"):
        where = marker[1:]  # a literal place: an empty file is reported at its first line
    elif marker is None:
        # Syntax errors: the parser decides the exact place; the corpus pins the line only
        # where we can predict it, so only the code and the layer are asserted.
        where = "any"
    else:
        line, col = locate(body, marker, occ, off)
        where = f"{line + header_lines}:{col}"
    header = f"# expect: {code} {where}\n# layer: {layer}\n"
    with open(os.path.join(HERE, f"{i:02d}-{name}.yaml"), "w") as f:
        f.write(header + body)
# The valid base, so the tests can show the corpus starts from a clean file.
with open(os.path.join(HERE, "00-valid-base.yaml.txt"), "w") as f:
    f.write(BASE)
print(f"wrote {len(CASES)} broken files")
