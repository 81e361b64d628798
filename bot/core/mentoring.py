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
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core import render_mentoring as render
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.mentoring_notices import notice_reply, notice_row
from bot.core.replies import Button, Incoming, Reply
from bot.faults import fault_point
from bot.i18n import t
from bot.knowledge.mentoring import MentoringCatalog
from bot.knowledge.model import Knowledge
from bot.matching.normalize import clean
from bot.mentoring_store import OPEN_STATES, Match, MentoringStore, Volunteer
from bot.storage import Profile, Store

log = logging.getLogger(__name__)
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
# A notice handed to the adapter and not reported sent within this time is sent again (as
# ticket notices: bot/core/escalation.py); one sent again GIVE_UP_TRIES times and still not
# delivered GIVE_UP after it was written is marked failed (a long outage of the bot itself
# does not count: it tries first).
UNSENT_GRACE = dt.timedelta(minutes=1)
GIVE_UP = dt.timedelta(days=2)
GIVE_UP_TRIES = 20
Notices = list[dict[str, Any]]  # rows for the outbox (bot/core/mentoring_notices.py)


@dataclass(frozen=True)
class Request:
    """What a newcomer asks for; matched against approved volunteers."""

    newcomer_id: int
    topic: str
    country: str
    city: str
    languages: tuple[str, ...]


def candidates(
    request: Request,
    volunteers: Iterable[Volunteer],
    *,
    busy: Mapping[int, int],
    excluded: set[int],
    city_only: bool,
) -> list[Volunteer]:
    """Volunteers who fit, best first.

    A fit: approved, not the newcomer themselves, in the newcomer's country (their city when
    the topic is local), offering the topic, sharing a language, with capacity left, and
    never proposed to this newcomer before. Ranked by same city first, then the number of
    shared languages, then the fewest current matches, then the longest-standing volunteer.
    """
    wanted = set(request.languages)

    def fits(v: Volunteer) -> bool:
        return (
            v.status == "approved"
            and v.user_id != request.newcomer_id
            and v.user_id not in excluded
            and v.country == request.country
            and (v.city == request.city or not city_only)
            and request.topic in v.topics
            and bool(wanted & set(v.languages))
            and busy.get(v.user_id, 0) < v.capacity
        )

    return sorted(
        filter(fits, volunteers),
        key=lambda v: (
            v.city != request.city,
            -len(wanted & set(v.languages)),
            busy.get(v.user_id, 0),
            v.id,
        ),
    )


def contact_of(incoming: Incoming) -> str:
    """What the other side receives once both accepted: @username, else a tg:// link."""
    if incoming.username:
        return f"@{incoming.username}"
    return f"tg://user?id={incoming.user_id}"


