"""/buddy: a newcomer's open matches, or a new request (topic, languages, name, a note).

One request at a time; a finished request becomes a proposal (bot/core/mentoring_proposals.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core import render_mentoring as render
from bot.core.mentoring_context import (
    MAX_INTRO,
    MAX_NAME,
    STEP_BUDDY_NAME,
    STEP_BUDDY_NOTE,
    ButtonHandler,
    MentoringContext,
    TextHandler,
    edit,
    text_problem,
    toggle,
    with_cancel,
)
from bot.core.mentoring_matches import Matches
from bot.core.mentoring_proposals import Proposals
from bot.core.replies import Button, Incoming, Reply
from bot.i18n import t
from bot.storage import Profile


class BuddyRequests:
    """The newcomer's side before a match: /buddy, the request form, looking again."""

    def __init__(self, ctx: MentoringContext, proposals: Proposals, matches: Matches) -> None:
        self.ctx = ctx
        self.data = ctx.data
        self.proposals = proposals
        self.matches = matches

    def buttons(self) -> dict[str, ButtonHandler]:
        return {
            "new": lambda p, _a, _i: self._request_start(p),
            "bt": self._request_topic,
            "bl": self._request_language,
            "bL": self._request_languages_done,
            "bs": self._request_skip_note,
            "bx": self._request_cancel,
            "more": self._look_again,
        }

    def steps(self) -> dict[str, TextHandler]:
        return {STEP_BUDDY_NAME: self._buddy_name_text, STEP_BUDDY_NOTE: self._buddy_note_text}

    def home(self, profile: Profile) -> list[Reply]:
        """/buddy: the user's open matches with their buttons, or a new request."""
        matches = self.data.open_matches_of(profile.user_id)
        shown = [self.matches.status(profile, m) for m in matches]
        replies = [r for r in shown if r is not None]
        if not replies:
            return self._topic_prompt(profile)
        if self.data.open_request_of(profile.user_id) is None:
            find = Button(t(profile.lang, "mt_find"), "mt:new")
            replies.append(Reply(t(profile.lang, "mt_find_more"), ((find,),)))
        first = replies[0]
        title = t(profile.lang, "mt_status_title")
        return [replace(first, text=f"{title}\n\n{first.text}"), *replies[1:]]

    def _request_start(self, profile: Profile) -> list[Reply]:
        """A new request; with one already open (one at a time), where things stand."""
        if self.data.open_request_of(profile.user_id) is not None:
            return self.home(profile)
        return self._topic_prompt(profile)

    def _topic_prompt(self, profile: Profile) -> list[Reply]:
        lang = profile.lang
        if not profile.country or not profile.city:
            step = "city" if profile.country else "country"
            button = Button(t(lang, "mt_set_city"), f"pf:{step}")
            return [Reply(t(lang, "mt_buddy_need_city"), ((button,),))]
        options = [(key, topic.label(lang)) for key, topic in self.ctx.catalog.topics.items()]
        return [Reply(t(lang, "mt_buddy_intro"), render.choices(options, "mt:bt", 1))]

    def _request(self, profile: Profile, *needed: str) -> dict[str, Any] | None:
        form = self.data.draft(profile.user_id, "request")
        if form is None or any(not form.get(key) for key in needed):
            return None
        return form

    def _request_topic(self, profile: Profile, topic: str, _: Incoming) -> list[Reply] | None:
        if topic not in self.ctx.catalog.topics:
            return None
        if self.data.open_request_of(profile.user_id) is not None or not profile.city:
            return self._request_start(profile)
        form = {
            "topic": topic,
            "country": profile.country,
            "city": profile.city,
            "languages": [profile.lang],
        }
        self.data.save_draft(profile.user_id, "request", form)
        return [self.ctx.languages_prompt(profile.lang, form["languages"], "mt:bl", "mt:bL", False)]

    def _request_language(
        self, profile: Profile, code: str, incoming: Incoming
    ) -> list[Reply] | None:
        form = self._request(profile, "topic")
        if form is None or code not in self.ctx.catalog.languages:
            return None
        form["languages"] = toggle(form.get("languages", []), code)
        self.data.save_draft(profile.user_id, "request", form)
        reply = self.ctx.languages_prompt(profile.lang, form["languages"], "mt:bl", "mt:bL", False)
        return [edit(reply, incoming)]

    def _request_languages_done(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._request(profile, "topic")
        if form is None:
            return None
        if not form.get("languages"):
            return [Reply(t(profile.lang, "mt_need_one"))]
        self.ctx.step(profile, STEP_BUDDY_NAME)
        return [with_cancel(t(profile.lang, "mt_buddy_ask_name"), profile.lang, "mt:bx")]

    def _buddy_name_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._request(profile, "topic", "languages")
        if form is None:
            return None
        problem = text_problem(profile.lang, text, MAX_NAME)
        if problem:
            return [with_cancel(problem, profile.lang, "mt:bx")]
        form["name"] = text
        self.data.save_draft(profile.user_id, "request", form)
        self.ctx.step(profile, STEP_BUDDY_NOTE)
        lang = profile.lang
        buttons = (
            (Button(t(lang, "skip"), "mt:bs"),),
            (Button(t(lang, "consent_cancel"), "mt:bx"),),
        )
        return [Reply(t(lang, "mt_buddy_ask_note"), buttons)]

    def _buddy_note_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._request(profile, "topic", "languages", "name")
        if form is None:
            return None
        problem = text_problem(profile.lang, text, MAX_INTRO)
        if problem:
            return [with_cancel(problem, profile.lang, "mt:bx")]
        return self._request_done(profile, form | {"note": text})

    def _request_skip_note(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._request(profile, "topic", "languages", "name")
        if form is None:
            return None
        return self._request_done(profile, form | {"note": ""})

    def _request_done(self, profile: Profile, form: dict[str, Any]) -> list[Reply]:
        self.data.drop_draft(profile.user_id, "request")
        profile = self.ctx.step(profile, None)
        return self.proposals.propose(profile, form | {"newcomer_id": profile.user_id})

    def _request_cancel(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        self.data.drop_draft(profile.user_id, "request")
        if profile.onboarding_step in (STEP_BUDDY_NAME, STEP_BUDDY_NOTE):
            self.ctx.step(profile, None)
        return [Reply(t(profile.lang, "mt_cancelled"))]

    def _look_again(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        """After a volunteer declined or let the request expire: the next proposal."""
        match = self.matches.own_match(profile, arg, "newcomer")
        if match is None or match.state not in ("declined", "expired"):
            return None
        if self.data.open_request_of(profile.user_id) is not None:
            return self.home(profile)
        return self.proposals.next_proposal(profile, match)
