"""Buddies and mentors: volunteers, matching, mutual consent, ending and reporting a match.

Telegram-independent like the rest of the core. Volunteers (`/volunteer`) fill a short form
that an admin approves; newcomers (`/buddy`) choose a topic and get one proposal at a time.
Contact details are exchanged only when both sides accepted: the newcomer first (the volunteer
then sees the newcomer's short profile), then the volunteer. Each side's contact is taken at
the moment they press Accept and stored with that consent; nothing else ever reveals it.

Messages to anyone but the person who acted are notices in an outbox (see
`bot/core/mentoring_notices.py`): stored with the change they announce, sent again by
`maintenance` until the adapter reports them delivered. `maintenance` also expires proposals
nobody answered within `settings.reply_days` of knowledge/mentoring.yaml.

Callback data: `mt:<action>:<arg>`; match and volunteer numbers, never Telegram ids.

This module wires the parts, each in its own module:
- bot/core/mentoring_context.py: what they share (steps, limits, store, language, outbox hand-off);
- bot/core/mentoring_volunteer.py: the volunteer form and the volunteer's profile;
- bot/core/mentoring_approval.py: admins approving and rejecting volunteers;
- bot/core/mentoring_requests.py: /buddy and the newcomer's request;
- bot/core/mentoring_proposals.py: ranking volunteers, the proposals;
- bot/core/mentoring_matches.py: consent, a match's status, ending it;
- bot/core/mentoring_reports.py: reporting a match to the admins;
- bot/core/mentoring_outbox.py: delivery reports, sending again, expiry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.mentoring_approval import Approval
from bot.core.mentoring_context import (
    MENTORING_STEPS,
    ButtonHandler,
    MentoringContext,
    TextHandler,
)
from bot.core.mentoring_matches import Matches, contact_of
from bot.core.mentoring_outbox import GIVE_UP_TRIES, Outbox
from bot.core.mentoring_proposals import Proposals, Request, candidates
from bot.core.mentoring_reports import Reports
from bot.core.mentoring_requests import BuddyRequests
from bot.core.mentoring_volunteer import VolunteerForm
from bot.core.replies import Incoming, Reply
from bot.i18n import t
from bot.knowledge.mentoring import MentoringCatalog
from bot.matching.normalize import clean
from bot.storage import Profile, Store

__all__ = [
    "GIVE_UP_TRIES",
    "MENTORING_STEPS",
    "Mentoring",
    "Request",
    "candidates",
    "contact_of",
]


class Mentoring:
    """The /volunteer and /buddy flows; returns replies, some addressed to other chats."""

    def __init__(
        self,
        holder: KnowledgeHolder,
        store: Store,
        *,
        admin_ids: Callable[[], frozenset[int]],
    ) -> None:
        self.ctx = MentoringContext(holder, store, admin_ids=admin_ids)
        self.holder = holder
        self.store = store
        self.data = self.ctx.data
        self.outbox = Outbox(self.ctx)
        proposals = Proposals(self.ctx)
        self.matches = Matches(self.ctx, proposals)
        self.approval = Approval(self.ctx, self.matches)
        self.volunteer = VolunteerForm(self.ctx, self.approval, self.matches)
        self.requests = BuddyRequests(self.ctx, proposals, self.matches)
        reports = Reports(self.ctx, self.matches)
        self._buttons: dict[str, ButtonHandler] = {
            **self.volunteer.buttons(),
            **self.approval.buttons(),
            **self.requests.buttons(),
            **self.matches.buttons(),
            **reports.buttons(),
            "keep": lambda p, _a, _i: [Reply(t(p.lang, "mt_kept"))],
        }
        self._steps: dict[str, TextHandler] = {
            **self.volunteer.steps(),
            **self.requests.steps(),
            **reports.steps(),
        }

    @property
    def catalog(self) -> MentoringCatalog:
        return self.ctx.catalog

    def setup_warnings(self) -> list[str]:
        """What keeps the feature from working as configured (logged at start)."""
        if self.catalog.enabled and not self.ctx.admin_ids():
            return [
                "mentoring: knowledge/mentoring.yaml is present but ADMIN_IDS is empty, so no "
                "volunteer can be approved (they are told so); set ADMIN_IDS to approve them"
            ]
        return []

    # --- entry points -----------------------------------------------------------------------

    def command(self, profile: Profile, name: str) -> list[Reply]:
        lang = profile.lang
        if name == "volunteers":
            if profile.user_id not in self.ctx.admin_ids():
                return [Reply(t(lang, "admin_only"))]
            return self.approval.pending_list(profile)
        if not self.catalog.enabled:
            return [Reply(t(lang, "mt_unavailable"))]
        if name == "volunteer":
            return self.volunteer.home(profile)
        return self.requests.home(profile)

    def button(self, profile: Profile, rest: str, incoming: Incoming) -> list[Reply]:
        """`mt:` buttons; anything out of date or not the presser's gets a polite note."""
        action, _, arg = rest.partition(":")
        handler = self._buttons.get(action)
        replies = None
        if handler is not None and self.catalog.enabled:
            replies = handler(profile, arg, incoming)
        return replies or [Reply(t(profile.lang, "mt_stale"))]

    def text(self, profile: Profile, text: str) -> list[Reply]:
        """Typed text while a mentoring step waits for it."""
        handler = self._steps[profile.onboarding_step or ""]
        replies = handler(profile, clean(text))
        if replies is None:  # the form is gone (finished elsewhere, or erased)
            self.ctx.step(profile, None)
            return [Reply(t(profile.lang, "mt_stale"))]
        return replies

    def forget(self, user_id: int) -> list[Reply]:
        """/forget: end the user's open matches; the other sides are told it ended, no more."""
        return self.matches.close_all(user_id, volunteer_only=False)

    # --- the outbox (bot/core/mentoring_outbox.py) ------------------------------------------

    def sent(self, notice_id: int, message_id: int) -> None:
        """The adapter delivered notice `notice_id`."""
        self.outbox.sent(notice_id, message_id)

    def failed(self, notice_id: int, *, blocked: bool) -> None:
        """Telegram refused the notice: sending it again would fail the same way."""
        self.outbox.failed(notice_id, blocked=blocked)

    def maintenance(self, now: dt.datetime) -> list[Reply]:
        """Periodic: expire unanswered proposals, send again what is still unsent."""
        return self.outbox.maintenance(now)
