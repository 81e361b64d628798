"""The assistant: one entry point, `handle`, shared by Telegram and the terminal chat."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from zoneinfo import ZoneInfo

from bot import broadcasts, stats
from bot.core import checklist, onboarding, render, render_checklist
from bot.core.escalation import (
    STATE_CONSENT,
    STATE_QUESTION,
    Escalation,
    safety_reply,
    safety_signal,
)
from bot.core.knowledge_holder import KnowledgeError, KnowledgeHolder
from bot.core.mentoring import MENTORING_STEPS, Mentoring
from bot.core.mentoring_notices import TAG as NOTICE_TAG
from bot.core.pathways import Pathways
from bot.core.replies import Button, Document, Incoming, Reply
from bot.core.understanding import understand
from bot.i18n import format_date, pick_language, t
from bot.matching.normalize import clean
from bot.storage import Clock, Profile, Store, utc_now
from bot.tickets_store import OPEN_STATES

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
QUIET_START = 21  # no reminders from 21:00 ...
QUIET_END = 8  # ... until 08:00, local time
COMMANDS = (
    "start",
    "help",
    "profile",
    "checklist",
    "task",
    "reminders",
    "business",
    "return",
    "human",
    "tickets",
    "buddy",
    "volunteer",
    "events",
    "news",
    "privacy",
    "export",
    "forget",
)
ADMIN_COMMANDS = (
    "reload",
    "stats",
    "broadcast",
    "volunteers",
)  # not in the public menu; refused politely for everyone else
OVERDUE_HELP_DAYS = 5
REMINDER_DAYS_AHEAD = 3
# Re-plan the checklist when one of these profile fields changes.
PLAN_FIELDS = (
    "country",
    "stage",
    "arrival_date",
    "departure_date",
    "citizenship",
    "purpose",
    "children",
)


class Assistant:
    """Turns what a user did into replies, reading and updating their stored state."""

    def __init__(
        self,
        holder: KnowledgeHolder,
        store: Store,
        *,
        clock: Clock = utc_now,
        overdue_help_days: int = OVERDUE_HELP_DAYS,
        reminder_days_ahead: int = REMINDER_DAYS_AHEAD,
        provider_chats: Mapping[str, int] | None = None,
        provider_ids: frozenset[int] = frozenset(),
        admin_ids: frozenset[int] = frozenset(),
    ) -> None:
        self.admin_ids = admin_ids
        self.broadcasts = broadcasts.Broadcasts(store)
        self.holder = holder
        self.store = store
        self.clock = clock
        self.overdue_help_days = overdue_help_days
        self.reminder_days_ahead = reminder_days_ahead
        self.escalation = Escalation(
            holder, store, provider_chats=provider_chats or {}, provider_ids=provider_ids
        )
        # /buddy and /volunteer (bot/core/mentoring.py); admins are read at each use.
        self.mentoring = Mentoring(holder, store, admin_ids=lambda: self.admin_ids)
        self.pathways = Pathways(holder, store)  # /business (bot/core/pathways.py)

    @property
    def knowledge(self):
        return self.holder.current.knowledge

    # --- what the adapter reports back, and housekeeping --------------------------------------

    def sent(self, tag: str, chat_id: int, message_id: int, thread_id: int | None) -> list[Reply]:
        """A tagged reply went out: the part of the core that tagged it records it (by the
        tag's kind); it may answer with more replies (e.g. "delivered" in a provider group)."""
        kind, _, rest = tag.partition(":")
        if kind == NOTICE_TAG:
            self.mentoring.sent(int(rest), message_id)
            return []
        return self.escalation.sent(tag, chat_id, message_id, thread_id)

    def failed(self, tag: str, *, blocked: bool) -> list[Reply]:
        """A tagged reply was refused by Telegram (`blocked`: the recipient blocked the bot)."""
        kind, _, rest = tag.partition(":")
        if kind == NOTICE_TAG:
            self.mentoring.failed(int(rest), blocked=blocked)
            return []
        return self.escalation.failed(tag, blocked=blocked)

    def maintenance(self, now: dt.datetime) -> list[Reply]:
        """Periodic: tickets' and mentoring's housekeeping (also what a crash left unsent)."""
        return [*self.escalation.maintenance(now), *self.mentoring.maintenance(now)]

    def setup_warnings(self) -> list[str]:
        """Settings that keep a feature from working, for the log at start."""
        return self.mentoring.setup_warnings()

    def profile_of(self, user_id: int, language_code: str | None = None) -> Profile:
        """The stored profile, created on first contact with the client's language."""
        profile = self.store.get_profile(user_id)
        if profile is None:
            profile = self.store.save_profile(
                Profile(user_id=user_id, lang=pick_language(language_code))
            )
        return profile

    def handle(self, msg: Incoming) -> list[Reply]:
        self._current = msg
        if msg.chat_id is not None:  # a group: only provider groups are served
            return self._group(msg)
        profile = self.profile_of(msg.user_id, msg.language_code)
        self.store.touch(profile.user_id)  # "active users" in the statistics
        if msg.kind == "command":
            return self._command(profile, msg.text.lower(), msg.args)
        if msg.kind == "button":
            return self._button(profile, msg.text)
        if msg.kind == "media":
            return [Reply(t(profile.lang, "media_unsupported"))]
        if msg.kind == "edit":
            return []  # an edited old message is not a new question
        return self._text(profile, msg.text, msg)

    def _group(self, msg: Incoming) -> list[Reply]:
        esc = self.escalation
        if not esc.is_provider_chat(msg.chat_id) and msg.user_id not in esc.provider_ids:
            return []  # groups that are not provider groups are ignored
        if msg.kind == "command" and msg.text == "stats":  # providers: their own countries
            teams = [t for t in esc.teams() if esc.chat_of(t) == msg.chat_id]
            countries = tuple(sorted({c for t in teams for c in t.countries}))
            if teams and not countries and not any(t.fallback for t in teams):
                countries = ()
            return [replace(self.stats_reply(countries), chat_id=msg.chat_id)]
        if msg.kind == "button":
            return esc.group_button(msg)
        if msg.kind == "edit":
            return esc.group_edit(msg)
        return esc.group_text(msg)

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
            return self._human(profile)
        if name == "reload":
            return [self._reload(profile)]
        if name == "events":
            return [self._events(profile)]
        if name == "news":
            return [self._news(profile, args)]
        if name == "broadcast":
            if profile.user_id not in self.admin_ids:
                return [Reply(t(lang, "admin_only"))]
            return [self._broadcast_draft(profile, args)]
        if name == "stats":
            if profile.user_id not in self.admin_ids:
                return [Reply(t(lang, "admin_only"))]
            return [self.stats_reply(())]
        if name == "tickets":
            return [self.escalation.list_for(profile)]
        if name == "privacy":
            return self._privacy(profile)
        if name == "export":
            return [render.export_reply(self.store.export_user(profile.user_id), lang)]
        if name == "forget":
            return [render.forget_confirm_reply(lang)]
        if name == "checklist":
            return [self._checklist(profile)]
        if name == "task":
            return [self._add_task(profile, args)]
        if name == "reminders":
            return [self._reminders(profile)]
        if name in ("volunteer", "buddy", "volunteers"):
            return self.mentoring.command(profile, name)
        if name in ("business", "return"):  # knowledge/pathways/<name>.yaml
            return self.pathways.command(profile, name)
        return [Reply(t(lang, "unknown_command"))]

    # --- text -------------------------------------------------------------------------------

    def _source_key(self) -> str | None:
        """The current update's stable id (empty for the terminal), for idempotent writes."""
        current = getattr(self, "_current", None)
        return current.source_key if current is not None and current.source_key else None

    def _human(self, profile: Profile) -> list[Reply]:
        """ "Talk to a person": a ticket to a provider team when one is connected."""
        if self.escalation.available(profile):
            return self.escalation.ask_for_question(profile)
        return [render.human_reply(self.knowledge, profile)]

    def _text(self, profile: Profile, raw: str, msg: Incoming | None = None) -> list[Reply]:
        text = clean(raw)
        lang = profile.lang
        if not text:
            return [Reply(t(lang, "empty_message"))]
        if profile.onboarding_step in ("arrival", "departure"):
            return self._onboarding_answer(profile, profile.onboarding_step, text)
        # Safety first: danger signals get the emergency and help-line numbers at once.
        first = []
        if safety_signal(self.knowledge, text):
            first.append(safety_reply(self.knowledge, profile))
        if profile.onboarding_step in MENTORING_STEPS:  # a buddy form or a report waits
            return first + self.mentoring.text(profile, text)
        esc = self.escalation
        if profile.onboarding_step in (STATE_QUESTION, STATE_CONSENT):
            return first + (
                esc.consent(profile, text[:MAX_QUESTION_CHARS])
                or [render.human_reply(self.knowledge, profile)]
            )
        ticket = esc.open_ticket_of(profile)
        if ticket is not None:  # a person is on it: the bot does not talk over them
            return first + esc.ask_add(profile, ticket, text[:MAX_QUESTION_CHARS])
        return first + self._question(profile, text)

    def _question(self, profile: Profile, text: str) -> list[Reply]:
        lang = profile.lang
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
            intent=result.intent_id,  # for "suggest": the best candidate (report, statistics)
            score=result.score,
            source_key=self._source_key(),
        )
        if result.outcome == "answer" and result.intent_id:
            return self._answer(profile, result.intent_id, question_id)
        ask = f"esc:q:{question_id}" if self.escalation.available(profile) else "human"
        if result.outcome == "suggest":
            return [render.suggestions_reply(knowledge, result.suggestions, lang, none_data=ask)]
        reply = render.unknown_reply(knowledge, profile)
        if self.escalation.available(profile):
            reply = replace(reply, buttons=((Button(t(lang, "ask_person"), ask),), *reply.buttons))
        return [reply]

    def _reload(self, profile: Profile) -> Reply:
        """Admins: validate the knowledge on disk and swap it in; on errors keep the old one."""
        if profile.user_id not in self.admin_ids:
            return Reply(t(profile.lang, "admin_only"))
        return self.reload_knowledge(profile.lang)

    def reload_knowledge(self, lang: str) -> Reply:
        """Validate and swap in the knowledge on disk (the old one stays on any error)."""
        profile = Profile(user_id=0, lang=lang)
        try:
            problems = self.holder.reload()
        except KnowledgeError as exc:
            lines = [str(p) for p in exc.problems[:30]]
            more = len(exc.problems) - len(lines)
            text = (
                t(profile.lang, "reload_failed", count=len(exc.problems))
                + "\n\n"
                + "\n".join(lines)
            )
            return Reply(text + (f"\n… +{more}" if more > 0 else ""))
        replanned = self.replan_everyone()
        knowledge = self.knowledge
        return Reply(
            t(
                profile.lang,
                "reload_done",
                intents=len(knowledge.intents),
                services=len(knowledge.services),
                tasks=len(knowledge.tasks),
                warnings=len(problems),
                users=replanned,
            )
        )

    # --- events, news and broadcasts ---------------------------------------------------------

    def _events(self, profile: Profile) -> Reply:
        """Upcoming events in the user's country (their city's and country-wide ones)."""
        today = self._today(profile)
        found = sorted(
            (
                e
                for e in self.knowledge.events.values()
                if e.date >= today
                and (profile.country in (None, e.country))
                and (e.city is None or profile.city in (None, e.city))
            ),
            key=lambda e: (e.date, e.id),
        )
        lang = profile.lang
        if not found:
            return Reply(t(lang, "events_none"))
        lines = [t(lang, "events_title"), ""]
        for event in found[:10]:
            city = self.knowledge.city(event.city)
            where = f", {city.name(lang)}" if city else ""
            lines.append(
                f"• {format_date(lang, event.date)}{where}: {event.title(lang)}\n  {event.link}"
            )
        return Reply("\n".join(lines))

    def _news(self, profile: Profile, args: str) -> Reply:
        choice = args.strip().lower()
        if choice in ("on", "off"):
            profile = self.store.update_profile(profile, news=choice == "on")
        key = "news_on" if profile.news else "news_off"
        return Reply(t(profile.lang, key))

    def _broadcast_draft(self, profile: Profile, args: str) -> Reply:
        lang = profile.lang
        event_id = next((w.split("=", 1)[1] for w in args.split() if w.startswith("event=")), None)
        if event_id is not None:
            event = self.knowledge.events.get(event_id)
            if event is None:
                return Reply(t(lang, "broadcast_usage"))
            filters = " ".join(w for w in args.split("\n")[0].split() if not w.startswith("event="))
            texts = "\n".join(
                f"{code}: {event.title(code)} — {format_date(code, event.date)} {event.link}"
                for code in ("en", "ru", "uk")
            )
            args = f"{filters}\n{texts}"
        draft = broadcasts.parse(args)
        if draft.errors or not args.strip():
            return Reply(t(lang, "broadcast_usage") + "\n\n" + "\n".join(draft.errors))
        item = self.broadcasts.create(profile.user_id, draft)
        segment = ", ".join(f"{k}={','.join(v)}" for k, v in draft.segment.items()) or "all"
        preview = "\n\n".join(f"[{code}] {text}" for code, text in draft.texts.items())
        buttons = (
            (
                Button(t(lang, "broadcast_send", count=item["total"]), f"bc:go:{item['id']}"),
                Button(t(lang, "consent_cancel"), f"bc:no:{item['id']}"),
            ),
        )
        return Reply(
            t(lang, "broadcast_preview", id=item["id"], count=item["total"], segment=segment)
            + "\n\n"
            + preview,
            buttons,
        )

    def _broadcast_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        if profile.user_id not in self.admin_ids:
            return [Reply(t(profile.lang, "admin_only"))]
        action, _, raw_id = rest.partition(":")
        if not raw_id.isdigit():
            return None
        if action == "no" and self.broadcasts.cancel(int(raw_id)):
            return [Reply(t(profile.lang, "consent_cancelled"))]
        if action == "go":
            item = self.broadcasts.confirm(int(raw_id))
            if item is not None:
                return [
                    Reply(t(profile.lang, "broadcast_started", id=item["id"], count=item["total"]))
                ]
        return None

    def stats_reply(self, countries: tuple[str, ...]) -> Reply:
        """The statistics as text, with the chart of the last 30 days attached."""
        figures = stats.compute(self.store, countries=countries)
        text = stats.as_text(figures)
        return Reply(text, photo=Document("soft-landing-stats.png", stats.chart_png(figures)))

    def replan_everyone(self) -> int:
        """After new templates: every user's checklist follows them, keeping what was done."""
        count = 0
        for row in self.store.db["users"].rows_where("country IS NOT NULL"):
            profile = self.store.get_profile(row["id"])
            if profile is not None:
                self.replan(profile)
                count += 1
        return count

    def _forget(self, profile: Profile) -> list[Reply]:
        """Erase everything; providers see the user's open tickets marked as erased."""
        notices = [
            Reply(
                t("en", "group_erased", id=ticket["id"]),
                chat_id=ticket["chat_id"],
                thread_id=ticket["thread_id"],
                reply_to=ticket["post_message_id"],
            )
            for ticket in self.escalation.tickets.of_user(profile.user_id)
            if ticket["status"] in OPEN_STATES and ticket["chat_id"]
        ]
        notices += self.mentoring.forget(profile.user_id)  # buddies are told it ended, no more
        self.store.forget_user(profile.user_id)
        return [Reply(t(profile.lang, "forget_done")), *notices]

    def _escalation_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        esc = self.escalation
        if rest == "no":
            return esc.cancel(profile)
        if rest in ("send", "name"):
            return esc.create(profile, self._current, with_name=rest == "name") or None
        if rest.startswith("t:"):  # one tap from a long-overdue task
            item = next((v for v in self._views(profile) if v.task_id == rest[2:]), None)
            if item is None:
                return None
            question = t(profile.lang, "task_help_question", title=item.title)
            return esc.consent(profile, question) or self._human(profile)
        if rest.startswith("q:") and rest[2:].isdigit():
            question = self.store.question(int(rest[2:]))
            if question is None or question["user_id"] != profile.user_id:
                return None
            return esc.consent(profile, question["text"]) or self._human(profile)
        return None

    def _ticket_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        esc = self.escalation
        if rest == "add":
            return esc.add(profile, self._current) or None
        if rest == "bot":
            profile, pending, replies = esc.leave(profile)
            return replies + (self._question(profile, pending) if pending else [])
        action, _, raw_id = rest.partition(":")
        return esc.user_button(profile, action, raw_id)

    def _mentoring_button(self, profile: Profile, rest: str) -> list[Reply]:
        return self.mentoring.button(profile, rest, self._current)

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
            "ck": self._checklist_button,
            "rm": self._reminders_button,
            "esc": self._escalation_button,
            "bc": self._broadcast_button,
            "tk": self._ticket_button,
            "mt": self._mentoring_button,
            "pw": self._pathway_button,
        }.get(kind)
        if data == "human":
            return self._human(profile)
        if data == "fg:yes":
            return self._forget(profile)
        if data == "fg:no":
            return [Reply(t(profile.lang, "forget_cancelled"))]
        replies = handler(profile, rest) if handler else None
        return replies or [Reply(t(profile.lang, "stale_button"))]

    def _pathway_button(self, profile: Profile, rest: str) -> list[Reply]:
        return self.pathways.button(profile, rest, today=self._today(profile))

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
            if step in ("arrival", "departure"):
                return [Reply(t(profile.lang, "arrival_invalid"))]
            return None
        in_flow = profile.onboarding_step == step and not profile.editing
        if not in_flow:  # a change from /profile, or an old onboarding button
            updated = replace(updated, onboarding_step=None, editing=False)
            follow_up = None
            if step == "country" and updated.city is None and updated.country:
                follow_up = "city"
            elif step == "stage" and updated.stage in ("planning", "arrived", "leaving"):
                follow_up = "departure" if updated.stage == "leaving" else "arrival"
            if follow_up:
                updated = replace(updated, onboarding_step=follow_up, editing=True)
                self._save_and_replan(profile, updated)
                return [onboarding.prompt(follow_up, updated, knowledge)]
            self._save_and_replan(profile, updated)
            return [Reply(t(updated.lang, "profile_saved")), onboarding.summary(updated, knowledge)]
        following = onboarding.next_step(updated, step)
        updated = replace(updated, onboarding_step=following)
        if following is None:
            self._save_and_replan(profile, updated, force=True)
            done = [Reply(t(updated.lang, "onboarding_done")), self._checklist(updated)]
            if updated.stage == "leaving":  # people leaving: the departure and return pathway
                done.append(self._return_offer(updated.lang))
            return done
        self.store.save_profile(updated)
        return [onboarding.prompt(following, updated, knowledge)]

    @staticmethod
    def _return_offer(lang: str) -> Reply:
        """A button to /return, shown to people who are leaving."""
        return Reply(t(lang, "return_offer"), ((Button(t(lang, "return_open"), "pw:return:go"),),))

    def _save_and_replan(self, before: Profile, after: Profile, *, force: bool = False) -> None:
        """Save the profile; re-plan the checklist when a field it depends on changed."""
        self.store.save_profile(after)
        if force or any(getattr(before, f) != getattr(after, f) for f in PLAN_FIELDS):
            self.replan(after)

    def replan(self, profile: Profile) -> None:
        """Bring the user's checklist in line with the templates, keeping what they did."""
        self.store.replan_tasks(profile.user_id, checklist.plan(self.knowledge, profile))

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
            source_key=self._source_key(),
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

    # --- checklist ------------------------------------------------------------------------

    def _today(self, profile: Profile) -> dt.date:
        """Today in the user's country (UTC when the country is not known)."""
        country = self.knowledge.countries.get(profile.country or "")
        now = self.clock()
        return now.astimezone(ZoneInfo(country.timezone)).date() if country else now.date()

    def _views(self, profile: Profile) -> list[checklist.TaskView]:
        rows = self.store.tasks_of(profile.user_id)
        return checklist.views(self.knowledge, rows, profile.lang)

    def _checklist(self, profile: Profile) -> Reply:
        groups = checklist.group(self._views(profile), self._today(profile))
        return render_checklist.checklist_reply(groups, profile.lang)

    def _add_task(self, profile: Profile, args: str) -> Reply:
        raw_date, _, title = args.strip().partition(" ")
        day = onboarding.parse_date(raw_date, today=self._today(profile)) if raw_date else None
        title = clean(title)[:200]
        if day is None or not title:
            return Reply(t(profile.lang, "task_usage"))
        self.store.add_custom_task(profile.user_id, title, day, source_key=self._source_key())
        return Reply(
            t(profile.lang, "task_added", title=title, date=format_date(profile.lang, day))
        )

    def _checklist_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        action, _, task_id = rest.partition(":")
        lang = profile.lang
        if action == "l":
            return [self._checklist(profile)]
        item = next((v for v in self._views(profile) if v.task_id == task_id), None)
        if item is None or action not in ("o", "t", "u", "s", "h"):
            # Not (or no longer) on this user's list: change nothing, show the current one.
            return [Reply(t(lang, "list_changed")), self._checklist(profile)]
        today = self._today(profile)
        if action == "o":
            return [self._task_card(item, lang, today)]
        if action == "s":
            until = today + dt.timedelta(days=checklist.SNOOZE_DAYS)
            self.store.snooze_task(profile.user_id, task_id, until)
            return [Reply(t(lang, "task_snoozed", date=format_date(lang, until)))]
        status, key = {
            "t": ("done", "task_done_ok"),
            "u": ("open", "task_reopened"),
            "h": ("hidden", "task_hidden"),
        }[action]
        self.store.set_task_status(profile.user_id, task_id, status)  # committed before reply
        return [Reply(t(lang, key, title=item.title)), self._checklist(profile)]

    def _task_card(self, item: checklist.TaskView, lang: str, today: dt.date) -> Reply:
        return render_checklist.task_reply(
            item, lang, today, overdue_help_days=self.overdue_help_days
        )

    # --- reminders ------------------------------------------------------------------------

    def _reminders(self, profile: Profile) -> Reply:
        country = self.knowledge.countries.get(profile.country or "")
        place = country.name(profile.lang) if country else None
        return render_checklist.reminders_reply(
            profile.lang, on=profile.reminders, hour=profile.reminder_hour, place=place
        )

    def _reminders_button(self, profile: Profile, rest: str) -> list[Reply] | None:
        if rest in ("on", "off"):
            profile = self.store.update_profile(profile, reminders=rest == "on")
        elif (
            rest.startswith("h:")
            and rest[2:].isdigit()
            and int(rest[2:]) in render_checklist.REMINDER_HOURS
        ):
            profile = self.store.update_profile(
                profile, reminders=True, reminder_hour=int(rest[2:])
            )
        else:
            return None
        return [Reply(t(profile.lang, "reminders_saved")), self._reminders(profile)]

    def digest_for(self, profile: Profile, local_today: dt.date) -> Reply | None:
        """Today's reminder for one user, or None when nothing is due soon or overdue."""
        items = checklist.digest_items(
            self._views(profile), local_today, ahead_days=self.reminder_days_ahead
        )
        return render_checklist.digest_reply(items, profile.lang) if items else None

    def due_digests(self, now: dt.datetime) -> list[tuple[int, dt.date, Reply]]:
        """Digests to send now, each claimed in SQLite so that it goes out once per local day.

        A user's digest is due once their local time has reached their reminder hour, and
        never in the quiet hours (21:00-08:00 local). After a restart the same rule finds any
        digest that was missed, so scheduling needs no state outside the database.
        """
        due = []
        for profile in self.store.reminder_candidates():
            country = self.knowledge.countries.get(profile.country or "")
            if country is None:
                continue
            local = now.astimezone(ZoneInfo(country.timezone))
            if not (QUIET_END <= local.hour < QUIET_START) or local.hour < profile.reminder_hour:
                continue
            reply = self.digest_for(profile, local.date())
            if reply and self.store.claim_digest(profile.user_id, local.date()):
                due.append((profile.user_id, local.date(), reply))
        return due
