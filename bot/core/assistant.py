"""The assistant: one entry point, `handle`, shared by Telegram and the terminal chat."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.core import onboarding, render
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Incoming, Reply
from bot.core.understanding import understand
from bot.i18n import pick_language, t
from bot.matching.normalize import clean
from bot.storage import Clock, Profile, Store, utc_now

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
COMMANDS = ("start", "help", "profile", "human", "privacy", "export", "forget")


class Assistant:
    """Turns what a user did into replies, reading and updating their stored state."""

    def __init__(self, holder: KnowledgeHolder, store: Store, *, clock: Clock = utc_now) -> None:
        self.holder = holder
        self.store = store
        self.clock = clock

    @property
    def knowledge(self):
        return self.holder.current.knowledge

    def profile_of(self, user_id: int, language_code: str | None = None) -> Profile:
        """The stored profile, created on first contact with the client's language."""
        profile = self.store.get_profile(user_id)
        if profile is None:
            profile = self.store.save_profile(
                Profile(user_id=user_id, lang=pick_language(language_code))
            )
        return profile

    def handle(self, msg: Incoming) -> list[Reply]:
        profile = self.profile_of(msg.user_id, msg.language_code)
        if msg.kind == "command":
            return self._command(profile, msg.text.lower(), msg.args)
        if msg.kind == "button":
            return self._button(profile, msg.text)
        if msg.kind == "media":
            return [Reply(t(profile.lang, "media_unsupported"))]
        return self._text(profile, msg.text)

    # --- commands ---------------------------------------------------------------------------

    def _command(self, profile: Profile, name: str, args: str) -> list[Reply]:
        lang = profile.lang
        if name == "start":
            profile = self.store.update_profile(profile, onboarding_step="lang", editing=False)
            return [Reply(t(lang, "welcome")), onboarding.prompt("lang", profile, self.knowledge)]
        if name == "help":
            return [Reply(t(lang, "help"))]
        if name == "profile":
            return [onboarding.summary(profile, self.knowledge)]
        if name == "human":
            return [render.human_reply(self.knowledge, profile)]
        if name == "privacy":
            return self._privacy(profile)
        if name == "export":
            return [render.export_reply(self.store.export_user(profile.user_id), lang)]
        if name == "forget":
            return [render.forget_confirm_reply(lang)]
        return [Reply(t(lang, "unknown_command"))]

    # --- text -------------------------------------------------------------------------------

    def _text(self, profile: Profile, raw: str) -> list[Reply]:
        text = clean(raw)
        lang = profile.lang
        if not text:
            return [Reply(t(lang, "empty_message"))]
        if profile.onboarding_step == "arrival":
            return self._onboarding_answer(profile, "arrival", text)
        loaded = self.holder.current
        seen = understand(loaded, text[:MAX_QUESTION_CHARS])
        if seen.smalltalk:
            return [Reply(t(lang, seen.smalltalk))]
        result = seen.result
        knowledge = loaded.knowledge
        if seen.services_request:
            intent_id = result.intent_id if result.outcome == "answer" else profile.last_intent
            if intent_id in knowledge.intents:
                intent = knowledge.intents[intent_id]
                return [render.services_reply(knowledge, intent, profile, seen.city)]
            return [render.human_reply(knowledge, profile)]
        question_id = self.store.record_question(
            profile.user_id,
            text[:MAX_QUESTION_CHARS],
            lang=lang,
            country=profile.country,
            outcome=result.outcome,
            intent=result.intent_id if result.outcome == "answer" else None,
            score=result.score,
        )
        if result.outcome == "answer" and result.intent_id:
            return self._answer(profile, result.intent_id, question_id)
        if result.outcome == "suggest":
            return [render.suggestions_reply(knowledge, result.suggestions, lang)]
        return [render.unknown_reply(knowledge, profile)]

    def _privacy(self, profile: Profile) -> list[Reply]:
        intent = self.knowledge.intents.get("privacy")
        if intent is None:
            return [Reply(t(profile.lang, "help"))]
        return [render.answer_reply(self.knowledge, intent, profile, None)]

    def _answer(self, profile: Profile, intent_id: str, question_id: int | None) -> list[Reply]:
        knowledge = self.knowledge
        intent = knowledge.intents[intent_id]
        self.store.update_profile(profile, last_intent=intent_id)
        return [render.answer_reply(knowledge, intent, profile, question_id)]

    # --- buttons ----------------------------------------------------------------------------

    def _button(self, profile: Profile, data: str) -> list[Reply]:
        kind, _, rest = data.partition(":")
        handler = {
            "ob": self._onboarding_button,
            "pf": self._profile_button,
            "ask": self._ask_button,
            "ans": self._country_answer_button,
            "fb": self._feedback_button,
            "svc": self._services_button,
        }.get(kind)
        if data == "human":
            return [render.human_reply(self.knowledge, profile)]
        if data == "fg:yes":
            self.store.forget_user(profile.user_id)
            return [Reply(t(profile.lang, "forget_done"))]
        if data == "fg:no":
            return [Reply(t(profile.lang, "forget_cancelled"))]
        replies = handler(profile, rest) if handler else None
        return replies or [Reply(t(profile.lang, "stale_button"))]

    def _onboarding_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        step, _, value = rest.partition(":")
        if step not in onboarding.STEPS:
            return None
        return self._onboarding_answer(profile, step, value)

    def _onboarding_answer(self, profile: Profile, step: str, value: str) -> list[Reply] | None:
        knowledge = self.knowledge
        today = self.clock().date()
        updated = onboarding.apply(step, value, profile, knowledge, today=today)
        if updated is None:
            if step == "arrival":
                return [Reply(t(profile.lang, "arrival_invalid"))]
            return None
        in_flow = profile.onboarding_step == step and not profile.editing
        if not in_flow:  # a change from /profile, or an old onboarding button
            updated = replace(updated, onboarding_step=None, editing=False)
            if step == "country" and updated.city is None and updated.country:
                updated = replace(updated, onboarding_step="city", editing=True)
                self.store.save_profile(updated)
                return [onboarding.prompt("city", updated, knowledge)]
            self.store.save_profile(updated)
            return [Reply(t(updated.lang, "profile_saved")), onboarding.summary(updated, knowledge)]
        following = onboarding.next_step(updated, step)
        updated = replace(updated, onboarding_step=following)
        self.store.save_profile(updated)
        if following is None:
            return [Reply(t(updated.lang, "onboarding_done"))]
        return [onboarding.prompt(following, updated, knowledge)]

    def _profile_button(self, profile: Profile, step: str) -> list[Reply] | None:
        if step not in onboarding.STEPS:
            return None
        if step == "city" and not profile.country:
            step = "country"
        profile = self.store.update_profile(profile, onboarding_step=step, editing=True)
        return [onboarding.prompt(step, profile, self.knowledge)]

    def _ask_button(self, profile: Profile, intent_id: str) -> list[Reply] | None:
        intent = self.knowledge.intents.get(intent_id)
        if intent is None:
            return None
        question_id = self.store.record_question(
            profile.user_id,
            intent.title(profile.lang),
            lang=profile.lang,
            country=profile.country,
            outcome="chosen",
            intent=intent_id,
            score=100.0,
        )
        return self._answer(profile, intent_id, question_id)

    def _country_answer_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        intent_id, _, country = rest.partition(":")
        intent = self.knowledge.intents.get(intent_id)
        if intent is None or country not in intent.answers:
            return None
        view = replace(profile, country=country)
        return [render.answer_reply(self.knowledge, intent, view, None)]

    def _feedback_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        direction, _, raw_id = rest.partition(":")
        if direction not in ("up", "dn") or not raw_id.isdigit():
            return None
        value = 1 if direction == "up" else -1
        if not self.store.record_feedback(profile.user_id, int(raw_id), value):
            return None
        return [Reply(t(profile.lang, "feedback_up" if value > 0 else "feedback_down"))]

    def _services_button(self, profile: Profile, intent_id: str) -> list[Reply] | None:
        intent = self.knowledge.intents.get(intent_id)
        if intent is None:
            return None
        city = self.knowledge.city(profile.city)
        return [render.services_reply(self.knowledge, intent, profile, city)]
