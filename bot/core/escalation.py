"""Escalation to human providers: safety first, routing, consent, tickets and relayed answers.

Everything here is Telegram-independent. Messages for other chats (the provider group, or the
user when a provider answers) are `Reply` values with `chat_id` set; the adapter sends them and
reports back the message ids through `sent` / `failed`, which keep our own mapping from group
messages to tickets (forwarded-from metadata is never relied on: users can hide it).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Button, Incoming, Reply
from bot.faults import fault_point
from bot.i18n import t
from bot.knowledge.model import Knowledge, Team
from bot.matching.normalize import normalize
from bot.storage import Profile, Store
from bot.tickets_store import OPEN_STATES, TicketStore

GROUP_LANG = "en"  # providers' working language for the group texts
STATE_QUESTION = "ticket_question"  # waiting for the question to send to a person
STATE_CONSENT = "ticket_consent"  # draft shown, waiting for "send" / "cancel"
STATE_ADD = "ticket_add"  # a message written while a ticket is open, waiting for "add" / "bot"
REANNOUNCE_HOURS = 4
STALE_DAYS = 14
UNSENT_GRACE = dt.timedelta(minutes=1)
_TICKET_REF = re.compile(r"Ticket #(\d+)")


def safety_signal(knowledge: Knowledge, text: str) -> str | None:
    """The kind of danger a message signals (self-harm, violence, ...), if any."""
    norm = f" {normalize(text)} "
    for kind, phrases in knowledge.safety.items():
        for phrase in phrases:
            if re.search(rf"\s{re.escape(normalize(phrase))}", norm):
                return kind
    return None


def safety_reply(knowledge: Knowledge, profile: Profile) -> Reply:
    """112 and the help lines of the user's country (of every country if unknown)."""
    lang = profile.lang
    countries = (
        [knowledge.countries[profile.country]]
        if profile.country in knowledge.countries
        else list(knowledge.countries.values())
    )
    lines = [t(lang, "safety_intro", emergency=countries[0].emergency if countries else "112")]
    for country in countries:
        if country.helplines:
            lines += ["", t(lang, "safety_lines", country=country.name(lang))]
            lines += [f"• {h.name(lang)}: {h.number}" for h in country.helplines]
    return Reply("\n".join(lines))


def route(teams: list[Team], profile: Profile, topic: str | None) -> Team | None:
    """The best team for the user's place, the question's topic and the user's language."""

    def covers(team: Team) -> bool:
        if team.countries and profile.country not in team.countries:
            return False
        if team.cities and profile.city not in team.cities:
            return False
        return not team.topics or topic in team.topics

    candidates = [team for team in teams if not team.fallback and covers(team)]
    if candidates:
        return max(
            candidates,
            key=lambda team: (
                bool(team.cities),
                bool(team.topics),
                profile.lang in team.languages,
                bool(team.countries),
                -teams.index(team),
            ),
        )
    return next((team for team in teams if team.fallback), None)


