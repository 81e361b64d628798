"""The mentoring outbox and housekeeping: delivery reports, sending again, expiry.

Notices (bot/core/mentoring_notices.py) are stored with the change they announce and handed
to the adapter; `maintenance` sends again those not reported delivered, gives up on those
failing for days, and expires proposals nobody answered within `settings.reply_days` of
knowledge/mentoring.yaml.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.core.escalation import UNSENT_GRACE
from bot.core.mentoring_context import MentoringContext, Notices
from bot.core.mentoring_notices import notice_reply, notice_row
from bot.core.replies import Button, Reply
from bot.i18n import t
from bot.mentoring_store import Match

log = logging.getLogger(__name__)
# A notice handed to the adapter and not reported sent within UNSENT_GRACE is sent again (as
# ticket notices); one sent again GIVE_UP_TRIES times and still not delivered GIVE_UP after it
# was written is marked failed (a long outage of the bot itself does not count: it tries first).
GIVE_UP = dt.timedelta(days=2)
GIVE_UP_TRIES = 20


class Outbox:
    """Delivery reports from the adapter, and the periodic housekeeping."""

    def __init__(self, ctx: MentoringContext) -> None:
        self.ctx = ctx
        self.data = ctx.data
        # Notices last handed out before this process started cannot be in flight: the first
        # housekeeping sends them again at once, not after the grace period.
        self.started = ctx.store.clock().isoformat()

    def sent(self, notice_id: int, message_id: int) -> None:
        """The adapter delivered notice `notice_id`."""
        self.data.set_notice(
            notice_id,
            status="delivered",
            delivered_at=self.ctx.store.clock().isoformat(),
            message_id=message_id,
        )

    def failed(self, notice_id: int, *, blocked: bool) -> None:
        """Telegram refused the notice (the recipient blocked the bot, or a bad request):
        sending it again would fail the same way."""
        log.info(
            "mentoring notice %s not delivered (%s)", notice_id, "blocked" if blocked else "refused"
        )
        self.data.set_notice(notice_id, status="failed")

    def maintenance(self, now: dt.datetime) -> list[Reply]:
        """Periodic: expire proposals nobody answered, then send again the notices a crash
        or an error left unsent (and give up on those failing for days)."""
        replies = self._expire(now)
        given_up = self.data.give_up_notices(GIVE_UP_TRIES, GIVE_UP.days)
        if given_up:
            log.warning(
                "mentoring: %d notices not delivered in %d days; given up", given_up, GIVE_UP.days
            )
        return replies + self._unsent(now)

    def _unsent(self, now: dt.datetime) -> list[Reply]:
        rows = self.data.unsent_notices((now - UNSENT_GRACE).isoformat(), self.started)
        due = [row for row in rows if self._still_applies(row)]
        self.data.tried(row["id"] for row in due)
        return [notice_reply(row) for row in due]

    def _still_applies(self, row: dict[str, Any]) -> bool:
        """A request whose match moved on, or an approval queue entry already decided, is
        dropped instead of sent late (its buttons would only say it is no longer open)."""
        if row["kind"] == "request":
            match = self.data.match(row["match_id"])
            current = match is not None and match.state == "newcomer_accepted"
        elif row["kind"] == "admin_new":
            volunteer = self.data.volunteer(row["volunteer_id"])
            current = volunteer is not None and volunteer.status == "pending"
        else:
            return True
        if not current:
            self.data.set_notice(row["id"], status="dropped")
        return current

    # --- expiry -------------------------------------------------------------------------------

    def _expire(self, now: dt.datetime) -> list[Reply]:
        """Close proposals left unanswered for `reply_days`: a request the volunteer never
        answered (the newcomer is told and may look again), and silently a proposal the
        newcomer never answered (so it holds nobody's place)."""
        before = (now - dt.timedelta(days=self.ctx.catalog.reply_days)).isoformat()
        replies: list[Reply] = []
        for match in self.data.stale("newcomer_accepted", before):
            notices = self._expired_notice(match)
            if self.data.move(
                match.id, ("newcomer_accepted",), "expired", closed_by="system", notices=notices
            ):
                replies += self.ctx.deliver(notices)
        for match in self.data.stale("proposed", before):
            self.data.move(match.id, ("proposed",), "expired", closed_by="system")
        return replies

    def _expired_notice(self, match: Match) -> Notices:
        if match.newcomer_id is None:
            return []
        lang = self.ctx.lang_of(match.newcomer_id)
        text = t(
            lang,
            "mt_expired_notice",
            name=match.volunteer_name,
            id=match.id,
            days=self.ctx.catalog.reply_days,
        )
        again = Button(t(lang, "mt_look_again"), f"mt:more:{match.id}")
        reply = Reply(text, ((again,),), chat_id=match.newcomer_id)
        return [
            notice_row(reply, kind="expired", lang=lang, key=f"expired:m{match.id}", match=match)
        ]
