"""Replies of a guided pathway: questions, the summary of strengths and gaps, the step list.

Callback data: `pw:<pathway>:a:<question>:<option>` answers, `pw:<pathway>:go` continues,
`pw:<pathway>:new` starts again, `pw:<pathway>:res` shows the result, `pw:<pathway>:ck` adds
the steps to the checklist.
"""

from __future__ import annotations

import datetime as dt

from bot.core.pathway_plan import Assessment, PlannedStep
from bot.core.replies import Button, Reply, rows
from bot.i18n import format_date, t
from bot.knowledge.model import Knowledge
from bot.knowledge.pathway_model import Pathway, Question
from bot.storage import Profile

FIRST_MARK = "⭐"
MAX_INTENT_BUTTONS = 3


def data(pathway: Pathway, *parts: str) -> str:
    return ":".join(("pw", pathway.id, *parts))


def intro_reply(pathway: Pathway, lang: str) -> Reply:
    parts = [pathway.title(lang), pathway.intro(lang), t(lang, "pw_saved_note")]
    return Reply("\n\n".join(p for p in parts if p))


def question_reply(pathway: Pathway, question: Question, lang: str) -> Reply:
    number = pathway.questions.index(question) + 1
    progress = t(lang, "pw_progress", number=number, total=len(pathway.questions))
    buttons = [
        Button(o.label(lang), data(pathway, "a", question.id, o.id)) for o in question.options
    ]
    return Reply(f"{progress}\n\n{question.text(lang)}", rows(buttons, 1))


def resume_reply(pathway: Pathway, answered: int, lang: str) -> Reply:
    text = t(
        lang, "pw_resume", title=pathway.title(lang), done=answered, total=len(pathway.questions)
    )
    buttons = (
        Button(t(lang, "pw_continue"), data(pathway, "go")),
        Button(t(lang, "pw_restart"), data(pathway, "new")),
    )
    return Reply(text, (buttons,))


def finished_reply(pathway: Pathway, finished: dt.date | None, lang: str) -> Reply:
    when = format_date(lang, finished) if finished else "–"
    text = t(lang, "pw_finished", title=pathway.title(lang), date=when)
    buttons = (
        Button(t(lang, "pw_show_result"), data(pathway, "res")),
        Button(t(lang, "pw_restart"), data(pathway, "new")),
    )
    return Reply(text, (buttons,))


def summary_reply(pathway: Pathway, assessment: Assessment, lang: str) -> Reply:
    """Strengths and gaps in plain words, each with its dimension's own text."""
    lines = [t(lang, "pw_result_title", title=pathway.title(lang)), "", t(lang, "pw_strengths")]
    lines += [f"• {d.name(lang)}: {d.strength(lang)}" for d in assessment.strengths] or [
        t(lang, "pw_no_strengths")
    ]
    lines += ["", t(lang, "pw_gaps")]
    lines += [f"• {d.name(lang)}: {d.gap(lang)}" for d in assessment.gaps] or [
        t(lang, "pw_no_gaps")
    ]
    return Reply("\n".join(lines))


def _place(knowledge: Knowledge, profile: Profile, lang: str) -> str:
    country = knowledge.countries.get(profile.country or "")
    city = knowledge.city(profile.city)
    names = [city.name(lang)] if city and city.country == profile.country else []
    return ", ".join([*names, country.name(lang)]) if country else ""


def _step_lines(number: int, item: PlannedStep, lang: str) -> list[str]:
    mark = f"{FIRST_MARK} " if item.first else ""
    lines = [f"{number}. {mark}{item.step.title(lang)}", item.step.text(lang)]
    lines += [f"   • {s.name}: {s.website}" for s in item.services]
    if item.step.sources:
        lines.append(f"   {t(lang, 'sources')}: " + " · ".join(item.step.sources))
    return lines


def steps_reply(
    knowledge: Knowledge, pathway: Pathway, planned: list[PlannedStep], profile: Profile
) -> Reply:
    """The user's own steps, each with the services that help (name and website)."""
    lang = profile.lang
    restart = Button(t(lang, "pw_restart"), data(pathway, "new"))
    again = ((restart,),) if pathway.questions else ()
    if not profile.country:
        return Reply(
            t(lang, "pw_need_country"),
            ((Button(t(lang, "field_country"), "pf:country"),), *again),
        )
    if not planned:
        return Reply(t(lang, "pw_no_steps"), again)
    lines = [t(lang, "pw_steps_title", place=_place(knowledge, profile, lang))]
    for number, item in enumerate(planned, 1):
        lines += ["", *_step_lines(number, item, lang)]
    lines.append("")
    if any(item.first for item in planned):
        lines.append(t(lang, "pw_first_note", mark=FIRST_MARK))
    reviewed = min(item.step.reviewed for item in planned)
    lines.append(f"{t(lang, 'reviewed')}: {format_date(lang, reviewed)}")
    return Reply("\n".join(lines), _step_buttons(knowledge, pathway, planned, lang, restart))


def _step_buttons(
    knowledge: Knowledge,
    pathway: Pathway,
    planned: list[PlannedStep],
    lang: str,
    restart: Button,
) -> tuple[tuple[Button, ...], ...]:
    intents: list[str] = []
    for item in planned:
        intents += [i for i in item.step.intents if i in knowledge.intents and i not in intents]
    read_more = [
        Button(knowledge.intents[i].title(lang), f"ask:{i}") for i in intents[:MAX_INTENT_BUTTONS]
    ]
    again = ((restart,),) if pathway.questions else ()  # a plain step list has no answers
    return (
        (Button(t(lang, "pw_add_checklist"), data(pathway, "ck")),),
        *rows(read_more, 1),
        *again,
    )


def added_reply(added: int, lang: str) -> Reply:
    text = t(lang, "pw_added", count=added) if added else t(lang, "pw_already_added")
    return Reply(text, ((Button(t(lang, "pw_open_checklist"), "ck:l"),),))