class Escalation:
    """Tickets between newcomers and provider teams."""

    def __init__(
        self,
        holder: KnowledgeHolder,
        store: Store,
        *,
        provider_chats: Mapping[str, int],
        provider_ids: frozenset[int] = frozenset(),
        reannounce_hours: int = REANNOUNCE_HOURS,
        stale_days: int = STALE_DAYS,
    ) -> None:
        self.holder = holder
        self.store = store
        self.tickets = TicketStore(store)
        self.provider_chats = dict(provider_chats)
        self.provider_ids = provider_ids
        self.reannounce_hours = reannounce_hours
        self.stale_days = stale_days
        # What an earlier process stored but never confirmed as sent cannot be in flight any
        # more: housekeeping sends it at once, not after UNSENT_GRACE.
        self.started = (store.clock() - dt.timedelta(microseconds=1)).isoformat()

    # --- teams ------------------------------------------------------------------------------

    def teams(self) -> list[Team]:
        """Teams of the knowledge that have a Telegram group configured."""
        return [t for t in self._knowledge().teams.values() if self.chat_of(t) is not None]

    def chat_of(self, team: Team) -> int | None:
        return self.provider_chats.get(team.id, team.chat_id)

    def is_provider_chat(self, chat_id: int | None) -> bool:
        return chat_id is not None and chat_id in {self.chat_of(t) for t in self.teams()}

    def can_act(self, incoming: Incoming, ticket: dict[str, Any]) -> bool:
        """Providers: members of the ticket's group (Telegram only lets members post and press
        buttons there) or listed provider ids."""
        if incoming.user_id in self.provider_ids:
            return True
        return incoming.chat_id is not None and incoming.chat_id == ticket["chat_id"]

    def available(self, profile: Profile) -> bool:
        return route(self.teams(), profile, None) is not None

    # --- the newcomer -----------------------------------------------------------------------

    def ask_for_question(self, profile: Profile) -> list[Reply]:
        self.store.update_profile(profile, onboarding_step=STATE_QUESTION, draft_text=None)
        return [
            Reply(
                t(profile.lang, "human_write_question"),
                ((Button(t(profile.lang, "consent_cancel"), "esc:no"),),),
            )
        ]

    def consent(self, profile: Profile, question: str) -> list[Reply]:
        """Show exactly what will be shared, before anything is sent."""
        team = route(self.teams(), profile, self._topic(question))
        if team is None:
            return []
        self.store.update_profile(profile, onboarding_step=STATE_CONSENT, draft_text=question)
        lang = profile.lang
        text = t(
            lang,
            "consent",
            team=team.name(lang),
            question=question,
            fields=t(lang, "consent_fields"),
        )
        buttons = (
            (Button(t(lang, "consent_send"), "esc:send"),),
            (Button(t(lang, "consent_send_name"), "esc:name"),),
            (Button(t(lang, "consent_cancel"), "esc:no"),),
        )
        return [Reply(text, buttons)]

    def _knowledge(self) -> Knowledge:
        return self.holder.current.knowledge

    def _topic(self, question: str) -> str | None:
        """The topic of the question's best candidate intent, for routing."""
        loaded = self.holder.current
        result = loaded.matcher.match(question)
        best = result.candidates[0].intent_id if result.candidates else None
        return loaded.knowledge.intents[best].topic if best in loaded.knowledge.intents else None

    def cancel(self, profile: Profile) -> list[Reply]:
        self.store.update_profile(profile, onboarding_step=None, draft_text=None)
        return [Reply(t(profile.lang, "consent_cancelled"))]

    def create(self, profile: Profile, incoming: Incoming, *, with_name: bool) -> list[Reply]:
        """Open the ticket (once per button press, however often it is delivered)."""
        done = self.tickets.by_source(incoming.source_key) if incoming.source_key else None
        if done is not None:  # the same press again (a replay after a crash): finish its work
            team = self._knowledge().teams.get(done["team_id"])
            if done["post_message_id"] is None and team is not None:
                return [
                    self._ticket_post(
                        done, team, safety_signal(self._knowledge(), done["question"])
                    )
                ]
            return []
        question = profile.draft_text
        if profile.onboarding_step != STATE_CONSENT or not question:
            return []
        topic = self._topic(question)
        team = route(self.teams(), profile, topic)
        if team is None:
            return []
        knowledge = self._knowledge()
        signal = safety_signal(knowledge, question)
        ticket, _ = self.tickets.create(
            source_key=incoming.source_key or f"once:{uuid.uuid4().hex}",
            user_id=profile.user_id,
            team_id=team.id,
            chat_id=self.chat_of(team),
            urgent=int(signal is not None),
            question=question,
            lang=profile.lang,
            country=profile.country,
            city=profile.city,
            stage=profile.stage,
            topic=topic,
            user_label=incoming.sender_name if with_name and incoming.sender_name else None,
        )
        fault_point("after-ticket-insert")
        self.store.update_profile(
            profile, onboarding_step=None, draft_text=None, active_ticket=ticket["id"]
        )
        lang = profile.lang
        confirm = Reply(
            t(
                lang,
                "ticket_created",
                id=ticket["id"],
                team=team.name(lang),
                hours=team.response_hours,
            )
        )
        return [confirm, self._ticket_post(ticket, team, signal)]

    def _ticket_post(self, ticket: dict[str, Any], team: Team, signal: str | None) -> Reply:
        knowledge = self._knowledge()
        country = knowledge.countries.get(ticket["country"] or "")
        city = knowledge.city(ticket["city"])
        context = " · ".join(
            part
            for part in (
                country.name(GROUP_LANG) if country else None,
                city.name(GROUP_LANG) if city else None,
                ticket["stage"],
                f"language: {ticket['lang']}",
                f"topic: {ticket['topic']}" if ticket["topic"] else None,
                f"from: {ticket['user_label']}" if ticket["user_label"] else None,
            )
            if part
        )
        urgent = t(GROUP_LANG, "group_urgent", signal=signal) if signal else ""
        text = t(
            GROUP_LANG,
            "group_ticket",
            id=ticket["id"],
            urgent=urgent,
            context=context,
            question=ticket["question"],
        )
        return Reply(
            text,
            self._group_buttons(ticket),
            chat_id=ticket["chat_id"],
            new_topic=f"#{ticket['id']} {ticket['question'][:60]}" if team.forum else None,
            tag=f"tpost:{ticket['id']}",
        )

    def _group_buttons(self, ticket: dict[str, Any]) -> tuple[tuple[Button, ...], ...]:
        tid = ticket["id"]
        row = (
            Button(t(GROUP_LANG, "group_claim"), f"tg:claim:{tid}"),
            Button(t(GROUP_LANG, "group_close"), f"tg:close:{tid}"),
            Button(t(GROUP_LANG, "group_spam"), f"tg:spam:{tid}"),
        )
        return (row, (Button(t(GROUP_LANG, "group_suggest_faq"), f"tg:faq:{tid}"),))

    def open_ticket_of(self, profile: Profile) -> dict[str, Any] | None:
        if profile.active_ticket is None:
            return None
        ticket = self.tickets.get(profile.active_ticket)
        if ticket and ticket["user_id"] == profile.user_id and ticket["status"] in OPEN_STATES:
            return ticket
        return None

    def ask_add(self, profile: Profile, ticket: dict[str, Any], text: str) -> list[Reply]:
        """A message while a ticket is open: the bot asks before adding it (no auto-answer)."""
        self.store.update_profile(profile, onboarding_step=STATE_ADD, draft_text=text)
        lang = profile.lang
        buttons = (
            (Button(t(lang, "ticket_add", id=ticket["id"]), "tk:add"),),
            (Button(t(lang, "ticket_ask_bot"), "tk:bot"),),
        )
        return [Reply(t(lang, "ticket_add_question", id=ticket["id"]), buttons)]

    def add(self, profile: Profile, incoming: Incoming) -> list[Reply]:
        ticket = self.open_ticket_of(profile)
        text = profile.draft_text
        if ticket is None or not text:
            return []
        message, new = self.tickets.add_message(
            ticket["id"],
            source_key=incoming.source_key or f"once:{uuid.uuid4().hex}",
            direction="user",
            text=text,
            author_id=profile.user_id,
        )
        self.store.update_profile(profile, onboarding_step=None, draft_text=None)
        replies = [Reply(t(profile.lang, "ticket_added", id=ticket["id"]))]
        if new:
            replies.append(
                Reply(
                    t(GROUP_LANG, "group_user_message", id=ticket["id"], text=text),
                    chat_id=ticket["chat_id"],
                    thread_id=ticket["thread_id"],
                    reply_to=ticket["post_message_id"],
                    tag=f"tgrp:{ticket['id']}:{message['id']}",
                )
            )
        return replies

    def leave(self, profile: Profile) -> tuple[Profile, str | None, list[Reply]]:
        """Back to the bot: the ticket stays open; returns the pending text to answer."""
        ticket_id = profile.active_ticket
        text = profile.draft_text
        profile = self.store.update_profile(
            profile, onboarding_step=None, draft_text=None, active_ticket=None
        )
        return profile, text, [Reply(t(profile.lang, "ticket_left", id=ticket_id))]

    def user_button(self, profile: Profile, action: str, raw_id: str) -> list[Reply] | None:
        """The user's own ticket buttons: solved, follow-up, not helpful, close, cancel."""
        if not raw_id.isdigit():
            return None
        ticket = self.tickets.get(int(raw_id))
        if ticket is None or ticket["user_id"] != profile.user_id:
            return None  # someone else's ticket: change nothing
        lang, tid = profile.lang, ticket["id"]
        notice = None
        if ticket["status"] not in OPEN_STATES and action != "cont":
            return [Reply(t(lang, "ticket_closed_user", id=tid))]
        if action == "ok":
            self._close(ticket, status="closed", rating=1)
            reply, notice = t(lang, "ticket_thanks_solved", id=tid), "group_user_rated_ok"
        elif action == "bad":
            self.tickets.update(tid, rating=-1)
            reply, notice = t(lang, "ticket_thanks_bad", id=tid), "group_user_rated_bad"
        elif action in ("fu", "cont") and ticket["status"] in OPEN_STATES:
            self.store.update_profile(profile, active_ticket=tid, onboarding_step=None)
            reply = t(lang, "ticket_followup_prompt", id=tid)
        elif action == "close":
            self._close(ticket, status="closed")
            reply, notice = t(lang, "ticket_closed_user", id=tid), "group_user_closed"
        elif action == "cancel":
            self._close(ticket, status="cancelled")
            reply, notice = t(lang, "ticket_cancelled_user", id=tid), "group_user_cancelled"
        else:
            return None
        replies = [Reply(reply)]
        if notice:
            replies.append(self._group_notice(ticket, t(GROUP_LANG, notice, id=tid)))
        return replies

    def _close(self, ticket: dict[str, Any], *, status: str, rating: int | None = None) -> None:
        fields: dict[str, Any] = {"status": status, "closed_at": self.store.clock().isoformat()}
        if rating is not None:
            fields["rating"] = rating
        self.tickets.update(ticket["id"], **fields)
        owner = self.store.get_profile(ticket["user_id"]) if ticket["user_id"] else None
        if owner and owner.active_ticket == ticket["id"]:
            self.store.update_profile(owner, active_ticket=None)

    def _group_notice(
        self, ticket: dict[str, Any], text: str, reply_to: int | None = None
    ) -> Reply:
        return Reply(
            text,
            chat_id=ticket["chat_id"],
            thread_id=ticket["thread_id"],
            reply_to=reply_to or ticket["post_message_id"],
        )

    def _user_notice(self, ticket: dict[str, Any], owner: Profile, key: str) -> Reply:
        """A notice to the user that must not be lost: stored with the ticket's messages (our
        outbox) until the adapter reports it sent; housekeeping sends it again otherwise."""
        text = t(owner.lang, key, id=ticket["id"])
        message, _ = self.tickets.add_message(
            ticket["id"], source_key=f"notice:{ticket['id']}:{key}", direction="notice", text=text
        )
        return Reply(text, chat_id=owner.user_id, tag=f"notice:{message['id']}")

    def list_for(self, profile: Profile) -> Reply:
        lang = profile.lang
        tickets = self.tickets.of_user(profile.user_id)
        if not tickets:
            return Reply(t(lang, "tickets_none"))
        lines = [t(lang, "tickets_title"), ""]
        buttons: list[tuple[Button, ...]] = []
        for ticket in tickets[:10]:
            status = t(lang, f"ticket_status_{ticket['status']}")
            lines.append(f"#{ticket['id']} · {status}\n   {ticket['question'][:120]}")
            if ticket["status"] in OPEN_STATES:
                end = "close" if ticket["status"] == "answered" else "cancel"
                buttons.append(
                    (
                        Button(
                            t(lang, "ticket_continue", id=ticket["id"]), f"tk:cont:{ticket['id']}"
                        ),
                        Button(
                            t(lang, f"ticket_{end}", id=ticket["id"]), f"tk:{end}:{ticket['id']}"
                        ),
                    )
                )
        return Reply("\n".join(lines), tuple(buttons))

    # --- providers --------------------------------------------------------------------------

    def _ticket_for(self, incoming: Incoming) -> dict[str, Any] | None:
        chat = incoming.chat_id
        ticket_id = None
        if incoming.reply_to is not None:
            ticket_id = self.tickets.ticket_of_group_message(chat, incoming.reply_to)
        if ticket_id is None and incoming.reply_to_text:
            # The post was sent but the crash came before we stored its id: it still says
            # "Ticket #N" (our own text in our own message, not forwarding metadata).
            found = _TICKET_REF.search(incoming.reply_to_text)
            candidate = self.tickets.get(int(found.group(1))) if found else None
            if candidate is not None and candidate["chat_id"] == chat:
                ticket_id = candidate["id"]
                self.tickets.map_group_message(chat, incoming.reply_to, ticket_id)
        if ticket_id is None and incoming.thread_id is not None:
            rows = list(
                self.store.db["tickets"].rows_where(
                    "chat_id = ? AND thread_id = ?", [chat, incoming.thread_id]
                )
            )
            ticket_id = rows[0]["id"] if rows else None
        return self.tickets.get(ticket_id) if ticket_id is not None else None

    def group_text(self, incoming: Incoming) -> list[Reply]:
        """A message in a provider group: a reply to a ticket is relayed to its user."""
        if incoming.kind == "command" and incoming.text == "open":
            return [self.open_list([incoming.chat_id])]
        if incoming.kind != "text":
            return []
        ticket = self._ticket_for(incoming)
        if ticket is None:
            return []  # providers talking among themselves
        reason = self._undeliverable(ticket)
        if reason:
            return [
                self._group_notice(
                    ticket,
                    t(
                        GROUP_LANG,
                        "group_not_delivered",
                        id=ticket["id"],
                        reason=t(GROUP_LANG, reason),
                    ),
                    reply_to=incoming.message_id,
                )
            ]
        message, new = self.tickets.add_message(
            ticket["id"],
            source_key=incoming.source_key or f"m:{incoming.chat_id}:{incoming.message_id}",
            direction="provider",
            text=incoming.text,
            author_id=incoming.user_id,
            author_name=incoming.sender_name,
            source_chat_id=incoming.chat_id,
            source_message_id=incoming.message_id,
        )
        fault_point("after-provider-reply")
        if not new and message["status"] == "delivered":
            return []  # the same update again: already relayed
        self.tickets.map_group_message(incoming.chat_id, incoming.message_id, ticket["id"])
        fields: dict[str, Any] = {"status": "answered"}
        if not ticket["answered_at"]:
            fields["answered_at"] = self.store.clock().isoformat()
        self.tickets.update(ticket["id"], **fields)
        owner = self.store.get_profile(ticket["user_id"])
        if owner is not None and owner.active_ticket is None:
            self.store.update_profile(owner, active_ticket=ticket["id"])
        return [self._relay(ticket, message)]

    def _undeliverable(self, ticket: dict[str, Any]) -> str | None:
        if ticket["status"] == "erased" or ticket["user_id"] is None:
            return "group_reason_erased"
        if ticket["status"] not in OPEN_STATES:
            return "group_reason_closed"
        return None

    def _relay(
        self, ticket: dict[str, Any], message: dict[str, Any], edit_of: int | None = None
    ) -> Reply:
        owner = self.store.get_profile(ticket["user_id"])
        lang = owner.lang if owner else ticket["lang"]
        team = self._knowledge().teams.get(ticket["team_id"])
        name = team.name(lang) if team else ""
        text = f"{t(lang, 'answer_from', team=name, id=ticket['id'])}\n\n{message['text']}"
        tid = ticket["id"]
        buttons = (
            (Button(t(lang, "ticket_solved"), f"tk:ok:{tid}"),),
            (Button(t(lang, "ticket_followup"), f"tk:fu:{tid}"),),
            (Button(t(lang, "ticket_not_helpful"), f"tk:bad:{tid}"),),
        )
        return Reply(
            text,
            buttons,
            chat_id=ticket["user_id"],
            edit_message_id=edit_of,
            tag=None if edit_of else f"relay:{message['id']}",
        )

    def group_edit(self, incoming: Incoming) -> list[Reply]:
        """A provider edited an answer: the user's copy is edited too."""
        message = self.tickets.message_by_source(incoming.chat_id, incoming.message_id)
        if message is None or message["direction"] != "provider":
            return []
        ticket = self.tickets.get(message["ticket_id"])
        if ticket is None or self._undeliverable(ticket) or not message["delivered_message_id"]:
            return []
        self.tickets.set_message(message["id"], text=incoming.text)
        message = self.tickets.message(message["id"])
        return [self._relay(ticket, message, edit_of=message["delivered_message_id"])]

    def group_button(self, incoming: Incoming) -> list[Reply]:
        action, _, raw_id = incoming.text.removeprefix("tg:").partition(":")
        ticket = self.tickets.get(int(raw_id)) if raw_id.isdigit() else None
        if ticket is None or not self.can_act(incoming, ticket):
            return [Reply(t(GROUP_LANG, "group_not_allowed"))]
        name = incoming.sender_name or str(incoming.user_id)
        tid = ticket["id"]
        if action == "claim" and ticket["status"] in OPEN_STATES:
            self.tickets.update(
                tid,
                claimed_by=incoming.user_id,
                claimed_name=name,
                claimed_at=self.store.clock().isoformat(),
                status="claimed" if ticket["status"] == "open" else ticket["status"],
            )
            return [self._group_notice(ticket, t(GROUP_LANG, "group_claimed", id=tid, name=name))]
        if action in ("close", "spam") and ticket["status"] in OPEN_STATES:
            self._close(ticket, status="closed" if action == "close" else "spam")
            key = "group_closed" if action == "close" else "group_spammed"
            replies = [self._group_notice(ticket, t(GROUP_LANG, key, id=tid, name=name))]
            owner = self.store.get_profile(ticket["user_id"]) if ticket["user_id"] else None
            if action == "close" and owner is not None:
                replies.append(self._user_notice(ticket, owner, "ticket_closed_by_team"))
            return replies
        if action == "faq":
            answers = [
                m["text"] for m in self.tickets.messages(tid) if m["direction"] == "provider"
            ]
            if answers and ticket["question"]:
                self.tickets.suggest_faq(ticket, "\n\n".join(answers), incoming.user_id)
                return [self._group_notice(ticket, t(GROUP_LANG, "group_faq_saved", id=tid))]
        return []

    def open_list(self, chat_ids: list[int | None]) -> Reply:
        now = self.store.clock()
        tickets = self.tickets.open_in_chats([c for c in chat_ids if c is not None])
        if not tickets:
            return Reply(t(GROUP_LANG, "group_open_none"))
        lines = [t(GROUP_LANG, "group_open_title")]
        for ticket in tickets:
            age = now - dt.datetime.fromisoformat(ticket["created_at"])
            hours = int(age.total_seconds() // 3600)
            who = f"claimed by {ticket['claimed_name']}" if ticket["claimed_name"] else "unclaimed"
            urgent = " ⚠️ URGENT" if ticket["urgent"] else ""
            lines.append(
                f"#{ticket['id']}{urgent} · {hours} h · {ticket['status']} · {who} · "
                f"{ticket['question'][:80]}"
            )
        return Reply("\n".join(lines))

    # --- what the adapter reports back ------------------------------------------------------

    def sent(self, tag: str, chat_id: int, message_id: int, thread_id: int | None) -> list[Reply]:
        kind, _, rest = tag.partition(":")
        if kind == "tpost":
            ticket_id = int(rest)
            self.tickets.update(ticket_id, post_message_id=message_id, thread_id=thread_id)
            self.tickets.map_group_message(chat_id, message_id, ticket_id)
        elif kind == "tgrp":
            ticket_id = int(rest.split(":")[0])
            self.tickets.map_group_message(chat_id, message_id, ticket_id)
        elif kind == "notice":
            self.tickets.set_message(int(rest), status="delivered", delivered_message_id=message_id)
        elif kind == "relay":
            message = self.tickets.message(int(rest))
            if message is None:
                return []
            self.tickets.set_message(
                message["id"], status="delivered", delivered_message_id=message_id
            )
            ticket = self.tickets.get(message["ticket_id"])
            return [
                self._group_notice(
                    ticket,
                    t(GROUP_LANG, "group_delivered", id=ticket["id"]),
                    reply_to=message["source_message_id"],
                )
            ]
        return []

    def failed(self, tag: str, *, blocked: bool) -> list[Reply]:
        kind, _, rest = tag.partition(":")
        if kind == "notice":
            self.tickets.set_message(int(rest), status="failed")
            return []
        if kind != "relay":
            return []
        message = self.tickets.message(int(rest))
        if message is None:
            return []
        self.tickets.set_message(message["id"], status="failed")
        ticket = self.tickets.get(message["ticket_id"])
        reason = "group_reason_blocked" if blocked else "group_reason_error"
        return [
            self._group_notice(
                ticket,
                t(GROUP_LANG, "group_not_delivered", id=ticket["id"], reason=t(GROUP_LANG, reason)),
                reply_to=message["source_message_id"],
            )
        ]

    # --- housekeeping -----------------------------------------------------------------------

    def _unsent(self, now: dt.datetime) -> list[Reply]:
        """Posts, relays and notices stored but not confirmed as sent for a minute, or by an
        earlier process: send them again."""
        cutoff = max((now - UNSENT_GRACE).isoformat(), self.started)
        replies = []
        for ticket in self.tickets.all_open():
            if ticket["post_message_id"] is None and ticket["created_at"] <= cutoff:
                team = self._knowledge().teams.get(ticket["team_id"])
                if team is not None:
                    signal = safety_signal(self._knowledge(), ticket["question"])
                    replies.append(self._ticket_post(ticket, team, signal))
            for message in self.tickets.messages(ticket["id"]):
                if (
                    message["direction"] == "provider"
                    and message["status"] == "pending"
                    and message["created_at"] <= cutoff
                ):
                    replies.append(self._relay(ticket, message))
        for message in self.tickets.pending_notices(cutoff):
            ticket = self.tickets.get(message["ticket_id"])
            if ticket and ticket["user_id"]:
                replies.append(
                    Reply(message["text"], chat_id=ticket["user_id"], tag=f"notice:{message['id']}")
                )
        return replies

    def maintenance(self, now: dt.datetime) -> list[Reply]:
        """Run by a periodic job: finish what a crash interrupted (ticket posts and relayed
        answers never sent), re-announce unclaimed tickets, close stale ones politely."""
        replies = self._unsent(now)
        for ticket in self.tickets.all_open():
            created = dt.datetime.fromisoformat(ticket["created_at"])
            messages = self.tickets.messages(ticket["id"])
            last = max([created, *(dt.datetime.fromisoformat(m["created_at"]) for m in messages)])
            if now - last >= dt.timedelta(days=self.stale_days):
                self._close(ticket, status="closed")
                replies.append(
                    self._group_notice(
                        ticket, t(GROUP_LANG, "group_stale", id=ticket["id"], days=self.stale_days)
                    )
                )
                owner = self.store.get_profile(ticket["user_id"]) if ticket["user_id"] else None
                if owner:
                    replies.append(self._user_notice(ticket, owner, "ticket_stale_closed"))
                continue
            announced = dt.datetime.fromisoformat(ticket["announced_at"] or ticket["created_at"])
            if ticket["status"] == "open" and now - announced >= dt.timedelta(
                hours=self.reannounce_hours
            ):
                self.tickets.update(ticket["id"], announced_at=now.isoformat())
                hours = int((now - created).total_seconds() // 3600)
                replies.append(
                    self._group_notice(
                        ticket, t(GROUP_LANG, "group_reannounce", id=ticket["id"], hours=hours)
                    )
                )
        return replies
