"""What every part of the mentoring feature shares (bot/core/mentoring.py wires the parts).

The conversation steps and text limits, the knowledge and the store, the user's language,
the outbox hand-off, and the small reply helpers of the forms.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.core import render_mentoring as render
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.mentoring_notices import notice_reply
from bot.core.replies import Button, Incoming, Reply
from bot.i18n import t
from bot.knowledge.mentoring import MentoringCatalog
from bot.knowledge.model import Knowledge
from bot.mentoring_store import MentoringStore
from bot.storage import Profile, Store

# Conversation steps waiting for typed text (kept in Profile.onboarding_step, so starting
# anything else that waits for text, such as /start or /human, replaces them).
STEP_INTRO, STEP_NAME = "mt_intro", "mt_name"  # volunteer form
STEP_BUDDY_NAME, STEP_BUDDY_NOTE = "mt_bname", "mt_bnote"  # buddy request
STEP_REASON = "mt_reason"  # report on a match
MENTORING_STEPS = frozenset({STEP_INTRO, STEP_NAME, STEP_BUDDY_NAME, STEP_BUDDY_NOTE, STEP_REASON})
MAX_NAME = 40
MAX_INTRO = 300
MAX_REASON = 1000
# Telegram handles and links: contacts are exchanged only after both accept, so profiles
# must not carry them.
_CONTACT_LIKE = re.compile(r"@[A-Za-z0-9_]{4,}|t\.me/|telegram\.me/|tg://", re.IGNORECASE)
Notices = list[dict[str, Any]]  # rows for the outbox (bot/core/mentoring_notices.py)
# An `mt:` button's handler (profile, argument, the update) and a step's (profile, text);
# None when the button or the form is out of date.
ButtonHandler = Callable[[Profile, str, Incoming], list[Reply] | None]
TextHandler = Callable[[Profile, str], list[Reply] | None]


class MentoringContext:
    """The knowledge, the store and the admins, as every part of the feature uses them."""

    def __init__(
        self,
        holder: KnowledgeHolder,
        store: Store,
        *,
        admin_ids: Callable[[], frozenset[int]],
    ) -> None:
        self.holder = holder
        self.store = store
        self.data = MentoringStore(store)
        self.admin_ids = admin_ids

    @property
    def knowledge(self) -> Knowledge:
        return self.holder.current.knowledge

    @property
    def catalog(self) -> MentoringCatalog:
        return self.knowledge.mentoring

    def lang_of(self, user_id: int | None) -> str:
        profile = self.store.get_profile(user_id) if user_id is not None else None
        return profile.lang if profile else "en"

    def step(self, profile: Profile, step: str | None) -> Profile:
        return self.store.update_profile(profile, onboarding_step=step, editing=False)

    def deliver(self, notices: Notices) -> list[Reply]:
        """The stored notices among `notices` that still wait to be sent, as replies."""
        rows = self.data.notices_by_keys(n["source_key"] for n in notices)
        return [notice_reply(row) for row in rows if row["status"] == "pending"]

    @staticmethod
    def origin(incoming: Incoming) -> str:
        """What a notice key of a repeatable event names: the update that caused it."""
        return incoming.source_key or f"once-{uuid.uuid4().hex}"

    def languages_prompt(
        self, lang: str, chosen: list[str], prefix: str, done: str, volunteer: bool
    ) -> Reply:
        options = [(code, c.label(lang)) for code, c in self.catalog.languages.items()]
        key = "mt_vol_languages" if volunteer else "mt_buddy_languages"
        return Reply(t(lang, key), render.toggles(options, chosen, prefix, done, lang))


def toggle(values: list[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]


def edit(reply: Reply, incoming: Incoming) -> Reply:
    """Update the pressed message in place (a multiple choice), when the adapter knows it."""
    return replace(reply, edit_message_id=incoming.message_id) if incoming.message_id else reply


def with_cancel(text: str, lang: str, data: str) -> Reply:
    return Reply(text, ((Button(t(lang, "consent_cancel"), data),),))


def text_problem(lang: str, text: str, limit: int) -> str | None:
    """Why a typed name, intro or note cannot be used (None when it can)."""
    if not text:
        return t(lang, "empty_message")
    if len(text) > limit:
        return t(lang, "mt_too_long", limit=limit)
    if _CONTACT_LIKE.search(text):
        return t(lang, "mt_no_contacts")
    return None