class Mentoring:
    """The /volunteer and /buddy flows; returns replies, some addressed to other chats."""

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
        self._admin_ids = admin_ids
        # Notices last handed out before this process started cannot be in flight: the first
        # housekeeping sends them again at once, not after the grace period.
        self.started = store.clock().isoformat()

    @property
    def knowledge(self) -> Knowledge:
        return self.holder.current.knowledge

    @property
    def catalog(self) -> MentoringCatalog:
        return self.knowledge.mentoring

    def _lang_of(self, user_id: int | None) -> str:
        profile = self.store.get_profile(user_id) if user_id is not None else None
        return profile.lang if profile else "en"

    def _step(self, profile: Profile, step: str | None) -> Profile:
        return self.store.update_profile(profile, onboarding_step=step, editing=False)

    def setup_warnings(self) -> list[str]:
        """What keeps the feature from working as configured (logged at start)."""
        if self.catalog.enabled and not self._admin_ids():
            return [
                "mentoring: knowledge/mentoring.yaml is present but ADMIN_IDS is empty, so no "
                "volunteer can be approved (they are told so); set ADMIN_IDS to approve them"
            ]
        return []

    # --- the outbox ---------------------------------------------------------------------------

    def _notice(
        self,
        kind: str,
        reply: Reply,
        *,
        lang: str,
        key: str,
        match: Match | None = None,
        volunteer_id: int | None = None,
        about: int | None = None,
    ) -> dict[str, Any]:
        return notice_row(
            reply,
            kind=kind,
            key=key,
            lang=lang,
            match_id=match.id if match else None,
            volunteer_id=match.volunteer_id if match else volunteer_id,
            about=about,
        )

    def _deliver(self, notices: Notices) -> list[Reply]:
        """The stored notices among `notices` that still wait to be sent, as replies."""
        rows = self.data.notices_by_keys(n["source_key"] for n in notices)
        return [notice_reply(row) for row in rows if row["status"] == "pending"]

    @staticmethod
    def _origin(incoming: Incoming) -> str:
        """What a notice key of a repeatable event names: the update that caused it."""
        return incoming.source_key or f"once-{uuid.uuid4().hex}"

    def sent(self, notice_id: int, message_id: int) -> None:
        """The adapter delivered notice `notice_id`."""
        self.data.set_notice(
            notice_id,
            status="delivered",
            delivered_at=self.store.clock().isoformat(),
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
        before = (now - dt.timedelta(days=self.catalog.reply_days)).isoformat()
        replies: list[Reply] = []
        for match in self.data.stale("newcomer_accepted", before):
            notices = self._expired_notice(match)
            if self.data.move(
                match.id, ("newcomer_accepted",), "expired", closed_by="system", notices=notices
            ):
                replies += self._deliver(notices)
        for match in self.data.stale("proposed", before):
            self.data.move(match.id, ("proposed",), "expired", closed_by="system")
        return replies

    def _expired_notice(self, match: Match) -> Notices:
        if match.newcomer_id is None:
            return []
        lang = self._lang_of(match.newcomer_id)
        text = t(
            lang,
            "mt_expired_notice",
            name=match.volunteer_name,
            id=match.id,
            days=self.catalog.reply_days,
        )
        again = Button(t(lang, "mt_look_again"), f"mt:more:{match.id}")
        reply = Reply(text, ((again,),), chat_id=match.newcomer_id)
        return [self._notice("expired", reply, lang=lang, key=f"expired:m{match.id}", match=match)]

    def _expired_view(self, profile: Profile, match: Match | None) -> list[Reply] | None:
        """A button of an expired proposal: say so kindly (the newcomer may look again)."""
        if match is None or match.state != "expired":
            return None
        lang, days = profile.lang, self.catalog.reply_days
        if match.role_of(profile.user_id) == "volunteer":
            return [Reply(t(lang, "mt_request_expired", id=match.id, days=days))]
        again = Button(t(lang, "mt_look_again"), f"mt:more:{match.id}")
        return [Reply(t(lang, "mt_proposal_expired", id=match.id, days=days), ((again,),))]

    # --- entry points -----------------------------------------------------------------------

    def command(self, profile: Profile, name: str) -> list[Reply]:
        lang = profile.lang
        if name == "volunteers":
            if profile.user_id not in self._admin_ids():
                return [Reply(t(lang, "admin_only"))]
            return self._pending_list(profile)
        if not self.catalog.enabled:
            return [Reply(t(lang, "mt_unavailable"))]
        if name == "volunteer":
            return self._volunteer_home(profile)
        return self._buddy_home(profile)

    def button(self, profile: Profile, rest: str, incoming: Incoming) -> list[Reply]:
        """`mt:` buttons; anything out of date or not the presser's gets a polite note."""
        action, _, arg = rest.partition(":")
        handler = self._buttons().get(action)
        replies = None
        if handler is not None and self.catalog.enabled:
            replies = handler(profile, arg, incoming)
        return replies or [Reply(t(profile.lang, "mt_stale"))]

    def text(self, profile: Profile, text: str) -> list[Reply]:
        """Typed text while a mentoring step waits for it."""
        handler = {
            STEP_INTRO: self._intro_text,
            STEP_NAME: self._name_text,
            STEP_BUDDY_NAME: self._buddy_name_text,
            STEP_BUDDY_NOTE: self._buddy_note_text,
            STEP_REASON: self._reason_text,
        }[profile.onboarding_step or ""]
        replies = handler(profile, clean(text))
        if replies is None:  # the form is gone (finished elsewhere, or erased)
            self._step(profile, None)
            return [Reply(t(profile.lang, "mt_stale"))]
        return replies

    def forget(self, user_id: int) -> list[Reply]:
        """/forget: end the user's open matches; the other sides are told it ended, no more."""
        return self._close_all(user_id, volunteer_only=False)

    def _buttons(self) -> dict[str, Callable[[Profile, str, Incoming], list[Reply] | None]]:
        return {
            # the volunteer form
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
            # admins
            "ok": self._approve,
            "no": self._reject,
            # the buddy request
            "new": lambda p, _a, _i: self._request_start(p),
            "bt": self._request_topic,
            "bl": self._request_language,
            "bL": self._request_languages_done,
            "bs": self._request_skip_note,
            "bx": self._request_cancel,
            # a match
            "na": self._newcomer_accept,
            "nd": self._newcomer_someone_else,
            "nx": self._newcomer_cancel,
            "aa": self._volunteer_accept,
            "ad": self._volunteer_decline,
            "more": self._look_again,
            "end": self._end_ask,
            "endy": self._end,
            "rep": self._report_ask,
            "rx": self._report_cancel,
            "keep": lambda p, _a, _i: [Reply(t(p.lang, "mt_kept"))],
        }

    # --- the volunteer's form ---------------------------------------------------------------

    def _volunteer_home(self, profile: Profile) -> list[Reply]:
        volunteer = self.data.volunteer_of(profile.user_id)
        if volunteer is None:
            return self._form_start(profile)
        lang = profile.lang
        status = t(lang, f"mt_status_{volunteer.status}")
        text = (
            t(lang, "mt_vol_status", status=status)
            + "\n\n"
            + render.volunteer_card(self.knowledge, volunteer, lang)
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

    def _form_restart(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        """Change the profile: the form again; the new profile waits for approval again."""
        volunteer = self.data.volunteer_of(profile.user_id)
        if volunteer is None or volunteer.status == "rejected":
            return None
        return self._form_start(profile)

    def _form_start(self, profile: Profile) -> list[Reply]:
        self.data.save_draft(profile.user_id, "volunteer", {"languages": [profile.lang]})
        lang = profile.lang
        options = [(c.code, c.name(lang)) for c in self.knowledge.countries.values()]
        return [Reply(t(lang, "mt_vol_intro"), render.choices(options, "mt:vc"))]

    def _form(self, profile: Profile, *needed: str) -> dict[str, Any] | None:
        """The volunteer's form in progress, if it has the fields an answer builds on."""
        form = self.data.draft(profile.user_id, "volunteer")
        if form is None or any(not form.get(key) for key in needed):
            return None
        return form

    def _form_country(self, profile: Profile, code: str, _: Incoming) -> list[Reply] | None:
        form = self._form(profile)
        country = self.knowledge.countries.get(code)
        if form is None or country is None:
            return None
        form |= {"country": code, "city": ""}
        self.data.save_draft(profile.user_id, "volunteer", form)
        options = [(city.id, city.name(profile.lang)) for city in country.cities]
        return [Reply(t(profile.lang, "mt_vol_city"), render.choices(options, "mt:vt"))]

    def _form_city(self, profile: Profile, city_id: str, _: Incoming) -> list[Reply] | None:
        form = self._form(profile, "country")
        city = self.knowledge.city(city_id)
        if form is None or city is None or city.country != form["country"]:
            return None
        form["city"] = city_id
        self.data.save_draft(profile.user_id, "volunteer", form)
        return [self._languages_prompt(profile.lang, form["languages"], "mt:vl", "mt:vL", True)]

    def _languages_prompt(
        self, lang: str, chosen: list[str], prefix: str, done: str, volunteer: bool
    ) -> Reply:
        options = [(code, c.label(lang)) for code, c in self.catalog.languages.items()]
        key = "mt_vol_languages" if volunteer else "mt_buddy_languages"
        return Reply(t(lang, key), render.toggles(options, chosen, prefix, done, lang))

    def _topics_prompt(self, lang: str, chosen: list[str]) -> Reply:
        options = [(topic_id, topic.label(lang)) for topic_id, topic in self.catalog.topics.items()]
        keyboard = render.toggles(options, chosen, "mt:vp", "mt:vP", lang)
        return Reply(t(lang, "mt_vol_topics"), keyboard)

    def _toggle(self, values: list[str], value: str) -> list[str]:
        return [v for v in values if v != value] if value in values else [*values, value]

    def _form_language(self, profile: Profile, code: str, incoming: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city")
        if form is None or code not in self.catalog.languages:
            return None
        form["languages"] = self._toggle(form.get("languages", []), code)
        self.data.save_draft(profile.user_id, "volunteer", form)
        reply = self._languages_prompt(profile.lang, form["languages"], "mt:vl", "mt:vL", True)
        return [_edit(reply, incoming)]

    def _form_languages_done(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city")
        if form is None:
            return None
        if not form.get("languages"):
            return [Reply(t(profile.lang, "mt_need_one"))]
        return [self._topics_prompt(profile.lang, form.get("topics", []))]

    def _form_topic(self, profile: Profile, topic: str, incoming: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages")
        if form is None or topic not in self.catalog.topics:
            return None
        form["topics"] = self._toggle(form.get("topics", []), topic)
        self.data.save_draft(profile.user_id, "volunteer", form)
        return [_edit(self._topics_prompt(profile.lang, form["topics"]), incoming)]

    def _form_topics_done(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages")
        if form is None:
            return None
        if not form.get("topics"):
            return [Reply(t(profile.lang, "mt_need_one"))]
        lang = profile.lang
        options = [(key, a.label(lang)) for key, a in self.catalog.availability.items()]
        return [Reply(t(lang, "mt_vol_availability"), render.choices(options, "mt:va", 1))]

    def _form_availability(self, profile: Profile, key: str, _: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages", "topics")
        if form is None or key not in self.catalog.availability:
            return None
        form["availability"] = key
        self.data.save_draft(profile.user_id, "volunteer", form)
        self._step(profile, STEP_INTRO)
        return [_with_cancel(t(profile.lang, "mt_vol_ask_intro"), profile.lang, "mt:vx")]

    def _intro_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._form(profile, "availability")
        if form is None:
            return None
        problem = _text_problem(profile.lang, text, MAX_INTRO)
        if problem:
            return [_with_cancel(problem, profile.lang, "mt:vx")]
        form["intro"] = text
        self.data.save_draft(profile.user_id, "volunteer", form)
        self._step(profile, STEP_NAME)
        return [_with_cancel(t(profile.lang, "mt_vol_ask_name"), profile.lang, "mt:vx")]

    def _name_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._form(profile, "availability", "intro")
        if form is None:
            return None
        problem = _text_problem(profile.lang, text, MAX_NAME)
        if problem:
            return [_with_cancel(problem, profile.lang, "mt:vx")]
        form["name"] = text
        self.data.save_draft(profile.user_id, "volunteer", form)
        self._step(profile, None)
        lang = profile.lang
        text = t(lang, "mt_vol_review") + "\n\n" + render.draft_card(self.knowledge, form, lang)
        buttons = (
            (Button(t(lang, "mt_vol_submit"), "mt:vs"),),
            (Button(t(lang, "consent_cancel"), "mt:vx"),),
        )
        return [Reply(text, buttons)]

    def _form_submit(self, profile: Profile, _: str, incoming: Incoming) -> list[Reply] | None:
        form = self._form(profile, "city", "languages", "topics", "availability", "intro", "name")
        if form is None or form["availability"] not in self.catalog.availability:
            return None
        capacity = self.catalog.availability[form["availability"]].capacity
        origin = self._origin(incoming)
        notices: Notices = []

        def admin_notices(volunteer: Volunteer) -> Notices:
            notices[:] = self._admin_notices(volunteer, origin)
            return notices

        self.data.submit_volunteer(profile.user_id, form, capacity, notices=admin_notices)
        # Honest: without an admin nobody can approve the profile yet.
        key = "mt_vol_submitted" if self._admin_ids() else "mt_vol_submitted_no_admin"
        return [Reply(t(profile.lang, key)), *self._deliver(notices)]

    def _form_cancel(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        self.data.drop_draft(profile.user_id, "volunteer")
        if profile.onboarding_step in (STEP_INTRO, STEP_NAME):
            self._step(profile, None)
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
        notices = self._close_all(profile.user_id, volunteer_only=True)  # sent before erasing
        self.data.delete_volunteer(profile.user_id)
        self.data.drop_draft(profile.user_id, "volunteer")
        return [Reply(t(profile.lang, "mt_vol_withdrawn")), *notices]

    # --- admins ------------------------------------------------------------------------------

    def _admin_notices(self, volunteer: Volunteer, origin: str) -> Notices:
        """Every admin gets the new (or changed) profile with Approve / Reject."""
        notices = []
        for admin in sorted(self._admin_ids()):
            lang = self._lang_of(admin)
            reply = Reply(
                self._pending_text(volunteer, lang),
                self._decision_buttons(volunteer, lang),
                chat_id=admin,
            )
            notices.append(
                self._notice(
                    "admin_new",
                    reply,
                    lang=lang,
                    key=f"admin_new:v{volunteer.id}:{origin}:{admin}",
                    volunteer_id=volunteer.id,
                    about=volunteer.user_id,
                )
            )
        return notices

    def _pending_text(self, volunteer: Volunteer, lang: str) -> str:
        card = render.volunteer_card(self.knowledge, volunteer, lang)
        return t(lang, "mt_admin_new", id=volunteer.id) + "\n\n" + card

    def _decision_buttons(self, volunteer: Volunteer, lang: str) -> tuple[tuple[Button, ...]]:
        return (
            (
                Button(t(lang, "mt_admin_approve"), f"mt:ok:{volunteer.id}"),
                Button(t(lang, "mt_admin_reject"), f"mt:no:{volunteer.id}"),
            ),
        )

    def _pending_list(self, profile: Profile) -> list[Reply]:
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
        lang = self._lang_of(volunteer.user_id)
        reply = Reply(t(lang, f"mt_vol_{key}"), chat_id=volunteer.user_id)
        notice_key = f"{key}:v{volunteer.id}:{origin}"
        return [self._notice(key, reply, lang=lang, key=notice_key, volunteer_id=volunteer.id)]

    def _approve(self, profile: Profile, arg: str, incoming: Incoming) -> list[Reply] | None:
        if profile.user_id not in self._admin_ids():
            return [Reply(t(profile.lang, "admin_only"))]
        found = self.data.volunteer(int(arg)) if arg.isdigit() else None
        if found is None:
            return None
        lang = profile.lang
        notices = self._decision_notice(found, "approved", self._origin(incoming))
        if not self.data.set_status(
            found.id, ("pending",), "approved", by=profile.user_id, notices=notices
        ):
            return [self._already_decided(found, lang)]
        return [Reply(t(lang, "mt_admin_approved", id=found.id)), *self._deliver(notices)]

    def _reject(self, profile: Profile, arg: str, incoming: Incoming) -> list[Reply] | None:
        """Reject a waiting volunteer, or switch off an approved one (after a report)."""
        if profile.user_id not in self._admin_ids():
            return [Reply(t(profile.lang, "admin_only"))]
        found = self.data.volunteer(int(arg)) if arg.isdigit() else None
        if found is None:
            return None
        lang = profile.lang
        old = ("pending", "approved", "paused")
        notices = self._decision_notice(found, "rejected", self._origin(incoming))
        if not self.data.set_status(found.id, old, "rejected", by=profile.user_id, notices=notices):
            # Already decided; a switched-off volunteer's matches end (also when a crash came
            # between the decision and ending them).
            ended = self._close_all(found.user_id, volunteer_only=True, closed_by="admin")
            return [self._already_decided(found, lang), *ended]
        ended = self._close_all(found.user_id, volunteer_only=True, closed_by="admin")
        return [Reply(t(lang, "mt_admin_rejected", id=found.id)), *self._deliver(notices), *ended]

    def _already_decided(self, volunteer: Volunteer, lang: str) -> Reply:
        current = self.data.volunteer(volunteer.id)
        if current is None:
            return Reply(t(lang, "mt_stale"))
        status = t(lang, f"mt_status_{current.status}")
        return Reply(t(lang, "mt_admin_decided", id=volunteer.id, status=status))

    # --- the buddy request ------------------------------------------------------------------

    def _buddy_home(self, profile: Profile) -> list[Reply]:
        """/buddy: the user's open matches with their buttons, or a new request."""
        matches = self.data.open_matches_of(profile.user_id)
        shown = [self._status(profile, m) for m in matches]
        replies = [r for r in shown if r is not None]
        if not replies:
            return self._topic_prompt(profile)
        if self.data.open_request_of(profile.user_id) is None:
            find = Button(t(profile.lang, "mt_find"), "mt:new")
            replies.append(Reply(t(profile.lang, "mt_find_more"), ((find,),)))
        first = replies[0]
        title = t(profile.lang, "mt_status_title")
        return [replace(first, text=f"{title}\n\n{first.text}"), *replies[1:]]

    def _request_start(self, profile: Profile) -> list[Reply]:
        """A new request; with one already open (one at a time), where things stand."""
        if self.data.open_request_of(profile.user_id) is not None:
            return self._buddy_home(profile)
        return self._topic_prompt(profile)

    def _topic_prompt(self, profile: Profile) -> list[Reply]:
        lang = profile.lang
        if not profile.country or not profile.city:
            step = "city" if profile.country else "country"
            button = Button(t(lang, "mt_set_city"), f"pf:{step}")
            return [Reply(t(lang, "mt_buddy_need_city"), ((button,),))]
        options = [(key, topic.label(lang)) for key, topic in self.catalog.topics.items()]
        return [Reply(t(lang, "mt_buddy_intro"), render.choices(options, "mt:bt", 1))]

    def _request(self, profile: Profile, *needed: str) -> dict[str, Any] | None:
        form = self.data.draft(profile.user_id, "request")
        if form is None or any(not form.get(key) for key in needed):
            return None
        return form

    def _request_topic(self, profile: Profile, topic: str, _: Incoming) -> list[Reply] | None:
        if topic not in self.catalog.topics:
            return None
        if self.data.open_request_of(profile.user_id) is not None or not profile.city:
            return self._request_start(profile)
        form = {
            "topic": topic,
            "country": profile.country,
            "city": profile.city,
            "languages": [profile.lang],
        }
        self.data.save_draft(profile.user_id, "request", form)
        return [self._languages_prompt(profile.lang, form["languages"], "mt:bl", "mt:bL", False)]

    def _request_language(
        self, profile: Profile, code: str, incoming: Incoming
    ) -> list[Reply] | None:
        form = self._request(profile, "topic")
        if form is None or code not in self.catalog.languages:
            return None
        form["languages"] = self._toggle(form.get("languages", []), code)
        self.data.save_draft(profile.user_id, "request", form)
        reply = self._languages_prompt(profile.lang, form["languages"], "mt:bl", "mt:bL", False)
        return [_edit(reply, incoming)]

    def _request_languages_done(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._request(profile, "topic")
        if form is None:
            return None
        if not form.get("languages"):
            return [Reply(t(profile.lang, "mt_need_one"))]
        self._step(profile, STEP_BUDDY_NAME)
        return [_with_cancel(t(profile.lang, "mt_buddy_ask_name"), profile.lang, "mt:bx")]

    def _buddy_name_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._request(profile, "topic", "languages")
        if form is None:
            return None
        problem = _text_problem(profile.lang, text, MAX_NAME)
        if problem:
            return [_with_cancel(problem, profile.lang, "mt:bx")]
        form["name"] = text
        self.data.save_draft(profile.user_id, "request", form)
        self._step(profile, STEP_BUDDY_NOTE)
        lang = profile.lang
        buttons = (
            (Button(t(lang, "skip"), "mt:bs"),),
            (Button(t(lang, "consent_cancel"), "mt:bx"),),
        )
        return [Reply(t(lang, "mt_buddy_ask_note"), buttons)]

    def _buddy_note_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self._request(profile, "topic", "languages", "name")
        if form is None:
            return None
        problem = _text_problem(profile.lang, text, MAX_INTRO)
        if problem:
            return [_with_cancel(problem, profile.lang, "mt:bx")]
        return self._request_done(profile, form | {"note": text})

    def _request_skip_note(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        form = self._request(profile, "topic", "languages", "name")
        if form is None:
            return None
        return self._request_done(profile, form | {"note": ""})

    def _request_done(self, profile: Profile, form: dict[str, Any]) -> list[Reply]:
        self.data.drop_draft(profile.user_id, "request")
        profile = self._step(profile, None)
        return self._propose(profile, form | {"newcomer_id": profile.user_id})

    def _request_cancel(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        self.data.drop_draft(profile.user_id, "request")
        if profile.onboarding_step in (STEP_BUDDY_NAME, STEP_BUDDY_NOTE):
            self._step(profile, None)
        return [Reply(t(profile.lang, "mt_cancelled"))]

    # --- proposals --------------------------------------------------------------------------

    def _propose(self, profile: Profile, request: dict[str, Any]) -> list[Reply]:
        """The best volunteer for the request, as a proposal; or an honest "nobody yet"."""
        lang = profile.lang
        topic = self.catalog.topics.get(request["topic"])
        wanted = Request(
            newcomer_id=profile.user_id,
            topic=request["topic"],
            country=request["country"],
            city=request["city"],
            languages=tuple(request["languages"]),
        )
        found = candidates(
            wanted,
            self.data.approved_in(wanted.country),
            busy=self.data.busy_counts(),
            excluded=self.data.earlier_partners(profile.user_id),
            city_only=topic is not None and topic.scope == "city",
        )
        if not found:
            city = self.knowledge.city(wanted.city)
            text = t(
                lang,
                "mt_buddy_none",
                topic=self.catalog.topic_label(wanted.topic, lang),
                place=city.name(lang) if city else wanted.city,
            )
            return [Reply(text, ((Button(t(lang, "mt_other_topic"), "mt:new"),),))]
        match = self.data.propose(request, found[0])
        return [self._proposal(lang, match, found[0])]

    def _proposal(self, lang: str, match: Match, volunteer: Volunteer) -> Reply:
        text = "\n\n".join(
            [
                t(lang, "mt_proposal", topic=self.catalog.topic_label(match.topic, lang)),
                render.volunteer_card(self.knowledge, volunteer, lang),
                t(lang, "mt_proposal_consent", name=volunteer.display_name),
            ]
        )
        buttons = (
            (Button(t(lang, "mt_accept"), f"mt:na:{match.id}"),),
            (Button(t(lang, "mt_someone_else"), f"mt:nd:{match.id}"),),
            (Button(t(lang, "consent_cancel"), f"mt:nx:{match.id}"),),
        )
        return Reply(text, buttons)

    def _next_proposal(self, profile: Profile, match: Match) -> list[Reply]:
        """Another proposal for the same request (after a decline)."""
        request = {
            "newcomer_id": profile.user_id,
            "topic": match.topic,
            "country": match.newcomer_country,
            "city": match.newcomer_city,
            "languages": list(match.newcomer_languages),
            "name": match.newcomer_name,
            "note": match.newcomer_note,
        }
        self.data.drop_note(match.id)  # it moves on to the new proposal
        return self._propose(profile, request)

    def _own_match(self, profile: Profile, arg: str, role: str) -> Match | None:
        match = self.data.match(int(arg)) if arg.isdigit() else None
        if match is None or match.role_of(profile.user_id) != role:
            return None
        return match

    def _newcomer_accept(
        self, profile: Profile, arg: str, incoming: Incoming
    ) -> list[Reply] | None:
        match = self._own_match(profile, arg, "newcomer")
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
            return [gone, *self._next_proposal(profile, match)]
        self.data.consent(match.id, profile.user_id, "newcomer", contact_of(incoming))
        match = replace(match, state="newcomer_accepted")
        request = self._request_for_volunteer(match, volunteer.user_id)
        notices = [
            self._notice(
                "request",
                request,
                lang=self._lang_of(volunteer.user_id),
                key=f"request:m{match.id}",
                match=match,
                about=profile.user_id,  # the newcomer's short profile
            )
        ]
        if not self.data.move(match.id, ("proposed",), "newcomer_accepted", notices=notices):
            return None
        fault_point("after-match-request")  # crash tests: the request must still arrive
        asked = Reply(t(profile.lang, "mt_asked", name=match.volunteer_name))
        return [asked, *self._deliver(notices)]

    def _request_for_volunteer(self, match: Match, volunteer_user_id: int) -> Reply:
        lang = self._lang_of(volunteer_user_id)
        text = "\n\n".join(
            [
                t(lang, "mt_request", topic=self.catalog.topic_label(match.topic, lang)),
                render.newcomer_card(self.knowledge, match, lang),
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
        match = self._own_match(profile, arg, "newcomer")
        if match is not None and match.state == "expired":
            return self._expired_view(profile, match)
        if match is None or not self.data.move(
            match.id, ("proposed",), "declined", closed_by="newcomer"
        ):
            return None
        return self._next_proposal(profile, match)

    def _newcomer_cancel(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        match = self._own_match(profile, arg, "newcomer")
        if match is not None and match.state == "expired":
            return self._expired_view(profile, match)
        if match is None or not self.data.move(
            match.id, ("proposed",), "declined", closed_by="newcomer"
        ):
            return None
        return [Reply(t(profile.lang, "mt_cancelled"))]

    def _volunteer_accept(
        self, profile: Profile, arg: str, incoming: Incoming
    ) -> list[Reply] | None:
        match = self._own_match(profile, arg, "volunteer")
        if match is None or match.state != "newcomer_accepted":
            return self._expired_view(profile, match) or self._replay_view(profile, match, "active")
        if self.data.contact_of(match.id, match.newcomer_id) is None:
            return None  # the newcomer's consent is missing: share nothing
        self.data.consent(match.id, profile.user_id, "volunteer", contact_of(incoming))
        match = replace(match, state="active")
        newcomer_id = match.newcomer_id
        assert newcomer_id is not None
        lang = self._lang_of(newcomer_id)
        to_newcomer = replace(self._active_reply(lang, match, newcomer_id), chat_id=newcomer_id)
        notices = [
            self._notice(
                "active",
                to_newcomer,
                lang=lang,
                key=f"active:m{match.id}",
                match=match,
                about=profile.user_id,  # the volunteer's contact
            )
        ]
        if not self.data.move(match.id, ("newcomer_accepted",), "active", notices=notices):
            return None
        fault_point("after-match-active")  # crash tests: the contact must still arrive
        return [self._active_reply(profile.lang, match, profile.user_id), *self._deliver(notices)]

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
        topic = self.catalog.topic_label(match.topic, lang)
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
        match = self._own_match(profile, arg, "volunteer")
        if match is None:
            return None
        notices = self._declined_notice(match)
        if not self.data.move(
            match.id, ("newcomer_accepted",), "declined", closed_by="volunteer", notices=notices
        ):
            return self._expired_view(profile, self.data.match(match.id))
        return [Reply(t(profile.lang, "mt_vol_declined")), *self._deliver(notices)]

    def _declined_notice(self, match: Match) -> Notices:
        if match.newcomer_id is None:
            return []
        lang = self._lang_of(match.newcomer_id)
        again = Button(t(lang, "mt_look_again"), f"mt:more:{match.id}")
        text = t(lang, "mt_newcomer_declined", name=match.volunteer_name, id=match.id)
        reply = Reply(text, ((again,),), chat_id=match.newcomer_id)
        return [
            self._notice("declined", reply, lang=lang, key=f"declined:m{match.id}", match=match)
        ]

    def _look_again(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        """After a volunteer declined or let the request expire: the next proposal."""
        match = self._own_match(profile, arg, "newcomer")
        if match is None or match.state not in ("declined", "expired"):
            return None
        if self.data.open_request_of(profile.user_id) is not None:
            return self._buddy_home(profile)
        return self._next_proposal(profile, match)

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
        status = self._status(profile, current)
        return [status] if status else None

    # --- status, ending, reporting ----------------------------------------------------------

    def _status(self, profile: Profile, match: Match) -> Reply | None:
        """One open match as this user sees it, with the buttons that apply."""
        lang = profile.lang
        role = match.role_of(profile.user_id)
        topic = self.catalog.topic_label(match.topic, lang)
        if match.state == "active":
            return self._active_reply(lang, match, profile.user_id)
        volunteer = self.data.volunteer(match.volunteer_id)
        if role == "newcomer" and match.state == "proposed" and volunteer is not None:
            return self._proposal(lang, match, volunteer)
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
        notices = self._ended_notice(match, profile.user_id)
        if not self.data.move(match.id, OPEN_STATES, "ended", closed_by=role, notices=notices):
            return None
        return [Reply(t(profile.lang, "mt_ended", id=match.id)), *self._deliver(notices)]

    def _ended_notice(self, match: Match, leaving: int) -> Notices:
        """Tell the other side, without details, that a match they knew about has ended."""
        other_id, _ = match.other(leaving)
        if other_id is None:
            return []
        if other_id == match.volunteer_user_id and match.state == "proposed":
            return []  # the volunteer was never asked
        _, leaving_name = match.other(other_id)
        role = match.role_of(other_id)
        lang = self._lang_of(other_id)
        text_key = "mt_ended_notice_newcomer" if role == "newcomer" else "mt_ended_notice_volunteer"
        reply = Reply(t(lang, text_key, id=match.id, name=leaving_name), chat_id=other_id)
        key = f"ended:m{match.id}:{other_id}"
        return [self._notice("ended", reply, lang=lang, key=key, match=match)]

    def _close_all(
        self, user_id: int, *, volunteer_only: bool, closed_by: str | None = None
    ) -> list[Reply]:
        replies: list[Reply] = []
        for match in self.data.open_matches_of(user_id):
            role = match.role_of(user_id)
            if volunteer_only and role != "volunteer":
                continue
            notices = self._ended_notice(match, user_id)
            by = closed_by or role
            if self.data.move(match.id, OPEN_STATES, "ended", closed_by=by, notices=notices):
                replies += self._deliver(notices)
        return replies

    def _report_ask(self, profile: Profile, arg: str, _: Incoming) -> list[Reply] | None:
        match = self.data.match(int(arg)) if arg.isdigit() else None
        reportable = ("newcomer_accepted", "active", "ended")
        if match is None or match.role_of(profile.user_id) is None:
            return None
        if match.state not in reportable:
            return None
        self.data.save_draft(profile.user_id, "report", {"match_id": match.id})
        self._step(profile, STEP_REASON)
        _, name = match.other(profile.user_id)
        text = t(profile.lang, "mt_report_ask", id=match.id, name=name)
        return [_with_cancel(text, profile.lang, "mt:rx")]

    def _reason_text(self, profile: Profile, text: str) -> list[Reply] | None:
        form = self.data.draft(profile.user_id, "report")
        match = self.data.match(int(form["match_id"])) if form else None
        role = match.role_of(profile.user_id) if match else None
        if match is None or role is None:
            return None
        reason = text[:MAX_REASON]
        # The other side learns only that the match ended (if it was still open).
        notices = self._ended_notice(match, profile.user_id) if match.is_open else []
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
        self._step(profile, None)
        return [Reply(t(profile.lang, "mt_reported", id=match.id)), *self._deliver(notices)]

    def _report_notices(self, match: Match, role: str, reason: str, reporter: int) -> Notices:
        notices = []
        for admin in sorted(self._admin_ids()):
            lang = self._lang_of(admin)
            text = t(
                lang,
                "mt_admin_report",
                id=match.id,
                topic=self.catalog.topic_label(match.topic, lang),
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
                self._notice("admin_report", reply, lang=lang, key=key, match=match, about=reporter)
            )
        return notices

    def _report_cancel(self, profile: Profile, _: str, __: Incoming) -> list[Reply] | None:
        self.data.drop_draft(profile.user_id, "report")
        if profile.onboarding_step == STEP_REASON:
            self._step(profile, None)
        return [Reply(t(profile.lang, "mt_cancelled"))]


def _edit(reply: Reply, incoming: Incoming) -> Reply:
    """Update the pressed message in place (a multiple choice), when the adapter knows it."""
    return replace(reply, edit_message_id=incoming.message_id) if incoming.message_id else reply


def _with_cancel(text: str, lang: str, data: str) -> Reply:
    return Reply(text, ((Button(t(lang, "consent_cancel"), data),),))


def _text_problem(lang: str, text: str, limit: int) -> str | None:
    """Why a typed name, intro or note cannot be used (None when it can)."""
    if not text:
        return t(lang, "empty_message")
    if len(text) > limit:
        return t(lang, "mt_too_long", limit=limit)
    if _CONTACT_LIKE.search(text):
        return t(lang, "mt_no_contacts")
    return None
