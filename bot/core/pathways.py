"""Guided pathways such as /business: the self-assessment flow and its result.

The state lives in SQLite (bot/pathways_store.py): every answer is stored when it is given,
and the next question is always "the first one without an answer", so a restart, a second
device or an old message cannot put the flow out of step. A button from an earlier question
or an earlier run changes nothing and says so, then shows where the user really is.
"""

from __future__ import annotations

import datetime as dt

from bot.core import render_pathway as render
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.pathway_plan import assess, next_question, plan, valid_answers
from bot.core.replies import Button, Reply
from bot.i18n import t
from bot.knowledge.pathway_model import Pathway
from bot.pathways_store import DONE, PathwayStore, Run
from bot.storage import Profile, Store

MAX_TASK_TITLE = 200
TASK_SPACING_DAYS = 7  # checklist due dates, when a step has no `due` of its own


class Pathways:
    """Commands and buttons (`pw:`) of the guided pathways."""

    def __init__(self, holder: KnowledgeHolder, store: Store) -> None:
        self.holder = holder
        self.store = store
        self.runs = PathwayStore(store)

    def _pathway(self, pathway_id: str) -> Pathway | None:
        return self.holder.current.knowledge.pathways.get(pathway_id)

    # --- entry points ---------------------------------------------------------------------

    def command(self, profile: Profile, pathway_id: str) -> list[Reply]:
        """/business: start, offer to continue, or offer the finished result."""
        pathway = self._pathway(pathway_id)
        if pathway is None:
            return [Reply(t(profile.lang, "pw_unavailable"))]
        if not pathway.questions:  # a plain step list (nothing to answer, nothing stored)
            return self._replies_for(profile, pathway, {})
        run = self.runs.run(profile.user_id, pathway.id)
        if run is None:
            return self._start(profile, pathway)
        return self._where(profile, pathway, run)

    def button(self, profile: Profile, rest: str, *, today: dt.date) -> list[Reply]:
        """`pw:<pathway>:<action>[:<question>:<option>]`."""
        pathway_id, _, action = rest.partition(":")
        pathway = self._pathway(pathway_id)
        if pathway is None:
            return [Reply(t(profile.lang, "stale_button"))]
        if not pathway.questions:
            return self._steps_only_button(profile, pathway, action, today)
        if action.startswith("a:"):
            question_id, _, option_id = action[2:].partition(":")
            return self._answer(profile, pathway, question_id, option_id)
        if action == "new":
            return self._start(profile, pathway)
        run = self.runs.run(profile.user_id, pathway.id)
        if run is None:  # e.g. after /forget: nothing is stored again without a new start
            return (
                self._start(profile, pathway)
                if action == "go"
                else [self._offer_start(pathway, profile.lang)]
            )
        finished = run.status == DONE
        if action == "go":
            return (
                self._result(profile, pathway, run)
                if finished
                else self._where(profile, pathway, run)
            )
        if action in ("res", "ck") and not finished:
            return [
                Reply(t(profile.lang, "pw_stale_not_done")),
                *self._where(profile, pathway, run),
            ]
        if action == "res":
            return self._result(profile, pathway, run)
        if action == "ck":
            return [self._add_to_checklist(profile, pathway, run.answers, today)]
        return [Reply(t(profile.lang, "stale_button"))]

    def _steps_only_button(
        self, profile: Profile, pathway: Pathway, action: str, today: dt.date
    ) -> list[Reply]:
        if action in ("go", "res"):
            return self._replies_for(profile, pathway, {})
        if action == "ck":
            return [self._add_to_checklist(profile, pathway, {}, today)]
        return [Reply(t(profile.lang, "stale_button"))]

    def _offer_start(self, pathway: Pathway, lang: str) -> Reply:
        start = Button(t(lang, "pw_start"), render.data(pathway, "new"))
        return Reply(t(lang, "pw_stale_finished"), ((start,),))

    # --- the flow -------------------------------------------------------------------------

    def _start(self, profile: Profile, pathway: Pathway) -> list[Reply]:
        self.runs.start(profile.user_id, pathway.id)
        lang = profile.lang
        return [
            render.intro_reply(pathway, lang),
            render.question_reply(pathway, pathway.questions[0], lang),
        ]

    def _where(self, profile: Profile, pathway: Pathway, run: Run) -> list[Reply]:
        """Where the user stands: the finished result's offer, or the question to answer."""
        lang = profile.lang
        if run.status == DONE:
            finished = (
                dt.datetime.fromisoformat(run.finished_at).date() if run.finished_at else None
            )
            return [render.finished_reply(pathway, finished, lang)]
        answered = len(valid_answers(pathway, run.answers))
        question = next_question(pathway, run.answers)
        if question is None:  # every answer is in, but the run was not closed (a crash)
            return self._finish(profile, pathway, run.answers)
        if answered == 0:
            return [render.question_reply(pathway, question, lang)]
        return [
            render.resume_reply(pathway, answered, lang),
            render.question_reply(pathway, question, lang),
        ]

    def _answer(
        self, profile: Profile, pathway: Pathway, question_id: str, option_id: str
    ) -> list[Reply]:
        lang = profile.lang
        run = self.runs.run(profile.user_id, pathway.id)
        if run is None:  # e.g. after /forget: nothing is stored again without a new start
            return [self._offer_start(pathway, lang)]
        if run.status == DONE:  # a button of a finished run must not reopen or change it
            return [Reply(t(lang, "pw_stale_finished")), *self._where(profile, pathway, run)]
        current = next_question(pathway, run.answers)
        if current is None:
            return self._finish(profile, pathway, run.answers)
        if current.id != question_id or current.option(option_id) is None:
            return [
                Reply(t(lang, "pw_stale_answered")),
                render.question_reply(pathway, current, lang),
            ]
        self.runs.answer(profile.user_id, pathway.id, question_id, option_id)  # committed now
        answers = {**run.answers, question_id: option_id}
        following = next_question(pathway, answers)
        if following is not None:
            return [render.question_reply(pathway, following, lang)]
        return self._finish(profile, pathway, answers)

    def _finish(self, profile: Profile, pathway: Pathway, answers: dict[str, str]) -> list[Reply]:
        self.runs.finish(profile.user_id, pathway.id)
        return self._replies_for(profile, pathway, answers)

    def _result(self, profile: Profile, pathway: Pathway, run: Run) -> list[Reply]:
        return self._replies_for(profile, pathway, run.answers)

    def _replies_for(
        self, profile: Profile, pathway: Pathway, answers: dict[str, str]
    ) -> list[Reply]:
        """The summary and the step list, computed now from the answers and the profile (so a
        changed city or reloaded knowledge shows up when the result is seen again). A pathway
        without questions has no summary, only its steps."""
        knowledge = self.holder.current.knowledge
        assessment = assess(pathway, answers)
        planned = plan(knowledge, pathway, profile, assessment.gap_ids)
        steps = render.steps_reply(knowledge, pathway, planned, profile)
        if not pathway.questions:
            return [steps]
        return [render.summary_reply(pathway, assessment, profile.lang), steps]

    def _add_to_checklist(
        self, profile: Profile, pathway: Pathway, answers: dict[str, str], today: dt.date
    ) -> Reply:
        """The planned steps as the user's own tasks, a week apart; each step is added once
        (keyed by pathway and step), so tapping again adds only steps that are new."""
        knowledge = self.holder.current.knowledge
        lang = profile.lang
        planned = plan(knowledge, pathway, profile, assess(pathway, answers).gap_ids)
        before = len(self.store.tasks_of(profile.user_id))
        task_ids = []
        for index, item in enumerate(planned):
            title = item.step.title(lang)
            if item.services:
                title = f"{title} ({item.services[0].name})"
            days = item.step.due if item.step.due is not None else TASK_SPACING_DAYS * (index + 1)
            task_id = self.store.add_custom_task(
                profile.user_id,
                title[:MAX_TASK_TITLE],
                today + dt.timedelta(days=days),
                source_key=f"pw:{pathway.id}:{item.step.id}",
            )
            task_ids.append(task_id)
        self.runs.order_tasks(profile.user_id, task_ids)
        added = len(self.store.tasks_of(profile.user_id)) - before
        return render.added_reply(added, lang)
