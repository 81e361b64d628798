"""A match's life after the proposal: mutual consent, where it stands, and ending it.

Contact details are exchanged only when both sides accepted: the newcomer first (the
volunteer then sees the newcomer's short profile), then the volunteer. Each side's contact
is taken at the moment they press Accept and stored with that consent; nothing else ever
reveals it. Messages to the other side go through the outbox (bot/core/mentoring_outbox.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.core import render_mentoring as render
from bot.core.mentoring_context import ButtonHandler, MentoringContext, Notices
from bot.core.mentoring_notices import notice_row
from bot.core.mentoring_proposals import Proposals
from bot.core.replies import Button, Incoming, Reply
from bot.faults import fault_point
from bot.i18n import t
from bot.mentoring_store import OPEN_STATES, Match
from bot.storage import Profile


def contact_of(incoming: Incoming) -> str:
    """What the other side receives once both accepted: @username, else a tg:// link."""
    if incoming.username:
        return f"@{incoming.username}"
    return f"tg://user?id={incoming.user_id}"


class Matches:
    """Accepting, declining and ending matches, and showing one as each side sees it."""

    def __init__(self, ctx: MentoringContext, proposals: Proposals) -> None:
        self.ctx = ctx
        self.data = ctx.data
        self.proposals = proposals

    def buttons(self) -> dict[str, ButtonHandler]:
        return {
            "na": self._newcomer_accept,
            "nd": self._newcomer_someone_else,
            "nx": self._newcomer_cancel,
            "aa": self._volunteer_accept,
            "ad": self._volunteer_decline,
            "end": self._end_ask,
            "endy": self._end,
        }

    def own_match(self, profile: Profile, arg: str, role: str) -> Match | None:
        match = self.data.match(int(arg)) if arg.isdigit() else None
        if match is None or match.role_of(profile.user_id) != role:
            return None
        return match

    def _newcomer_accept(
        self, profile: Profile, arg: str, incoming: Incoming
    ) -> list[Reply] | None:
        match = self.own_match(profile, arg, "newcomer")
        if match is None or match.state != "proposed":
            return self._expired_view(profile, match) or self._replay_view(
                profile, match, "newcomer_accepted"
            )
        volunteer = self.data.volunteer(match.volunteer_id)
        busy = self.data.busy_counts().get(match.volunteer_user_id or 0, 0)
        if volunteer is None or volunteer.status != "approved" or busy >= volunteer.capacity:
            if not self.data.move(match.id, ("proposed",), "declined", closed_by="system"):
                return None
            gone = Reply(t(profile.lang, "mt_gone", name=match.volunteer_name))
            return [gone, *self.proposals.next_proposal(profile, match)]
        self.data.consent(match.id, profile.user_id, "newcomer", contact_of(incoming))
        match = replace(match, state="newcomer_accepted")
        request = self._request_for_volunteer(match, volunteer.user_id)
        notices = [
            notice_row(
                request,
                kind="request",
                lang=self.ctx.lang_of(volunteer.user_id),
                key=f"request:m{match.id}",
                match=match,
                about=profile.user_id,  # the newcomer's short profile
            )
        ]
        if not self.data.move(match.id, ("proposed",), "newcomer_accepted", notices=notices):
            return None
        fault_point("after-match-request")  # crash tests: the request must still arrive
        asked = Reply(t(profile.lang, "mt_asked", name=match.volunteer_name))
        return [asked, *self.ctx.deliver(notices)]

    def _request_for_volunteer(self, match: Match, volunteer_user_id: int) -> Reply:
        lang = self.ctx.lang_of(volunteer_user_id)
        text = "\n\n".join(
            [
                t(lang, "mt_request", topic=self.ctx.catalog.topic_label(match.topic, lang)),
                render.newcomer_card(self.ctx.knowledge, match, lang),
                t(lang, "mt_request_consent"),
            ]
        )
        buttons = (
            (
                Button(t(lang, "mt_accept"), f"mt:aa:{match.id}"),
                Button(t(lang, "mt_decline"), f"mt:ad:{match.id}"),
            ),
        )
        return Reply(text, buttons, chat_id=volunteer_user_id)

    def _newcomer_someone_else(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        return self._newcomer_declines(
            profile, arg, lambda match: self.proposals.next_proposal(profile, match)
        )

    def _newcomer_cancel(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        return self._newcomer_declines(
            profile, arg, lambda _: [Reply(t(profile.lang, "mt_cancelled"))]
        )

    def _newcomer_declines(
        self, profile: Profile, arg: str, then: Callable[[Match], list[Reply]]
    ) -> list[Reply] | None:
        """The newcomer turns a proposal down; `then` says what they see next."""
        match = self.own_match(profile, arg, "newcomer")
        if match is not None and match.state == "expired":
            return self._expired_view(profile, match)
        if match is None or not self.data.move(
            match.id, ("proposed",), "declined", closed_by="newcomer"
        ):
            return None
        return then(match)

    def _volunteer_accept(
        self, profile: Profile, arg: str, incoming: Incoming
    ) -> list[Reply] | None:
        match = self.own_match(profile, arg, "volunteer")
        if match is None or match.state != "newcomer_accepted":
            return self._expired_view(profile, match) or self._replay_view(profile, match, "active")
        if self.data.contact_of(match.id, match.newcomer_id) is None:
            return None  # the newcomer's consent is missing: share nothing
        self.data.consent(match.id, profile.user_id, "volunteer", contact_of(incoming))
        match = replace(match, state="active")
        newcomer_id = match.newcomer_id
        assert newcomer_id is not None
        lang = self.ctx.lang_of(newcomer_id)
        to_newcomer = replace(self._active_reply(lang, match, newcomer_id), chat_id=newcomer_id)
        notices = [
            notice_row(
                to_newcomer,
                kind="active",
                lang=lang,
                key=f"active:m{match.id}",
                match=match,
                about=profile.user_id,  # the volunteer's contact
            )
        ]
        if not self.data.move(match.id, ("newcomer_accepted",), "active", notices=notices):
            return None
        fault_point("after-match-active")  # crash tests: the contact must still arrive
        return [
            self._active_reply(profile.lang, match, profile.user_id),
            *self.ctx.deliver(notices),
        ]

    def _active_reply(self, lang: str, match: Match, user_id: int) -> Reply:
        """An active match as one side sees it: the other's name and consented contact."""
        other_id, other_name = match.other(user_id)
        contact = self.data.contact_of(match.id, other_id)
        if contact is None:  # never without the other side's consent
            line, links = t(lang, "mt_contact_gone"), ()
        elif contact.startswith("@"):
            line, links = t(lang, "mt_contact", contact=contact), ()
        else:
            label = t(lang, "mt_contact_link", name=other_name)
            line, links = t(lang, "mt_contact", contact=label), ((label, contact),)
        topic = self.ctx.catalog.topic_label(match.topic, lang)
        text = "\n\n".join(
            [
                t(lang, "mt_active", name=other_name, id=match.id, topic=topic),
                line,
                t(lang, "mt_safety_tips"),
            ]
        )
        buttons = (
            (
                Button(t(lang, "mt_end", id=match.id), f"mt:end:{match.id}"),
                Button(t(lang, "mt_report", id=match.id), f"mt:rep:{match.id}"),
            ),
        )
        return Reply(text, buttons, links=links)

    def _volunteer_decline(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        match = self.own_match(profile, arg, "volunteer")
        if match is None:
            return None
        notices = self._declined_notice(match)
        if not self.data.move(
            match.id, ("newcomer_accepted",), "declined", closed_by="volunteer", notices=notices
        ):
            return self._expired_view(profile, self.data.match(match.id))
        return [Reply(t(profile.lang, "mt_vol_declined")), *self.ctx.deliver(notices)]

    def _declined_notice(self, match: Match) -> Notices:
        if match.newcomer_id is None:
            return []
        lang = self.ctx.lang_of(match.newcomer_id)
        again = Button(t(lang, "mt_look_again"), f"mt:more:{match.id}")
        text = t(lang, "mt_newcomer_declined", name=match.volunteer_name, id=match.id)
        reply = Reply(text, ((again,),), chat_id=match.newcomer_id)
        return [
            notice_row(reply, kind="declined", lang=lang, key=f"declined:m{match.id}", match=match)
        ]

    def _replay_view(
        self, profile: Profile, match: Match | None, done_state: str
    ) -> list[Reply] | None:
        """A press whose work is already done (a double tap, a redelivered update): show the
        match as it is now instead of a stale note."""
        if match is None:
            return None
        current = self.data.match(match.id)
        if current is None or current.state != done_state:
            return None
        status = self.status(profile, current)
        return [status] if status else None

    # --- status and ending ----------------------------------------------------------------

    def status(self, profile: Profile, match: Match) -> Reply | None:
        """One open match as this user sees it, with the buttons that apply."""
        lang = profile.lang
        role = match.role_of(profile.user_id)
        topic = self.ctx.catalog.topic_label(match.topic, lang)
        if match.state == "active":
            return self._active_reply(lang, match, profile.user_id)
        volunteer = self.data.volunteer(match.volunteer_id)
        if role == "newcomer" and match.state == "proposed" and volunteer is not None:
            return self.proposals.proposal(lang, match, volunteer)
        if role == "newcomer":  # waiting for the volunteer (or they left meanwhile)
            text = t(lang, "mt_waiting", id=match.id, topic=topic, name=match.volunteer_name)
            end = Button(t(lang, "mt_end", id=match.id), f"mt:end:{match.id}")
            return Reply(text, ((end,),))
        if role == "volunteer" and match.state == "newcomer_accepted":
            return replace(self._request_for_volunteer(match, profile.user_id), chat_id=None)
        return None  # a proposal the volunteer has not been told about

    def _end_ask(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        match = self.data.match(int(arg)) if arg.isdigit() else None
        if match is None or match.role_of(profile.user_id) is None or not match.is_open:
            return None
        lang = profile.lang
        _, name = match.other(profile.user_id)
        buttons = (
            (Button(t(lang, "mt_end_yes"), f"mt:endy:{match.id}"),),
            (Button(t(lang, "mt_no_keep"), "mt:keep"),),
        )
        return [Reply(t(lang, "mt_end_confirm", id=match.id, name=name), buttons)]

    def _end(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        match = self.data.match(int(arg)) if arg.isdigit() else None
        role = match.role_of(profile.user_id) if match else None
        if match is None or role is None:
            return None
        notices = self.ended_notice(match, profile.user_id)
        if not self.data.move(match.id, OPEN_STATES, "ended", closed_by=role, notices=notices):
            return None
        return [Reply(t(profile.lang, "mt_ended", id=match.id)), *self.ctx.deliver(notices)]

    def ended_notice(self, match: Match, leaving: int) -> Notices:
        """Tell the other side, without details, that a match they knew about has ended."""
        other_id, _ = match.other(leaving)
        if other_id is None:
            return []
        if other_id == match.volunteer_user_id and match.state == "proposed":
            return []  # the volunteer was never asked
        _, leaving_name = match.other(other_id)
        role = match.role_of(other_id)
        lang = self.ctx.lang_of(other_id)
        text_key = "mt_ended_notice_newcomer" if role == "newcomer" else "mt_ended_notice_volunteer"
        reply = Reply(t(lang, text_key, id=match.id, name=leaving_name), chat_id=other_id)
        key = f"ended:m{match.id}:{other_id}"
        return [notice_row(reply, kind="ended", lang=lang, key=key, match=match)]

    def close_all(
        self, user_id: int, *, volunteer_only: bool, closed_by: str | None = None
    ) -> list[Reply]:
        replies: list[Reply] = []
        for match in self.data.open_matches_of(user_id):
            role = match.role_of(user_id)
            if volunteer_only and role != "volunteer":
                continue
            notices = self.ended_notice(match, user_id)
            by = closed_by or role
            if self.data.move(match.id, OPEN_STATES, "ended", closed_by=by, notices=notices):
                replies += self.ctx.deliver(notices)
        return replies

    def _expired_view(self, profile: Profile, match: Match | None) -> list[Reply] | None:
        """A button of an expired proposal: say so kindly (the newcomer may look again)."""
        if match is None or match.state != "expired":
            return None
        lang, days = profile.lang, self.ctx.catalog.reply_days
        if match.role_of(profile.user_id) == "volunteer":
            return [Reply(t(lang, "mt_request_expired", id=match.id, days=days))]
        again = Button(t(lang, "mt_look_again"), f"mt:more:{match.id}")
        return [Reply(t(lang, "mt_proposal_expired", id=match.id, days=days), ((again,),))]
