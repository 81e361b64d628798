"""Reporting a match: the reporter's reason goes to the admins, the other side is told only
that the match ended (if it was still open)."""

from __future__ import annotations

from bot.core.mentoring_context import (
    MAX_REASON,
    STEP_REASON,
    ButtonHandler,
    MentoringContext,
    Notices,
    TextHandler,
    with_cancel,
)
from bot.core.mentoring_matches import Matches
from bot.core.mentoring_notices import notice_row
from bot.core.replies import Button, Incoming, Reply
from bot.i18n import t
from bot.mentoring_store import OPEN_STATES, Match
from bot.storage import Profile


class Reports:
    """The report button, the typed reason, and the admins' notices."""

    def __init__(self, ctx: MentoringContext, matches: Matches) -> None:
        self.ctx = ctx
        self.data = ctx.data
        self.matches = matches

    def buttons(self) -> dict[str, ButtonHandler]:
        return {"rep": self._report_ask, "rx": self._report_cancel}

    def steps(self) -> dict[str, TextHandler]:
        return {STEP_REASON: self._reason_text}

    def _report_ask(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        match = self.data.match(int(arg)) if arg.isdigit() else None
        reportable = ("newcomer_accepted", "active", "ended")
        if match is None or match.role_of(profile.user_id) is None:
            return None
        if match.state not in reportable:
            return None
        self.data.save_draft(profile.user_id, "report", {"match_id": match.id})
        self.ctx.step(profile, STEP_REASON)
        _, name = match.other(profile.user_id)
        text = t(profile.lang, "mt_report_ask", id=match.id, name=name)
        return [with_cancel(text, profile.lang, "mt:rx")]

    def _reason_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self.data.draft(profile.user_id, "report")
        match = self.data.match(int(form["match_id"])) if form else None
        role = match.role_of(profile.user_id) if match else None
        if match is None or role is None:
            return None
        reason = text[:MAX_REASON]
        # The other side learns only that the match ended (if it was still open).
        notices = self.matches.ended_notice(match, profile.user_id) if match.is_open else []
        notices += self._report_notices(match, role, reason, profile.user_id)
        if not self.data.move(
            match.id,
            (*OPEN_STATES, "ended"),
            "reported",
            closed_by=role,
            report_reason=reason,
            notices=notices,
        ):
            return None
        self.data.drop_draft(profile.user_id, "report")
        self.ctx.step(profile, None)
        return [Reply(t(profile.lang, "mt_reported", id=match.id)), *self.ctx.deliver(notices)]

    def _report_notices(self, match: Match, role: str, reason: str, reporter: int) -> Notices:
        notices = []
        for admin in sorted(self.ctx.admin_ids()):
            lang = self.ctx.lang_of(admin)
            text = t(
                lang,
                "mt_admin_report",
                id=match.id,
                topic=self.ctx.catalog.topic_label(match.topic, lang),
                volunteer=match.volunteer_id,
                volunteer_name=match.volunteer_name,
                newcomer_name=match.newcomer_name,
                role=t(lang, f"mt_role_{role}"),
                reason=reason,
            )
            buttons: tuple[tuple[Button, ...], ...] = ()
            if role == "newcomer":  # the reported side is the volunteer
                label = t(lang, "mt_admin_suspend", id=match.volunteer_id)
                buttons = ((Button(label, f"mt:no:{match.volunteer_id}"),),)
            reply = Reply(text, buttons, chat_id=admin)
            key = f"report:m{match.id}:{admin}"
            notices.append(
                notice_row(
                    reply, kind="admin_report", lang=lang, key=key, match=match, about=reporter
                )
            )
        return notices

    def _report_cancel(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        self.data.drop_draft(profile.user_id, "report")
        if profile.onboarding_step == STEP_REASON:
            self.ctx.step(profile, None)
        return [Reply(t(profile.lang, "mt_cancelled"))]
