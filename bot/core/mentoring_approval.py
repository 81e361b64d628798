"""Admins approve or reject volunteers (/volunteers, the Approve / Reject buttons).

Every admin gets each new or changed profile through the outbox; the volunteer learns the
decision the same way. Rejecting an approved volunteer (after a report) ends their matches.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core import render_mentoring as render
from bot.core.mentoring_context import ButtonHandler, MentoringContext, Notices
from bot.core.mentoring_matches import Matches
from bot.core.mentoring_notices import notice_row
from bot.core.replies import Button, Incoming, Reply
from bot.i18n import t
from bot.mentoring_store import Volunteer
from bot.storage import Profile

Decision = Callable[[Profile, Volunteer, str], list[Reply]]  # (admin, volunteer, origin)


class Approval:
    """The approval queue and the admins' decisions."""

    def __init__(self, ctx: MentoringContext, matches: Matches) -> None:
        self.ctx = ctx
        self.data = ctx.data
        self.matches = matches

    def buttons(self) -> dict[str, ButtonHandler]:
        return {"ok": self._decision(self._approve), "no": self._decision(self._reject)}

    def _decision(self, decide: Decision) -> ButtonHandler:
        """A button of an admin's decision on volunteer `arg`: for admins only."""

        def handler(profile: Profile, arg: str, incoming: Incoming) -> list[Reply] | None:
            if profile.user_id not in self.ctx.admin_ids():
                return [Reply(t(profile.lang, "admin_only"))]
            found = self.data.volunteer(int(arg)) if arg.isdigit() else None
            return decide(profile, found, self.ctx.origin(incoming)) if found else None

        return handler

    def admin_notices(self, volunteer: Volunteer, origin: str) -> Notices:
        """Every admin gets the new (or changed) profile with Approve / Reject."""
        notices = []
        for admin in sorted(self.ctx.admin_ids()):
            lang = self.ctx.lang_of(admin)
            reply = Reply(
                self._pending_text(volunteer, lang),
                self._decision_buttons(volunteer, lang),
                chat_id=admin,
            )
            notices.append(
                notice_row(
                    reply,
                    kind="admin_new",
                    lang=lang,
                    key=f"admin_new:v{volunteer.id}:{origin}:{admin}",
                    volunteer_id=volunteer.id,
                    about=volunteer.user_id,
                )
            )
        return notices

    def _pending_text(self, volunteer: Volunteer, lang: str) -> str:
        card = render.volunteer_card(self.ctx.knowledge, volunteer, lang)
        return t(lang, "mt_admin_new", id=volunteer.id) + "\n\n" + card

    def _decision_buttons(self, volunteer: Volunteer, lang: str) -> tuple[tuple[Button, ...]]:
        return (
            (
                Button(t(lang, "mt_admin_approve"), f"mt:ok:{volunteer.id}"),
                Button(t(lang, "mt_admin_reject"), f"mt:no:{volunteer.id}"),
            ),
        )

    def pending_list(self, profile: Profile) -> list[Reply]:
        lang = profile.lang
        pending = self.data.pending_volunteers()
        if not pending:
            return [Reply(t(lang, "mt_admin_none"))]
        replies = [Reply(t(lang, "mt_admin_pending_title", count=len(pending)))]
        for volunteer in pending[:20]:
            replies.append(
                Reply(self._pending_text(volunteer, lang), self._decision_buttons(volunteer, lang))
            )
        return replies

    def _decision_notice(self, volunteer: Volunteer, key: str, origin: str) -> Notices:
        """The volunteer learns an admin's decision (`key`: approved or rejected)."""
        lang = self.ctx.lang_of(volunteer.user_id)
        reply = Reply(t(lang, f"mt_vol_{key}"), chat_id=volunteer.user_id)
        notice_key = f"{key}:v{volunteer.id}:{origin}"
        return [notice_row(reply, kind=key, lang=lang, key=notice_key, volunteer_id=volunteer.id)]

    def _approve(self, profile: Profile, found: Volunteer, origin: str) -> list[Reply]:
        lang = profile.lang
        notices = self._decision_notice(found, "approved", origin)
        if not self.data.set_status(
            found.id, ("pending",), "approved", by=profile.user_id, notices=notices
        ):
            return [self._already_decided(found, lang)]
        return [Reply(t(lang, "mt_admin_approved", id=found.id)), *self.ctx.deliver(notices)]

    def _reject(self, profile: Profile, found: Volunteer, origin: str) -> list[Reply]:
        """Reject a waiting volunteer, or switch off an approved one (after a report). Their
        matches end either way (also when a crash came between the decision and ending them)."""
        lang = profile.lang
        old = ("pending", "approved", "paused")
        notices = self._decision_notice(found, "rejected", origin)
        decided = self.data.set_status(
            found.id, old, "rejected", by=profile.user_id, notices=notices
        )
        ended = self.matches.close_all(found.user_id, volunteer_only=True, closed_by="admin")
        if not decided:
            return [self._already_decided(found, lang), *ended]
        return [
            Reply(t(lang, "mt_admin_rejected", id=found.id)),
            *self.ctx.deliver(notices),
            *ended,
        ]

    def _already_decided(self, volunteer: Volunteer, lang: str) -> Reply:
        current = self.data.volunteer(volunteer.id)
        if current is None:
            return Reply(t(lang, "mt_stale"))
        status = t(lang, f"mt_status_{current.status}")
        return Reply(t(lang, "mt_admin_decided", id=volunteer.id, status=status))
