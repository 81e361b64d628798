"""/business: the self-employment self-check, its result and step list, and their storage.

Recommendations are checked on the shipped knowledge (knowledge/pathways/business.yaml), so a
knowledge edit that sends a Helsinki user to Swedish services, or forgets the permit check,
fails here. Validation is checked on a small pathway in a copy of the test knowledge.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.pathway_plan import assess, plan
from bot.core.replies import Button, Incoming, Reply
from bot.knowledge.loader import load_knowledge
from bot.pathways_store import DONE, IN_PROGRESS, PathwayStore
from bot.storage import Profile, Store, open_database
from tests.conftest import NOW

TODAY = NOW.date()
USER = 77
# Strong on everything: each test weakens only what it is about.
STRONG = {
    "idea": "clear",
    "market": "talked",
    "experience": "years",
    "admin": "done",
    "language": "good",
    "finances": "enough",
    "permit": "eu",
    "network": "many",
    "time": "full",
    "digital": "easy",
}


def make_assistant(holder: KnowledgeHolder, store: Store | None = None) -> Assistant:
    store = store or Store(open_database(":memory:"), clock=lambda: NOW)
    return Assistant(holder, store, clock=lambda: NOW)


def with_profile(assistant: Assistant, **fields: object) -> Profile:
    return assistant.store.save_profile(Profile(user_id=USER, **fields))


def command(assistant: Assistant, name: str) -> list[Reply]:
    return assistant.handle(Incoming(USER, "command", name))


def press(assistant: Assistant, data: str) -> list[Reply]:
    return assistant.handle(Incoming(USER, "button", data))


def buttons(replies: list[Reply]) -> list[Button]:
    return [b for r in replies for row in r.buttons for b in row]


def text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def answer(assistant: Assistant, replies: list[Reply], question: str, option: str) -> list[Reply]:
    """Press the option's button, which must be among the replies just shown."""
    data = f"pw:business:a:{question}:{option}"
    assert data in [b.data for b in buttons(replies)], (data, text(replies))
    return press(assistant, data)


def run_through(assistant: Assistant, answers: dict[str, str]) -> list[Reply]:
    replies = command(assistant, "business")
    for question, option in answers.items():
        replies = answer(assistant, replies, question, option)
    return replies


def steps_of(holder: KnowledgeHolder, profile: Profile, answers: dict[str, str]):
    knowledge = holder.current.knowledge
    pathway = knowledge.pathways["business"]
    return plan(knowledge, pathway, profile, assess(pathway, answers).gap_ids)


# --- scoring and recommendations (shipped knowledge) ------------------------------------------


def test_answers_become_strengths_and_gaps(shipped_holder: KnowledgeHolder) -> None:
    pathway = shipped_holder.current.knowledge.pathways["business"]
    result = assess(pathway, STRONG | {"finances": "part", "permit": "unsure", "idea": "rough"})
    assert {d.id for d in result.gaps} == {"finances", "permit"}  # "partly" is still a gap
    assert "idea" not in {d.id for d in result.strengths} | result.gap_ids  # in between
    assert {"market", "time", "digital"} <= {d.id for d in result.strengths}


def test_helsinki_user_with_weak_finances_gets_finnish_financing_first(
    shipped_holder: KnowledgeHolder,
) -> None:
    profile = Profile(user_id=USER, country="FI", city="helsinki")
    planned = steps_of(shipped_holder, profile, STRONG | {"finances": "nothing"})
    first = planned[0]
    assert first.step.id == "fi-financing" and first.first
    assert {"fi-tyomarkkinatori", "fi-finnvera"} <= {s.id for s in first.services}
    assert [p.step.id for p in planned if p.first] == ["fi-financing"]
    assert all(s.countries == ("FI",) for p in planned for s in p.services)
    advice = next(p for p in planned if p.step.id == "fi-advice")
    assert advice.services[0].id == "fi-newco-helsinki"  # the city's own service first


