"""Checklists: template validation, planning per profile, re-planning, reminders, safety."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core import checklist
from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Incoming, Reply
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Knowledge
from bot.storage import Profile, Store, open_database
from tests.conftest import FIXTURE_KNOWLEDGE, NOW

ARRIVAL = dt.date(2026, 11, 1)


def _errors(folder: Path) -> list[str]:
    _, problems = load_knowledge(folder)
    return [str(p) for p in problems if p.severity == "error"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def datas(replies: list[Reply]) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def make(store: Store, clock_at: dt.datetime = NOW) -> Assistant:
    return Assistant(KnowledgeHolder(FIXTURE_KNOWLEDGE), store, clock=lambda: clock_at)


def start_user(assistant: Assistant, user: int = 7, **fields: object) -> Profile:
    profile = Profile(user_id=user, **({"lang": "en", "country": "FI"} | fields))
    assistant.store.save_profile(profile)
    assistant.replan(profile)
    return profile


# --- templates ------------------------------------------------------------------------------


def test_template_with_unknown_intent_is_an_error(knowledge_dir: Path) -> None:
    _edit(knowledge_dir / "checklists" / "fi.yaml", "intent: bank-account", "intent: banking")
    assert any("unknown intent 'banking'" in e and "fi.yaml:" in e for e in _errors(knowledge_dir))


def test_dependency_cycle_is_an_error(knowledge_dir: Path) -> None:
    path = knowledge_dir / "checklists" / "fi.yaml"
    _edit(path, "    due: 7\n", "    due: 7\n    after: [fi-bank]\n")
    errors = _errors(knowledge_dir)
    assert any("cycle" in e and "fi-bank" in e and "fi-id-code" in e for e in errors), errors


def test_condition_on_unknown_profile_field_or_value_is_an_error(knowledge_dir: Path) -> None:
    path = knowledge_dir / "checklists" / "fi.yaml"
    _edit(path, "when: {children: true}", "when: {pets: true, purpose: holiday}")
    errors = _errors(knowledge_dir)
    assert any("unknown profile field 'pets'" in e for e in errors), errors
    assert any("'holiday' is not a value of 'purpose'" in e for e in errors), errors


def test_unknown_prerequisite_is_an_error(knowledge_dir: Path) -> None:
    _edit(knowledge_dir / "checklists" / "fi.yaml", "after: [fi-id-code]", "after: [fi-nope]")
    assert any("unknown prerequisite 'fi-nope'" in e for e in _errors(knowledge_dir))


# --- planning -------------------------------------------------------------------------------


def test_plan_follows_profile_conditions_and_arrival_date() -> None:
    knowledge = KnowledgeHolder(FIXTURE_KNOWLEDGE).current.knowledge
    planning = Profile(
        user_id=1,
        country="FI",
        stage="planning",
        citizenship="other",
        children=False,
        arrival_date=ARRIVAL,
    )
    assert checklist.plan(knowledge, planning) == [
        ("fi-permit", dt.date(2026, 8, 3)),
        ("fi-id-code", dt.date(2026, 11, 8)),
        ("fi-bank", dt.date(2026, 11, 15)),
    ]
    eu_family = Profile(user_id=1, country="FI", stage="arrived", citizenship="eu", children=True)
    assert [t for t, _ in checklist.plan(knowledge, eu_family)] == [
        "fi-id-code",
        "fi-bank",
        "fi-school",
    ]
    assert all(due is None for _, due in checklist.plan(knowledge, eu_family))
    leaving = Profile(user_id=1, country="FI", stage="leaving", departure_date=dt.date(2027, 1, 3))
    assert checklist.plan(knowledge, leaving) == [("fi-deregister", dt.date(2026, 12, 27))]
    assert checklist.plan(knowledge, Profile(user_id=1, country="EE")) == []


@pytest.mark.parametrize("country", ["FI", "SE", "EE", "LV"])
def test_shipped_templates_plan_a_full_first_months_list(country: str, shipped_holder) -> None:
    knowledge: Knowledge = shipped_holder.current.knowledge
    newcomer = Profile(
        user_id=1,
        country=country,
        stage="planning",
        citizenship="other",
        purpose="work",
        children=True,
        arrival_date=ARRIVAL,
    )
    planned = checklist.plan(knowledge, newcomer)
    assert len(planned) >= 10
    intents = {knowledge.tasks[t].intent for t, _ in planned}
    assert {"residence-permit", "bank-account", "school-enrolment", "tax-registration"} <= intents
    assert intents & {"personal-id-number", "address-registration"}
    dues = [due for _, due in planned]
    assert dues == sorted(dues)
    for task_id, due in planned:  # a prerequisite in the plan is never due after its task
        for before in knowledge.tasks[task_id].after:
            assert dict(planned).get(before, dt.date.min) <= due, (task_id, before)
    leaver = Profile(user_id=1, country=country, stage="leaving", departure_date=ARRIVAL)
    leaving = {knowledge.tasks[t].intent for t, _ in checklist.plan(knowledge, leaver)}
    assert "moving-away" in leaving and "residence-permit" not in leaving


def test_due_dates_cross_month_and_year_boundaries() -> None:
    knowledge = KnowledgeHolder(FIXTURE_KNOWLEDGE).current.knowledge
    task = knowledge.tasks["fi-bank"]  # due 14 days after arrival
    assert checklist.due_date(
        task, Profile(user_id=1, arrival_date=dt.date(2026, 12, 25))
    ) == dt.date(2027, 1, 8)
    assert checklist.due_date(
        task, Profile(user_id=1, arrival_date=dt.date(2028, 2, 20))
    ) == dt.date(2028, 3, 5)


def test_today_is_the_users_local_date(store: Store) -> None:
    late_utc = dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC)  # 00:30 on 1 Dec in Helsinki
    assistant = make(store, late_utc)
    start_user(assistant, arrival_date=dt.date(2026, 11, 24))  # fi-id-code due 1 Dec
    text = text_of(assistant.handle(Incoming(7, "command", "checklist")))
    assert "Due soon" in text and "Overdue" not in text
    assert "Get your personal identity code — due 1 December 2026" in text


# --- the user's list ------------------------------------------------------------------------


def test_onboarding_end_creates_the_checklist(store: Store) -> None:
    assistant = make(store)
    assistant.handle(Incoming(7, "command", "start"))
    for data in ("ob:lang:en", "ob:country:FI", "ob:city:helsinki", "ob:stage:arrived"):
        assistant.handle(Incoming(7, "button", data))
    assistant.handle(Incoming(7, "text", "1.11.2026"))
    for data in ("ob:citizenship:eu", "ob:purpose:work"):
        assistant.handle(Incoming(7, "button", data))
    replies = assistant.handle(Incoming(7, "button", "ob:children:no"))
    assert "0 of 2 done" in text_of(replies)
    assert [r["task_id"] for r in store.tasks_of(7)] == ["fi-id-code", "fi-bank"]


def test_checklist_groups_progress_and_prerequisites(store: Store) -> None:
    assistant = make(store)  # today 25 Nov 2026
    start_user(assistant, arrival_date=dt.date(2026, 11, 12), children=True)
    text = text_of(assistant.handle(Incoming(7, "command", "checklist")))
    assert "Your checklist: 0 of 3 done" in text
    assert (
        text.index("Overdue")
        < text.index("Get your personal identity code")
        < text.index("Due soon")
    )
    assert "first: Get your personal identity code" in text
    assert "ck:o:fi-bank" in datas(assistant.handle(Incoming(7, "command", "checklist")))


def test_tick_untick_snooze_and_hide_are_stored_before_the_reply(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, arrival_date=dt.date(2026, 11, 12))
    card = assistant.handle(Incoming(7, "button", "ck:o:fi-id-code"))
    assert {
        "ck:t:fi-id-code",
        "ck:s:fi-id-code",
        "ask:personal-id-number",
        "ck:h:fi-id-code",
    } <= set(datas(card))
    replies = assistant.handle(Incoming(7, "button", "ck:t:fi-id-code"))
    assert "Marked as done" in text_of(replies) and "1 of 2 done" in text_of(replies)
    assert store.task(7, "fi-id-code")["status"] == "done"
    assistant.handle(Incoming(7, "button", "ck:u:fi-id-code"))
    assert store.task(7, "fi-id-code")["status"] == "open"
    assert "28 November 2026" in text_of(assistant.handle(Incoming(7, "button", "ck:s:fi-bank")))
    assert store.task(7, "fi-bank")["snoozed_until"] == "2026-11-28"
    assistant.handle(Incoming(7, "button", "ck:h:fi-bank"))
    assert "Open a bank account" not in text_of(
        assistant.handle(Incoming(7, "command", "checklist"))
    )


def test_replanning_after_a_profile_change_keeps_what_was_done(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, arrival_date=dt.date(2026, 11, 12), children=False)
    assistant.handle(Incoming(7, "button", "ck:t:fi-id-code"))
    assistant.handle(Incoming(7, "button", "pf:children"))
    assistant.handle(Incoming(7, "button", "ob:children:yes"))
    tasks = {r["task_id"]: r for r in store.tasks_of(7)}
    assert set(tasks) == {"fi-id-code", "fi-bank", "fi-school"}
    assert tasks["fi-id-code"]["status"] == "done"
    assistant.handle(Incoming(7, "button", "pf:arrival"))
    assistant.handle(Incoming(7, "text", "2026-12-01"))
    tasks = {r["task_id"]: r for r in store.tasks_of(7)}
    assert tasks["fi-bank"]["due_date"] == "2026-12-15" and tasks["fi-id-code"]["status"] == "done"


def test_own_task_with_a_date_and_bad_arguments(store: Store) -> None:
    assistant = make(store)
    start_user(assistant)
    added = assistant.handle(Incoming(7, "command", "task", "2026-12-01 Buy a winter coat"))
    assert "Added to your checklist: Buy a winter coat (1 December 2026)" in text_of(added)
    assert "Buy a winter coat" in text_of(assistant.handle(Incoming(7, "command", "checklist")))
    for args in ("", "tomorrow buy", "2026-12-01", "2026-13-45 x"):
        assert "/task 2026-12-01" in text_of(assistant.handle(Incoming(7, "command", "task", args)))
    assistant.replan(store.get_profile(7))
    assert store.task(7, "my-1")["title"] == "Buy a winter coat"


def test_long_overdue_task_offers_help(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, arrival_date=dt.date(2026, 11, 1))  # fi-id-code due 8 Nov: 17 days late
    card = assistant.handle(Incoming(7, "button", "ck:o:fi-id-code"))
    assert "17 days overdue" in text_of(card)
    assert {"ask:personal-id-number", "svc:personal-id-number", "esc:t:fi-id-code"} <= set(
        datas(card)
    )


def test_forged_or_stale_buttons_change_nothing(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, user=7)
    start_user(assistant, user=8)
    for data in ("ck:t:fi-nope", "ck:x:fi-bank", "ck:t:", "rm:h:3", "rm:maybe"):
        replies = assistant.handle(Incoming(8, "button", data))
        assert "changed" in text_of(replies) or "out of date" in text_of(replies), data
    assistant.handle(Incoming(8, "button", "ck:t:fi-bank"))  # user 8's own task
    assert store.task(7, "fi-bank")["status"] == "open"
    assert store.task(8, "fi-bank")["status"] == "done"
    assistant.handle(Incoming(7, "command", "task", "2026-12-01 secret"))
    assert "changed" in text_of(assistant.handle(Incoming(8, "button", "ck:t:my-1")))
    assert store.task(7, "my-1")["status"] == "open"


# --- reminders ------------------------------------------------------------------------------


def _at(hour: int, minute: int = 0, day: int = 25) -> dt.datetime:
    """A UTC moment given as Helsinki local time (UTC+2 in November)."""
    return dt.datetime(2026, 11, day, hour - 2, minute, tzinfo=dt.UTC)


def test_digest_is_sent_at_the_users_hour_once_a_day(store: Store) -> None:
    start_user(make(store), arrival_date=dt.date(2026, 11, 20))  # id code due 27 Nov
    assert make(store, _at(8, 59)).due_digests(_at(8, 59)) == []  # default hour is 9
    sent = make(store, _at(9, 5)).due_digests(_at(9, 5))
    assert [(user, day) for user, day, _ in sent] == [(7, dt.date(2026, 11, 25))]
    assert "Get your personal identity code" in sent[0][2].text
    assert make(store, _at(15)).due_digests(_at(15)) == []  # not twice the same day
    assert len(make(store, _at(9, 1, day=26)).due_digests(_at(9, 1, day=26))) == 1


def test_nothing_is_sent_in_quiet_hours_and_missed_digests_catch_up(store: Store) -> None:
    start_user(make(store), arrival_date=dt.date(2026, 11, 20))
    assert make(store, _at(21, 30)).due_digests(_at(21, 30)) == []
    assert make(store, _at(23)).due_digests(_at(23)) == []
    assert make(store, _at(7, 59, day=26)).due_digests(_at(7, 59, day=26)) == []
    # The bot was down at 09:00; at 14:00 the same day the digest still goes out.
    assert len(make(store, _at(14, day=26)).due_digests(_at(14, day=26))) == 1


def test_reminders_off_or_nothing_due_sends_nothing(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, arrival_date=dt.date(2027, 3, 1))  # everything far ahead
    assert assistant.due_digests(_at(10)) == []
    start_user(assistant, user=9, arrival_date=dt.date(2026, 11, 20))
    assistant.handle(Incoming(9, "button", "rm:off"))
    assert assistant.due_digests(_at(10)) == []


def test_reminder_settings_hour_and_quiet_hours(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, arrival_date=dt.date(2026, 11, 20))
    replies = assistant.handle(Incoming(7, "command", "reminders"))
    assert "at 09:00" in text_of(replies) and "21:00" in text_of(replies)
    assert "rm:h:21" not in datas(replies) and "rm:h:7" not in datas(replies)
    assistant.handle(Incoming(7, "button", "rm:h:18"))
    assert assistant.due_digests(_at(17)) == []
    assert len(assistant.due_digests(_at(18))) == 1


def test_reminders_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    first = Store(open_database(path), clock=lambda: NOW)
    start_user(make(first), arrival_date=dt.date(2026, 11, 20))
    assert len(make(first, _at(9)).due_digests(_at(9))) == 1
    first.db.close()
    second = Store(open_database(path), clock=lambda: NOW)  # a new process on the same file
    assert make(second, _at(10)).due_digests(_at(10)) == []
    assert len(make(second, _at(9, day=26)).due_digests(_at(9, day=26))) == 1


def test_failed_delivery_is_released_and_retried(store: Store) -> None:
    assistant = make(store)
    start_user(assistant, arrival_date=dt.date(2026, 11, 20))
    ((user, day, _),) = assistant.due_digests(_at(9))
    store.release_digest(user, day)
    assert len(assistant.due_digests(_at(9, 10))) == 1
