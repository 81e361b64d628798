"""The core flows, through `Assistant.handle`, as a user would experience them."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.assistant import Assistant
from bot.core.replies import Incoming, Reply
from bot.storage import Profile, Store


def say(assistant: Assistant, text: str, user: int = 7) -> list[Reply]:
    return assistant.handle(Incoming(user, "text", text))


def press(assistant: Assistant, data: str, user: int = 7) -> list[Reply]:
    return assistant.handle(Incoming(user, "button", data))


def command(assistant: Assistant, name: str, user: int = 7, lang: str | None = None) -> list[Reply]:
    return assistant.handle(Incoming(user, "command", name, language_code=lang))


def datas(replies: list[Reply]) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def set_profile(store: Store, user: int = 7, **fields: object) -> None:
    store.save_profile(Profile(user_id=user, **fields))


def test_onboarding_walks_every_step_and_stores_the_profile(
    assistant: Assistant, store: Store
) -> None:
    replies = command(assistant, "start", lang="uk-UA")
    assert "Soft Landing" in text_of(replies)
    assert datas(replies) == ["ob:lang:en", "ob:lang:ru", "ob:lang:uk"]
    assert "ob:country:EE" in datas(press(assistant, "ob:lang:uk"))
    assert "ob:city:tartu" in datas(press(assistant, "ob:country:EE"))
    assert "ob:stage:arrived" in datas(press(assistant, "ob:city:tartu"))
    assert "Коли ви приїхали" in text_of(press(assistant, "ob:stage:arrived"))
    assert "ob:citizenship:eu" in datas(say(assistant, "1.9.2026"))
    press(assistant, "ob:citizenship:other")
    press(assistant, "ob:purpose:study")
    done = press(assistant, "ob:children:yes")
    assert "все готово" in text_of(done)
    profile = store.get_profile(7)
    assert profile == Profile(
        user_id=7,
        lang="uk",
        country="EE",
        city="tartu",
        stage="arrived",
        arrival_date=dt.date(2026, 9, 1),
        citizenship="other",
        purpose="study",
        children=True,
    )


def test_every_onboarding_step_can_be_skipped(assistant: Assistant, store: Store) -> None:
    command(assistant, "start")
    for step in ("lang", "country", "stage", "citizenship", "purpose"):
        press(assistant, f"ob:{step}:-")
    assert "all set" in text_of(press(assistant, "ob:children:-"))
    assert store.get_profile(7) == Profile(user_id=7)


def test_a_wrong_arrival_date_is_asked_again_politely(assistant: Assistant) -> None:
    command(assistant, "start")
    press(assistant, "ob:lang:en")
    press(assistant, "ob:country:FI")
    press(assistant, "ob:city:helsinki")
    press(assistant, "ob:stage:planning")
    assert "couldn't read that date" in text_of(say(assistant, "next spring maybe"))
    assert "EU/EEA" in text_of(say(assistant, "2027-03-01"))


def test_profile_change_keeps_other_fields(assistant: Assistant, store: Store) -> None:
    set_profile(store, lang="en", country="FI", city="helsinki", purpose="work")
    assert "ob:country:EE" in datas(press(assistant, "pf:country"))
    assert "ob:city:tartu" in datas(press(assistant, "ob:country:EE"))
    summary = text_of(press(assistant, "ob:city:tartu"))
    assert "Country: Estonia" in summary and "City: Tartu" in summary and "Purpose: Work" in summary
    assert store.get_profile(7).onboarding_step is None


def test_answer_is_for_the_users_country_with_source_and_review_date(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="en", country="EE")
    replies = say(assistant, "where do I get my isikukood?")
    text = text_of(replies)
    assert "In Estonia the personal code" in text
    assert "Source: https://www.politsei.ee/en" in text
    assert "Reviewed: 25 November 2026" in text
    assert {"fb:up:1", "fb:dn:1", "ask:bank-account", "svc:personal-id-number", "human"} <= set(
        datas(replies)
    )
    assert store.questions_of(7)[0]["intent"] == "personal-id-number"


def test_answer_in_russian_and_fallback_to_english_with_a_note(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="ru", country="FI")
    assert "В Финляндии личный код" in text_of(say(assistant, "где получить henkilötunnus"))
    text = text_of(say(assistant, "can i bring my dog"))
    assert "ещё не переведён" in text and "microchip" in text


def test_country_specific_answer_without_country_asks_which(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="en")
    replies = say(assistant, "henkilötunnus")
    assert datas(replies) == ["ans:personal-id-number:EE", "ans:personal-id-number:FI"]
    assert "In Estonia" in text_of(press(assistant, "ans:personal-id-number:EE"))
    assert store.get_profile(7).country is None


def test_did_you_mean_offers_buttons_that_answer(assistant: Assistant, store: Store) -> None:
    set_profile(store, lang="en", country="FI")
    replies = say(assistant, "documents for bank and personal code")
    assert "Did you mean" in text_of(replies)
    assert "ask:bank-account" in datas(replies) and "human" in datas(replies)
    assert "EU law gives residents" in text_of(press(assistant, "ask:bank-account"))


def test_unknown_question_offers_people_who_can_help(assistant: Assistant, store: Store) -> None:
    set_profile(store, lang="en", country="FI", city="helsinki")
    text = text_of(say(assistant, "will it rain on saturday?"))
    assert "don't know the answer" in text
    assert "International House Helsinki" in text
    assert store.questions_of(7)[0]["outcome"] == "unknown"


def test_feedback_is_stored_only_for_the_users_own_answer(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="en", country="FI")
    say(assistant, "how do i open a bank account")
    assert "Thanks for the feedback" in text_of(press(assistant, "fb:up:1"))
    assert "out of date" in text_of(press(assistant, "fb:dn:1", user=8))
    assert store.feedback_of(7)[0]["value"] == 1
    assert store.feedback_of(8) == []


def test_forged_or_stale_buttons_change_nothing(assistant: Assistant, store: Store) -> None:
    set_profile(store, lang="en", country="FI")
    for data in ("ob:country:XX", "ob:city:tartu", "fb:up:abc", "ask:nope", "zz:1", "", "pf:nope"):
        assert "out of date" in text_of(press(assistant, data)), data
    assert store.get_profile(7).country == "FI" and store.get_profile(7).city is None


def test_services_near_the_user_are_shown_for_the_last_topic(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="en", country="EE")
    say(assistant, "isikukood?")
    text = text_of(say(assistant, "who can help me with this in Tartu?"))
    assert 'Who can help with "Personal ID number" in Tartu' in text
    assert "Police and Border Guard Board" in text


def test_small_talk_gets_a_friendly_reply_in_the_users_language(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="uk")
    assert "Вітаю" in text_of(say(assistant, "привіт!"))
    assert "Будь ласка" in text_of(say(assistant, "дуже дякую"))
    assert "автоматичний помічник" in text_of(say(assistant, "хто ти?"))
    assert store.questions_of(7) == []


def test_media_empty_and_unknown_commands_get_polite_answers(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="en")
    assert "only read text" in text_of(assistant.handle(Incoming(7, "media")))
    assert "empty" in text_of(say(assistant, "   \u200f "))
    assert "/help" in text_of(command(assistant, "frobnicate"))


def test_export_contains_everything_and_forget_erases_it(
    assistant: Assistant, store: Store
) -> None:
    set_profile(store, lang="en", country="FI")
    store.journal_updates([(1, 7, '{"update_id": 1}'), (2, 8, '{"update_id": 2}')])
    say(assistant, "how do i open a bank account")
    press(assistant, "fb:up:1")
    command(
        assistant,
        "task",
    )
    assistant.handle(Incoming(7, "command", "task", "2026-12-01 Call the landlord"))
    export = command(assistant, "export")[0].document
    data = json.loads(export.content)
    assert data["profile"]["country"] == "FI"
    assert data["questions"][0]["text"] == "how do i open a bank account"
    assert data["feedback"][0]["value"] == 1
    assert data["checklist"][0]["title"] == "Call the landlord"
    assert "fg:yes" in datas(command(assistant, "forget"))
    assert "deleted" in text_of(press(assistant, "fg:yes"))
    for table in ("users", "questions", "feedback", "tasks", "digests"):
        assert store.db[table].count == 0, table
    assert [r["user_id"] for r in store.db["journal"].rows] == [8]  # only the other user's