def test_helsinki_result_as_the_user_sees_it(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI", city="helsinki")
    replies = run_through(assistant, STRONG | {"finances": "nothing"})
    shown = text(replies)
    assert "What to work on:\n• Money to start and live on" in shown
    assert "Your steps in Helsinki, Finland:" in shown
    assert "\n1. ⭐ Plan the money" in shown
    assert "Finnvera: https://www.finnvera.fi" in shown
    assert (
        "NewCo Helsinki (City of Helsinki enterprise services): https://newcohelsinki.fi" in shown
    )
    assert "Reviewed: " in shown
    assert "Start-up grants and business funding" in [b.label for b in buttons(replies)]


def test_tartu_user_gets_estonian_services_with_the_tartu_advisers(
    shipped_holder: KnowledgeHolder,
) -> None:
    profile = Profile(user_id=USER, country="EE", city="tartu")
    planned = steps_of(shipped_holder, profile, STRONG | {"idea": "none"})
    services = {s.id for p in planned for s in p.services}
    assert services and all(s.startswith("ee-") for s in services)
    assert planned[0].step.id == "ee-advice" and planned[0].first
    assert planned[0].services[0].id == "ee-arinouandla"
    assert {"ee-rik", "ee-eis"} <= services


@pytest.mark.parametrize(
    ("country", "agency"),
    [("FI", "fi-migri"), ("SE", "se-migrationsverket"), ("EE", "ee-ppa"), ("LV", "lv-pmlp")],
)
@pytest.mark.parametrize("permit", ["unsure", "tp", "asylum", "other"])
def test_unclear_permit_is_checked_first_with_the_migration_agency(
    shipped_holder: KnowledgeHolder, country: str, agency: str, permit: str
) -> None:
    profile = Profile(user_id=USER, country=country)
    planned = steps_of(shipped_holder, profile, STRONG | {"permit": permit, "finances": "nothing"})
    assert planned[0].step.id == f"{country.lower()}-permit"
    assert planned[0].services[0].id == agency


def test_permit_step_is_left_out_when_the_status_allows_a_business(
    shipped_holder: KnowledgeHolder,
) -> None:
    for permit in ("eu", "allowed"):
        planned = steps_of(
            shipped_holder, Profile(user_id=USER, country="SE"), STRONG | {"permit": permit}
        )
        assert "se-permit" not in [p.step.id for p in planned]
        assert [p.step.id for p in planned if p.first] == []  # no gaps, nothing emphasised


@pytest.mark.parametrize("city", [None, "oulu"])
def test_without_a_known_city_the_national_services_remain(
    shipped_holder: KnowledgeHolder, city: str | None
) -> None:
    planned = steps_of(shipped_holder, Profile(user_id=USER, country="FI", city=city), STRONG)
    services = {s.id for p in planned for s in p.services}
    assert "fi-newco-helsinki" not in services
    advice = next(p for p in planned if p.step.id == "fi-advice")
    assert [s.id for s in advice.services] == ["fi-uusyrityskeskus", "fi-yrityssuomi"]
    assert len(planned) == 5  # advice, training, mentoring, registering, financing


def test_tallinn_user_does_not_get_the_tartu_advisers(shipped_holder: KnowledgeHolder) -> None:
    planned = steps_of(shipped_holder, Profile(user_id=USER, country="EE", city="tallinn"), STRONG)
    assert "ee-arinouandla" not in {s.id for p in planned for s in p.services}
    assert {p.step.id for p in planned} >= {"ee-advice", "ee-register", "ee-financing"}


def test_without_a_country_the_user_is_asked_to_set_it(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en")
    replies = run_through(assistant, STRONG)
    assert "Set your country in your profile" in text(replies)
    assert "pf:country" in [b.data for b in buttons(replies)]


def test_every_pathway_button_fits_telegrams_64_bytes(shipped_holder: KnowledgeHolder) -> None:
    pathway = shipped_holder.current.knowledge.pathways["business"]
    for question in pathway.questions:
        for option in question.options:
            assert len(f"pw:{pathway.id}:a:{question.id}:{option.id}".encode()) <= 64


# --- the flow through the assistant --------------------------------------------------------


def test_ten_questions_with_buttons_in_the_users_language(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="ru", country="LV", city="riga")
    replies = command(assistant, "business")
    assert "Своё дело" in text(replies) and "Вопрос 1 из 10" in text(replies)
    assert "Пока нет" in [b.label for b in buttons(replies)]
    for number, (question, option) in enumerate(STRONG.items(), 1):
        assert f"Вопрос {number} из 10" in text(replies)
        replies = answer(assistant, replies, question, option)
    shown = text(replies)
    assert "Ваши сильные стороны:" in shown and "Больших пробелов нет" in shown
    assert "Ваши шаги (Рига, Латвия):" in shown and "https://www.altum.lv/en" in shown


def test_progress_survives_a_restart(shipped_holder: KnowledgeHolder, tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    first = make_assistant(shipped_holder, Store(open_database(path), clock=lambda: NOW))
    with_profile(first, lang="en", country="FI", city="turku")
    replies = command(first, "business")
    for question in ("idea", "market", "experience", "admin"):
        replies = answer(first, replies, question, STRONG[question])

    again = make_assistant(shipped_holder, Store(open_database(path), clock=lambda: NOW))
    replies = command(again, "business")
    assert "you have answered 4 of 10 questions" in text(replies)
    assert "Question 5 of 10" in text(replies)
    for question in list(STRONG)[4:]:
        replies = answer(again, replies, question, STRONG[question])
    assert "Your steps in Turku, Finland:" in text(replies)


def test_start_again_forgets_the_old_answers(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="SE")
    replies = command(assistant, "business")
    replies = answer(assistant, replies, "idea", "clear")
    replies = press(assistant, "pw:business:new")
    assert "Question 1 of 10" in text(replies)
    run = PathwayStore(assistant.store).run(USER, "business")
    assert run is not None and run.answers == {} and run.status == IN_PROGRESS


def test_a_button_of_an_answered_question_changes_nothing(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="EE")
    replies = command(assistant, "business")
    answer(assistant, replies, "idea", "clear")
    stale = press(assistant, "pw:business:a:idea:none")  # the same message, another option
    assert "already answered, so nothing changed" in text(stale)
    assert "Question 2 of 10" in text(stale)
    assert PathwayStore(assistant.store).run(USER, "business").answers == {"idea": "clear"}


def test_a_button_of_a_finished_self_check_does_not_reopen_it(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="uk", country="FI")
    run_through(assistant, STRONG)
    stale = press(assistant, "pw:business:a:digital:hard")
    assert "минулого проходження самотесту" in text(stale)
    assert "📄 Мій результат" in [b.label for b in buttons(stale)]
    run = PathwayStore(assistant.store).run(USER, "business")
    assert run.status == DONE and run.answers["digital"] == "easy"


def test_the_result_can_be_seen_again_and_follows_the_profile(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI", city="helsinki")
    run_through(assistant, STRONG | {"finances": "nothing"})
    replies = command(assistant, "business")
    assert "you finished the self-check on 25 November 2026" in text(replies)
    with_profile(assistant, lang="en", country="LV", city="riga")  # moved on
    result = press(assistant, "pw:business:res")
    assert "Money to start and live on" in text(result)
    assert "Your steps in Riga, Latvia:" in text(result) and "finnvera" not in text(result)


def test_result_and_checklist_buttons_wait_for_the_last_answer(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI")
    replies = command(assistant, "business")
    answer(assistant, replies, "idea", "clear")
    for action in ("res", "ck"):
        refused = press(assistant, f"pw:business:{action}")
        assert "isn't finished yet" in text(refused) and "Question 2 of 10" in text(refused)
    assert assistant.store.tasks_of(USER) == []


def test_steps_are_added_to_the_checklist_once(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI", city="helsinki")
    run_through(assistant, STRONG | {"permit": "unsure"})
    added = press(assistant, "pw:business:ck")
    assert "Steps added to your checklist: 6" in text(added)
    again = press(assistant, "pw:business:ck")
    assert "already on your checklist" in text(again)
    rows = assistant.store.tasks_of(USER)
    assert len(rows) == 6
    assert rows[0]["title"].startswith("Check that your permit allows self-employment")
    assert rows[0]["due_date"] == (TODAY + dt.timedelta(days=3)).isoformat()
    checklist = text(press(assistant, "ck:l"))
    assert "Register the business (Finnish Patent and Registration Office (PRH))" in checklist


def test_export_includes_and_forget_erases_the_self_check(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI")
    replies = command(assistant, "business")
    answer(assistant, replies, "idea", "rough")
    exported = assistant.store.export_user(USER)["pathways"]
    assert exported["runs"][0]["status"] == IN_PROGRESS
    assert [(a["question"], a["answer"]) for a in exported["answers"]] == [("idea", "rough")]
    assert '"answer": "rough"' in command(assistant, "export")[0].document.content.decode()

    press(assistant, "fg:yes")
    db = assistant.store.db
    for table in ("pathway_runs", "pathway_answers"):
        assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", [USER]).fetchone() == (
            0,
        )
    after = press(assistant, "pw:business:a:market:talked")  # an old button after /forget
    assert "earlier round" in text(after)
    assert PathwayStore(assistant.store).run(USER, "business") is None


def test_an_unknown_pathway_button_is_politely_stale(shipped_holder: KnowledgeHolder) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI")
    assert "This button is out of date" in text(press(assistant, "pw:retire:go"))


def test_business_is_a_command_in_the_menu_and_help() -> None:
    from bot.core.assistant import COMMANDS
    from bot.i18n import LANGUAGES, t

    assert "business" in COMMANDS
    for lang in LANGUAGES:
        assert "/business" in t(lang, "help") and t(lang, "cmd_business")


# --- validation (knowledge check) ----------------------------------------------------------

SMALL_PATHWAY = """\
version: 1
pathway:
  id: business
  title: {en: Own business, ru: Своё дело, uk: Власна справа}
  intro: {en: Two questions., ru: Два вопроса., uk: Два питання.}
  dimensions:
    - id: finances
      name: {en: Money, ru: Деньги, uk: Гроші}
      gap_at_most: 0
      strength_at_least: 2
      gap: {en: Little money., ru: Мало денег., uk: Мало грошей.}
      strength: {en: Enough money., ru: Денег хватает., uk: Грошей вистачає.}
    - id: permit
      name: {en: Permit, ru: ВНЖ, uk: Посвідка}
      gap_at_most: 1
      strength_at_least: 2
      gap: {en: Check it., ru: Проверьте., uk: Перевірте.}
      strength: {en: Fine., ru: Хорошо., uk: Добре.}
  questions:
    - id: finances
      text: {en: "Savings?", ru: "Сбережения?", uk: "Заощадження?"}
      options:
        - id: enough
          label: {en: Enough, ru: Хватает, uk: Вистачає}
          scores: {finances: 2}
        - id: nothing
          label: {en: Nothing, ru: Ничего, uk: Нічого}
          scores: {finances: 0}
    - id: permit
      text: {en: "Permit?", ru: "ВНЖ?", uk: "Посвідка?"}
      options:
        - id: eu
          label: {en: EU citizen, ru: Гражданин ЕС, uk: Громадянин ЄС}
          scores: {permit: 2}
        - id: unsure
          label: {en: Not sure, ru: Не знаю, uk: Не знаю}
          scores: {permit: 0}
  steps:
    - id: fi-permit
      when: {country: FI, gap: permit}
      focus: [permit]
      title: {en: Check the permit, ru: Проверьте ВНЖ, uk: Перевірте посвідку}
      text: {en: Ask first., ru: Спросите., uk: Спитайте.}
      services: [fi-dvv]
      reviewed: 2026-11-25
    - id: fi-advice
      when: {country: FI}
      focus: [finances]
      title: {en: Get advice, ru: Консультация, uk: Консультація}
      text: {en: Free advice., ru: Бесплатно., uk: Безкоштовно.}
      services: [fi-ih-helsinki, fi-dvv]
      intents: [bank-account]
      reviewed: 2026-11-25
    - id: ee-advice
      when: {country: EE, city: [tartu]}
      title: {en: Get advice, ru: Консультация, uk: Консультація}
      text: {en: Free advice., ru: Бесплатно., uk: Безкоштовно.}
      services: [ee-ihe-tartu]
      reviewed: 2026-11-25
"""


def write_pathway(folder: Path, old: str = "", new: str = "") -> Path:
    assert old in SMALL_PATHWAY, f"fixture text {old!r} not found"
    path = folder / "pathways" / "business.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(SMALL_PATHWAY.replace(old, new, 1), encoding="utf-8")
    return path


def errors_in(folder: Path) -> list[str]:
    knowledge, problems = load_knowledge(folder, today=TODAY)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert (knowledge is None) == bool(errors)
    return errors


def line_of(path: Path, error: str) -> str:
    """The source line an error points at ("<file>:<line>: error: ...")."""
    found = re.search(rf"{path.name}:(\d+): error", error)
    assert found, error
    return path.read_text(encoding="utf-8").splitlines()[int(found.group(1)) - 1].strip()


def test_small_pathway_loads_and_plans(knowledge_dir: Path) -> None:
    write_pathway(knowledge_dir)
    knowledge, problems = load_knowledge(knowledge_dir, today=TODAY)
    assert knowledge is not None, problems
    pathway = knowledge.pathways["business"]
    profile = Profile(user_id=USER, country="EE", city="tallinn")
    assert plan(knowledge, pathway, profile) == []  # the only Estonian step is for Tartu


@pytest.mark.parametrize(
    ("old", "new", "message", "line_has"),
    [
        (
            "[fi-ih-helsinki, fi-dvv]",
            "[fi-ih-helsinki, fi-nowhere]",
            "unknown service 'fi-nowhere'",
            "services:",
        ),
        (
            "services: [ee-ihe-tartu]",
            "services: [fi-dvv]",
            "service 'fi-dvv' is not in ['EE']",
            "services:",
        ),
        (
            "scores: {permit: 0}",
            "scores: {permits: 0}",
            "score for unknown dimension 'permits'",
            "permits: 0",
        ),
        (
            "          scores: {finances: 0}\n",
            "",
            "option 'nothing': missing field 'scores'",
            "- id: nothing",
        ),
        (
            "ru: Консультация, uk: Консультація}",
            "ru: Консультация}",
            "title: no 'uk' text",
            "title:",
        ),
        (
            "      focus: [finances]\n",
            "      focus: [finances]\n      priority: 1\n",
            "unknown field 'priority'",
            "priority: 1",
        ),
        (
            "when: {country: FI, gap: permit}",
            "when: {country: FI, gap: permits}",
            "unknown gap 'permits'",
            "when:",
        ),
        ("city: [tartu]", "city: [helsinki]", "city 'helsinki' is not in ['EE']", "city:"),
        (
            "intents: [bank-account]",
            "intents: [bank-acount]",
            "unknown intent 'bank-acount'",
            "intents:",
        ),
        (
            "strength_at_least: 2\n      gap: {en: Little",
            "strength_at_least: 3\n      gap: {en: Little",
            "strength needs 3, but the answers give at most 2",
            "- id: finances",
        ),
        (
            "reviewed: 2026-11-25\n    - id: ee-advice",
            "reviewed: last week\n    - id: ee-advice",
            "'reviewed' is not a date",
            "reviewed: last week",
        ),
        (
            "        - id: unsure",
            "        - id: Not-Sure",
            "id must be lower-case",
            "- id: Not-Sure",
        ),
    ],
    ids=[
        "unknown-service",
        "service-of-another-country",
        "unknown-dimension",
        "option-without-scores",
        "missing-language",
        "unknown-field",
        "unknown-gap",
        "city-of-another-country",
        "unknown-intent",
        "unreachable-strength",
        "bad-date",
        "bad-option-id",
    ],
)
def test_pathway_problems_are_errors_with_file_and_line(
    knowledge_dir: Path, old: str, new: str, message: str, line_has: str
) -> None:
    path = write_pathway(knowledge_dir, old, new)
    errors = errors_in(knowledge_dir)
    found = [e for e in errors if message in e]
    assert found, errors
    assert "pathways/business.yaml:" in found[0]
    assert line_has in line_of(path, found[0])


def test_knowledge_check_command_fails_on_a_pathway_error(
    knowledge_dir: Path, tmp_path: Path
) -> None:
    write_pathway(knowledge_dir, "scores: {permit: 0}", "scores: {permits: 0}")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "knowledge", "check", "--dir", str(knowledge_dir), "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert re.search(r"pathways/business\.yaml:\d+: error: .*unknown dimension 'permits'", output)


STEPS_ONLY = """\
version: 1
pathway:
  id: return
  title: {en: Going home, ru: Домой, uk: Додому}
  steps:
    - id: fi-deregister
      when: {country: FI, stage: leaving}
      title: {en: Tell DVV you are moving, ru: Сообщите в DVV, uk: Повідомте DVV}
      text: {en: Before you go., ru: До отъезда., uk: До від'їзду.}
      services: [fi-dvv]
      reviewed: 2026-11-25
"""


def test_a_pathway_of_steps_only_plans_by_profile_without_storing_answers(
    knowledge_dir: Path,
) -> None:
    """The step model without a self-check (what a departure pathway would reuse)."""
    (knowledge_dir / "pathways").mkdir()
    (knowledge_dir / "pathways" / "return.yaml").write_text(STEPS_ONLY, encoding="utf-8")
    assistant = make_assistant(KnowledgeHolder(knowledge_dir))
    profile = with_profile(assistant, lang="en", country="FI", stage="leaving")
    shown = assistant.pathways.command(profile, "return")
    assert len(shown) == 1 and "1. Tell DVV you are moving" in shown[0].text
    assert "https://dvv.fi/en" in shown[0].text
    assert [b.data for b in buttons(shown)] == ["pw:return:ck"]  # nothing to start again
    assert "Steps added to your checklist: 1," in text(press(assistant, "pw:return:ck"))
    assert PathwayStore(assistant.store).run(USER, "return") is None
    staying = with_profile(assistant, lang="en", country="FI", stage="arrived")
    assert "don't have steps" in assistant.pathways.command(staying, "return")[0].text


def test_result_button_after_forget_offers_a_new_start_without_storing(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make_assistant(shipped_holder)
    with_profile(assistant, lang="en", country="FI")
    run_through(assistant, STRONG)
    press(assistant, "fg:yes")
    with_profile(assistant, lang="en", country="FI")
    replies = press(assistant, "pw:business:res")
    assert "earlier round" in text(replies)
    assert [b.data for b in buttons(replies)] == ["pw:business:new"]
    assert PathwayStore(assistant.store).run(USER, "business") is None
