"""Telegram's limits hold for everything the shipped knowledge can make the bot send."""

from __future__ import annotations

import datetime as dt

from bot.core import checklist, onboarding, render, render_checklist
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Reply
from bot.i18n import LANGUAGES
from bot.storage import Profile

MAX_CALLBACK_BYTES = 64


def _datas(replies: list[Reply]) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def test_every_button_fits_telegrams_64_byte_callback_data(shipped_holder: KnowledgeHolder) -> None:
    knowledge = shipped_holder.current.knowledge
    replies: list[Reply] = []
    for lang in LANGUAGES:
        for country in (None, *knowledge.countries):
            profile = Profile(user_id=1, lang=lang, country=country, stage="arrived")
            replies += [onboarding.prompt(step, profile, knowledge) for step in onboarding.STEPS]
            replies.append(onboarding.summary(profile, knowledge))
            for intent in knowledge.intents.values():
                replies.append(render.answer_reply(knowledge, intent, profile, 10**12))
    for task in knowledge.tasks.values():
        view = checklist.TaskView(
            task.id, task.title("en"), "", dt.date(2026, 1, 1), "done", None, task.intent, ()
        )
        replies.append(
            render_checklist.task_reply(view, "en", dt.date(2026, 12, 1), overdue_help_days=0)
        )
    replies.append(render_checklist.reminders_reply("uk", on=True, hour=9, place="x"))
    datas = _datas(replies)
    assert len(datas) > 1000
    too_long = [d for d in datas if len(d.encode()) > MAX_CALLBACK_BYTES]
    assert too_long == []


def test_answers_fit_one_telegram_message(shipped_holder: KnowledgeHolder) -> None:
    knowledge = shipped_holder.current.knowledge
    for intent in knowledge.intents.values():
        for country in knowledge.countries:
            for lang in LANGUAGES:
                reply = render.answer_reply(knowledge, intent, Profile(1, lang, country), 1)
                assert len(reply.text) <= 4096, (intent.id, country, lang)
