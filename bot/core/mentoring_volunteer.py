"""/volunteer: the sign-up form, and the volunteer's own profile (pause, resume, change,
withdraw).

The form (country, city, languages, topics, availability, a short intro and a name) is a
draft until submitted; a submitted or changed profile waits for an admin's approval
(bot/core/mentoring_approval.py).
"""

from __future__ import annotations

from typing import Any

from bot.core import render_mentoring as render
from bot.core.mentoring_approval import Approval
from bot.core.mentoring_context import (
    MAX_INTRO,
    MAX_NAME,
    STEP_INTRO,
    STEP_NAME,
    ButtonHandler,
    MentoringContext,
    Notices,
    TextHandler,
    edit,
    text_problem,
    toggle,
    with_cancel,
)
from bot.core.mentoring_matches import Matches
from bot.core.replies import Button, Incoming, Reply
from bot.i18n import t
from bot.mentoring_store import Volunteer
from bot.storage import Profile


class VolunteerForm:
    """The volunteer's side: the form and their profile."""

    def __init__(self, ctx: MentoringContext, approval: Approval, matches: Matches) -> None:
        self.ctx = ctx
        self.data = ctx.data
        self.approval = approval
        self.matches = matches

    def buttons(self) -> dict[str, ButtonHandler]:
        return {
            # the form
            "vc": self._form_country,
            "vt": self._form_city,
            "vl": self._form_language,
            "vL": self._form_languages_done,
            "vp": self._form_topic,
            "vP": self._form_topics_done,
            "va": self._form_availability,
            "vs": self._form_submit,
            "vx": self._form_cancel,
            # the volunteer's own profile
            "pause": self._pause,
            "resume": self._resume,
            "edit": self._form_restart,
            "wd": self._withdraw_ask,
            "wdy": self._withdraw,
        }

    def steps(self) -> dict[str, TextHandler]:
        return {STEP_INTRO: self._intro_text, STEP_NAME: self._name_text}

    def home(self, profile: Profile) -> list[Reply]:
        """/volunteer: the volunteer's profile and what they can do with it, or the form."""
        volunteer = self.data.volunteer_of(profile.user_id)
        if volunteer is None:
            return self._form_start(profile)
        lang = profile.lang
        status = t(lang, f"mt_status_{volunteer.status}")
        text = (
            t(lang, "mt_vol_status", status=status)
            + "\n\n"
            + render.volunteer_card(self.ctx.knowledge, volunteer, lang)
        )
        buttons: list[Button] = []
        if volunteer.status == "approved":
            buttons.append(Button(t(lang, "mt_vol_pause"), "mt:pause"))
        if volunteer.status == "paused":
            buttons.append(Button(t(lang, "mt_vol_resume"), "mt:resume"))
        if volunteer.status != "rejected":
            buttons.append(Button(t(lang, "mt_vol_edit"), "mt:edit"))
        buttons.append(Button(t(lang, "mt_vol_withdraw"), "mt:wd"))
        return [Reply(text, tuple((b,) for b in buttons))]

    # --- the form ---------------------------------------------------------------------------

    def _form_restart(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        """Change the profile: the form again; the new profile waits for approval again."""
        volunteer = self.data.volunteer_of(profile.user_id)
        if volunteer is None or volunteer.status == "rejected":
            return None
        return self._form_start(profile)

    def _form_start(self, profile: Profile) -> list[Reply]:
        self.data.save_draft(profile.user_id, "volunteer", {"languages": [profile.lang]})
        lang = profile.lang
        options = [(c.code, c.name(lang)) for c in self.ctx.knowledge.countries.values()]
        return [Reply(t(lang, "mt_vol_intro"), render.choices(options, "mt:vc"))]

    def _form(self, profile: Profile, *needed: str) -> dict[str, Any] | None:
        """The volunteer's form in progress, if it has the fields an answer builds on."""
        form = self.data.draft(profile.user_id, "volunteer")
        if form is None or any(not form.get(key) for key in needed):
            return None
        return form

    def _form_country(self, profile: Profile, code: str, _: Incoming) -> list[Reply] | None:
        form = self._form(profile)
        country = self.ctx.knowledge.countries.get(code)
        if form is None or country is None:
            return None
        form |= {"country": code, "city": ""}
        self.data.save_draft(profile.user_id, "volunteer", form)
        options = [(city.id, city.name(profile.lang)) for city in country.cities]
        return [Reply(t(profile.lang, "mt_vol_city"), render.choices(options, "mt:vt"))]

    def _form_city(self, profile: Profile, city_id: str, _: Incoming) -> list[Reply] | None:
        form = self._form(profile, "country")
        city = self.ctx.knowledge.city(city_id)
        if form is None or city is None or city.country != form["country"]:
            return None
        form["city"] = city_id
        self.data.save_draft(profile.user_id, "volunteer", form)
        return [self.ctx.languages_prompt(profile.lang, form["languages"], "mt:vl", "mt:vL", True)]

    def _topics_prompt(self, lang: str, chosen: list[str]) -> Reply:
        options = [
            (topic_id, topic.label(lang)) for topic_id, topic in self.ctx.catalog.topics.items()
        ]
        keyboard = render.toggles(options, chosen, "mt:vp", "mt:vP", lang)
        return Reply(t(lang, "mt_vol_topics"), keyboard)

    def _form_language(self, profile: Profile, code: str, incoming: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city")
        if form is None or code not in self.ctx.catalog.languages:
            return None
        form["languages"] = toggle(form.get("languages", []), code)
        self.data.save_draft(profile.user_id, "volunteer", form)
        reply = self.ctx.languages_prompt(profile.lang, form["languages"], "mt:vl", "mt:vL", True)
        return [edit(reply, incoming)]

    def _form_languages_done(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city")
        if form is None:
            return None
        if not form.get("languages"):
            return [Reply(t(profile.lang, "mt_need_one"))]
        return [self._topics_prompt(profile.lang, form.get("topics", []))]

    def _form_topic(self, profile: Profile, topic: str, incoming: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages")
        if form is None or topic not in self.ctx.catalog.topics:
            return None
        form["topics"] = toggle(form.get("topics", []), topic)
        self.data.save_draft(profile.user_id, "volunteer", form)
        return [edit(self._topics_prompt(profile.lang, form["topics"]), incoming)]

    def _form_topics_done(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages")
        if form is None:
            return None
        if not form.get("topics"):
            return [Reply(t(profile.lang, "mt_need_one"))]
        lang = profile.lang
        options = [(key, a.label(lang)) for key, a in self.ctx.catalog.availability.items()]
        return [Reply(t(lang, "mt_vol_availability"), render.choices(options, "mt:va", 1))]

    def _form_availability(self, profile: Profile, key: str, _: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages", "topics")
        if form is None or key not in self.ctx.catalog.availability:
            return None
        form["availability"] = key
        self.data.save_draft(profile.user_id, "volunteer", form)
        self.ctx.step(profile, STEP_INTRO)
        return [with_cancel(t(profile.lang, "mt_vol_ask_intro"), profile.lang, "mt:vx")]

    def _intro_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._form(profile, "availability")
        if form is None:
            return None
        problem = text_problem(profile.lang, text, MAX_INTRO)
        if problem:
            return [with_cancel(problem, profile.lang, "mt:vx")]
        form["intro"] = text
        self.data.save_draft(profile.user_id, "volunteer", form)
        self.ctx.step(profile, STEP_NAME)
        return [with_cancel(t(profile.lang, "mt_vol_ask_name"), profile.lang, "mt:vx")]

    def _name_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._form(profile, "availability", "intro")
        if form is None:
            return None
        problem = text_problem(profile.lang, text, MAX_NAME)
        if problem:
            return [with_cancel(problem, profile.lang, "mt:vx")]
        form["name"] = text
        self.data.save_draft(profile.user_id, "volunteer", form)
        self.ctx.step(profile, None)
        lang = profile.lang
        text = t(lang, "mt_vol_review") + "\n\n" + render.draft_card(self.ctx.knowledge, form, lang)
        buttons = (
            (Button(t(lang, "mt_vol_submit"), "mt:vs"),),
            (Button(t(lang, "consent_cancel"), "mt:vx"),),
        )
        return [Reply(text, buttons)]

    def _form_submit(self, profile: Profile, _: str, incoming: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages", "topics", "availability", "intro", "name")
        if form is None or form["availability"] not in self.ctx.catalog.availability:
            return None
        capacity = self.ctx.catalog.availability[form["availability"]].capacity
        origin = self.ctx.origin(incoming)
        notices: Notices = []

        def admin_notices(volunteer: Volunteer) -> Notices:
            notices[:] = self.approval.admin_notices(volunteer, origin)
            return notices

        self.data.submit_volunteer(profile.user_id, form, capacity, notices=admin_notices)
        # Honest: without an admin nobody can approve the profile yet.
        key = "mt_vol_submitted" if self.ctx.admin_ids() else "mt_vol_submitted_no_admin"
        return [Reply(t(profile.lang, key)), *self.ctx.deliver(notices)]

    def _form_cancel(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        self.data.drop_draft(profile.user_id, "volunteer")
        if profile.onboarding_step in (STEP_INTRO, STEP_NAME):
            self.ctx.step(profile, None)
        return [Reply(t(profile.lang, "mt_cancelled"))]

    # --- the volunteer's profile ------------------------------------------------------------

    def _pause(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        volunteer = self.data.volunteer_of(profile.user_id)
        if volunteer is None or not self.data.set_status(volunteer.id, ("approved",), "paused"):
            return None
        return [Reply(t(profile.lang, "mt_vol_paused"))]

    def _resume(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        volunteer = self.data.volunteer_of(profile.user_id)
        if volunteer is None or not self.data.set_status(volunteer.id, ("paused",), "approved"):
            return None
        return [Reply(t(profile.lang, "mt_vol_resumed"))]

    def _withdraw_ask(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        if self.data.volunteer_of(profile.user_id) is None:
            return None
        lang = profile.lang
        buttons = (
            (Button(t(lang, "mt_vol_withdraw_yes"), "mt:wdy"),),
            (Button(t(lang, "mt_no_keep"), "mt:keep"),),
        )
        return [Reply(t(lang, "mt_vol_withdraw_confirm"), buttons)]

    def _withdraw(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        if self.data.volunteer_of(profile.user_id) is None:
            return None
        notices = self.matches.close_all(
            profile.user_id, volunteer_only=True
        )  # sent before erasing
        self.data.delete_volunteer(profile.user_id)
        self.data.drop_draft(profile.user_id, "volunteer")
        return [Reply(t(profile.lang, "mt_vol_withdrawn")), *notices]
