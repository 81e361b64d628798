"""Buddies and mentors, durably: the outbox of notices to the other side (stored with the state
change, sent again until delivered, failed when blocked, exported and erased), the expiry of
proposals nobody answered, and the setup without admins. Driven through `Assistant.handle` and
`Assistant.maintenance` on a clock the test moves."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CallbackContext

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.mentoring import GIVE_UP_TRIES
from bot.core.mentoring_notices import notice_reply
from bot.core.replies import Reply
from bot.knowledge.loader import load_knowledge
from bot.storage import Store, open_database
from bot.telegram_app import build_application, ticket_housekeeping
from tests.conftest import FIXTURE_KNOWLEDGE, NOW, ROOT
from tests.telegram_recorder import RecordingRequest, callback_update
from tests.test_mentoring import (
    ADMIN,
    ANNA,
    BORIS,
    NEWCOMER,
    Log,
    ask,
    everything,
    press,
    proposed_match,
    proposed_name,
    say,
    volunteer,
)


class Clock:
    """The store's and the assistant's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def mentoring_folder(target: Path, reply_days: int | None = None) -> Path:
    """The small test knowledge with the shipped mentoring.yaml (optionally other reply_days)."""
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    text = (ROOT / "knowledge" / "mentoring.yaml").read_text(encoding="utf-8")
    if reply_days is not None:
        text = text.replace("reply_days: 7", f"reply_days: {reply_days}", 1)
    (target / "mentoring.yaml").write_text(text, encoding="utf-8")
    return target


SETTINGS = Settings(bot_token="123:TEST", api_url="http://127.0.0.1:9/bot")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mentoring_folder(tmp_path_factory.mktemp("outbox") / "knowledge")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(
    folder: Path, clock: Clock, db: str = ":memory:", admins: frozenset[int] = frozenset({ADMIN})
) -> Assistant:
    store = Store(open_database(db), clock=clock)
    return Assistant(KnowledgeHolder(folder), store, clock=clock, admin_ids=admins)


@pytest.fixture
def bot(folder: Path, clock: Clock) -> Assistant:
    return make(folder, clock)


def notices(bot: Assistant, **where: object) -> list[dict]:
    """The stored notices, oldest first, filtered by column values."""
    rows = bot.store.db["mentor_notices"].rows_where(order_by="id")
    return [row for row in rows if all(row[key] == value for key, value in where.items())]


def tagged(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if r.tag and r.tag.startswith("mnotice:")]


def deliver(bot: Assistant, replies: list[Reply]) -> None:
    """What the adapter does after sending: report each tagged reply as sent."""
    for reply in replies:
        if reply.tag:
            bot.sent(reply.tag, reply.chat_id or 0, 5000, None)


def pending(bot: Assistant) -> list[Reply]:
    """Every pending notice as the reply the adapter was handed."""
    return [notice_reply(row) for row in notices(bot, status="pending")]


def accepted(bot: Assistant) -> int:
    """Anna approved (told so); the newcomer asked and accepted her; she has not answered yet
    and her request is not reported sent."""
    volunteer(bot, ANNA, name="Anna")
    deliver(bot, pending(bot))
    match_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{match_id}", username="olena_k")
    return match_id


# --- the outbox -------------------------------------------------------------------------------


def test_a_notice_to_the_other_side_is_stored_pending_with_the_state_change(
    bot: Assistant,
) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    replies = press(bot, NEWCOMER, f"mt:na:{match_id}", username="olena_k")
    (request,) = tagged(replies)
    (row,) = notices(bot, kind="request")
    assert request.tag == f"mnotice:{row['id']}" and request.chat_id == ANNA
    assert row["status"] == "pending" and row["match_id"] == match_id
    assert row["chat_id"] == ANNA and row["lang"] == "en" and row["text"] == request.text
    assert [[b.data for b in line] for line in request.buttons] == [
        [f"mt:aa:{match_id}", f"mt:ad:{match_id}"]
    ]
    assert bot.mentoring.data.match(match_id).state == "newcomer_accepted"


def test_every_notice_to_another_chat_goes_through_the_outbox(bot: Assistant) -> None:
    """Approval queue, decisions, request, contact, end and report: all tagged, all stored."""
    sent: list[Reply] = []
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    sent += press(bot, NEWCOMER, f"mt:na:{match_id}", username="olena_k")
    sent += press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")
    sent += press(bot, NEWCOMER, f"mt:rep:{match_id}")
    sent += say(bot, NEWCOMER, "Вона не прийшла")
    sent += press(bot, ADMIN, f"mt:no:{bot.mentoring.data.volunteer_of(ANNA).id}")
    others = [r for r in sent if r.chat_id is not None]
    assert others and all(r.tag and r.tag.startswith("mnotice:") for r in others)
    kinds = [row["kind"] for row in notices(bot)]
    assert kinds == [
        "admin_new",
        "approved",
        "request",
        "active",
        "ended",
        "admin_report",
        "rejected",
    ]


def test_a_delivered_notice_is_marked_and_never_sent_again(bot: Assistant, clock: Clock) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    deliver(bot, pending(bot))
    replies = press(bot, NEWCOMER, f"mt:na:{match_id}")
    deliver(bot, tagged(replies))
    (row,) = notices(bot, kind="request")
    assert row["status"] == "delivered" and row["message_id"] == 5000
    assert row["delivered_at"] == NOW.isoformat()
    assert bot.maintenance(clock.advance(hours=1)) == []


def test_housekeeping_sends_an_unconfirmed_notice_again_after_a_minute(
    bot: Assistant, clock: Clock
) -> None:
    match_id = accepted(bot)  # the process "died" before the request was reported sent
    (row,) = notices(bot, kind="request")
    assert tagged(bot.maintenance(clock.advance(seconds=30))) == []  # may still be in flight
    again = tagged(bot.maintenance(clock.advance(seconds=31)))
    request = next(r for r in again if r.tag == f"mnotice:{row['id']}")
    assert request.chat_id == ANNA and request.text == row["text"]
    assert f"mt:aa:{match_id}" in everything([request])
    assert f"mnotice:{row['id']}" not in [r.tag for r in bot.maintenance(clock.now)]  # once
    deliver(bot, [request])
    assert notices(bot, kind="request")[0]["status"] == "delivered"
    assert bot.maintenance(clock.advance(hours=1)) == []


def restarted(folder: Path, clock: Clock, tmp_path: Path, **downtime: float) -> Assistant:
    """A bot whose first process stopped after `accepted` (the request not reported sent),
    started again after `downtime` on the same database."""
    db = str(tmp_path / "bot.db")
    first = make(folder, clock, db)
    accepted(first)
    first.store.db.close()
    clock.advance(**downtime)
    return make(folder, clock, db)


def test_notices_an_earlier_process_left_unsent_go_out_at_the_first_housekeeping(
    folder: Path, clock: Clock, tmp_path: Path
) -> None:
    second = restarted(folder, clock, tmp_path, seconds=5)  # quick: well within the grace
    resent = tagged(second.maintenance(clock.now))
    assert [r.chat_id for r in resent if "A newcomer would like your help" in r.text] == [ANNA]


def test_a_notice_that_keeps_failing_is_given_up_but_not_before_it_was_tried(
    folder: Path, clock: Clock, tmp_path: Path
) -> None:
    second = restarted(folder, clock, tmp_path, days=3)  # the bot itself was down for 3 days
    (row,) = notices(second, kind="request")
    tag = f"mnotice:{row['id']}"
    assert tag in [r.tag for r in second.maintenance(clock.now)]  # tried first
    for _ in range(GIVE_UP_TRIES - 1):  # Telegram keeps timing out: never reported sent
        assert tag in [r.tag for r in second.maintenance(clock.advance(minutes=5))]
    assert tag not in [r.tag for r in second.maintenance(clock.advance(minutes=5))]
    assert notices(second, kind="request")[0]["status"] == "failed"


def test_a_resent_notice_keeps_the_language_it_was_written_in(bot: Assistant, clock: Clock) -> None:
    match_id = accepted(bot)
    press(bot, ANNA, f"mt:ad:{match_id}")  # the newcomer's notice is in Ukrainian
    bot.store.update_profile(bot.store.get_profile(NEWCOMER), lang="en")
    resent = [r for r in bot.maintenance(clock.advance(minutes=2)) if r.chat_id == NEWCOMER]
    assert len(resent) == 1 and "не може" in resent[0].text
    assert resent[0].buttons[0][0].data == f"mt:more:{match_id}"


def test_the_same_event_stores_one_notice(bot: Assistant) -> None:
    accepted(bot)
    (row,) = notices(bot, kind="request")
    again = {k: row[k] for k in ("source_key", "kind", "match_id", "chat_id", "lang", "text")}
    with bot.store.db.atomic():
        bot.mentoring.data._add_notices([again | {"buttons": "[]", "links": "[]"}])
    assert len(notices(bot, kind="request")) == 1


async def test_a_notice_to_someone_who_blocked_the_bot_fails_and_is_not_retried(
    bot: Assistant, clock: Clock
) -> None:
    volunteer(bot, ANNA, name="Anna")
    deliver(bot, pending(bot))
    match_id = proposed_match(ask(bot))
    recorder = RecordingRequest()
    recorder.blocked.add(ANNA)
    application = build_application(SETTINGS, bot, updater=False, request=recorder)
    await application.initialize()
    try:
        accept = callback_update(1, NEWCOMER, f"mt:na:{match_id}")
        await application.process_update(Update.de_json(accept, application.bot))
    finally:
        await application.shutdown()
    (row,) = notices(bot, kind="request")
    assert row["status"] == "failed"
    assert [r for r in bot.maintenance(clock.advance(hours=1)) if r.chat_id == ANNA] == []
    assert bot.mentoring.data.match(match_id).state == "newcomer_accepted"


async def test_housekeeping_in_the_adapter_sends_a_pending_notice_once(
    folder: Path, clock: Clock
) -> None:
    bot = make(folder, clock, admins=frozenset())
    volunteer(bot, ANNA, name="Anna", approve=False)
    bot.mentoring.data.set_status(
        bot.mentoring.data.volunteer_of(ANNA).id, ("pending",), "approved"
    )
    match_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{match_id}")  # handled, then the process died before sending
    clock.advance(minutes=2)
    recorder = RecordingRequest()
    application = build_application(SETTINGS, bot, updater=False, request=recorder)
    await application.initialize()
    try:
        await ticket_housekeeping(CallbackContext(application))
        await ticket_housekeeping(CallbackContext(application))
    finally:
        await application.shutdown()
    to_anna = [p for p in recorder.sent() if p["chat_id"] == ANNA]
    assert len(to_anna) == 1 and "A newcomer would like your help" in to_anna[0]["text"]
    assert [b["callback_data"] for b in to_anna[0]["reply_markup"]["inline_keyboard"][0]] == [
        f"mt:aa:{match_id}",
        f"mt:ad:{match_id}",
    ]
    assert notices(bot, kind="request")[0]["status"] == "delivered"


# --- consent, export, forget --------------------------------------------------------------------


def test_no_stored_notice_holds_a_contact_before_both_accept(bot: Assistant) -> None:
    match_id = accepted(bot)
    say(bot, NEWCOMER, "/buddy")
    stored = json.dumps(notices(bot), ensure_ascii=False)
    assert "olena_k" not in stored and "tg://" not in stored
    press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")
    (active,) = notices(bot, kind="active")
    assert active["chat_id"] == NEWCOMER and "@anna_t" in active["text"]
    assert "olena_k" not in json.dumps(notices(bot), ensure_ascii=False)  # never to Anna stored


def test_an_ended_match_empties_its_contact_notice_and_never_sends_it_late(
    bot: Assistant, clock: Clock
) -> None:
    match_id = accepted(bot)
    press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")  # not reported sent
    press(bot, ANNA, f"mt:endy:{match_id}")
    (active,) = notices(bot, kind="active")
    assert active["status"] == "dropped" and active["text"] == "" and active["links"] == "[]"
    resent = bot.maintenance(clock.advance(minutes=5))
    assert "anna_t" not in everything(resent)
    assert any("завершено" in r.text for r in resent if r.chat_id == NEWCOMER)  # "ended" still


def test_export_lists_the_users_notices_without_the_other_persons_details(
    bot: Assistant,
) -> None:
    match_id = accepted(bot)
    press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")
    exported = json.loads(say(bot, NEWCOMER, "/export")[0].document.content)["mentoring"]
    assert [(n["kind"], n["match_id"], n["status"]) for n in exported["notices"]] == [
        ("active", match_id, "pending")
    ]
    assert "anna_t" not in json.dumps(exported) and "Anna" not in json.dumps(exported)
    anna = json.loads(say(bot, ANNA, "/export")[0].document.content)["mentoring"]
    assert [n["kind"] for n in anna["notices"]] == ["approved", "request"]
    assert "Олена" not in json.dumps(anna, ensure_ascii=False)


def test_forget_erases_notices_to_and_about_the_user_and_the_other_side_is_still_told(
    bot: Assistant,
) -> None:
    match_id = accepted(bot)
    press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")
    replies = press(bot, ANNA, "fg:yes")
    assert notices(bot, chat_id=ANNA) == [] and notices(bot, about_user=ANNA) == []
    assert "anna_t" not in json.dumps(notices(bot))
    (ended,) = notices(bot, kind="ended")
    assert ended["chat_id"] == NEWCOMER and ended["status"] == "pending"
    assert f"mnotice:{ended['id']}" in [r.tag for r in replies]
    press(bot, NEWCOMER, "fg:yes")
    assert notices(bot) == []


# --- expiry -------------------------------------------------------------------------------------


def test_a_request_the_volunteer_never_answered_expires_and_the_newcomer_may_look_again(
    bot: Assistant, clock: Clock
) -> None:
    match_id = accepted(bot)
    volunteer(bot, BORIS, name="Boris")
    deliver(bot, pending(bot))
    assert bot.maintenance(clock.advance(days=6, hours=23)) == []  # not yet
    assert bot.mentoring.data.match(match_id).state == "newcomer_accepted"
    replies = bot.maintenance(clock.advance(hours=1))
    (notice,) = [r for r in replies if r.chat_id == NEWCOMER]
    assert "Anna" in notice.text and "7 дн." in notice.text and notice.tag.startswith("mnotice:")
    assert notice.buttons[0][0].data == f"mt:more:{match_id}"
    match = bot.mentoring.data.match(match_id)
    assert match.state == "expired"
    closed_by = bot.store.db.execute(
        "SELECT closed_by FROM mentor_matches WHERE id = ?", [match_id]
    ).fetchone()[0]
    assert closed_by == "system"
    assert bot.mentoring.data.contact_of(match_id, NEWCOMER) is None  # consent blanked
    assert notices(bot, kind="expired")[0]["status"] == "pending"
    again = press(bot, NEWCOMER, notice.buttons[0][0].data)
    assert proposed_name(bot, again) == "Boris"
    request = tagged(press(bot, NEWCOMER, f"mt:na:{proposed_match(again)}"))[0]
    assert "Щойно приїхала з дітьми." in request.text  # the note moved on with the request


def test_the_volunteers_old_buttons_on_an_expired_request_say_so_politely(
    bot: Assistant, clock: Clock
) -> None:
    match_id = accepted(bot)
    bot.maintenance(clock.advance(days=8))
    for data in (f"mt:aa:{match_id}", f"mt:ad:{match_id}"):
        replies = press(bot, ANNA, data, username="anna_t")
        assert len(replies) == 1 and "expired" in replies[0].text
        assert f"#{match_id}" in replies[0].text and "7 days" in replies[0].text
    assert bot.mentoring.data.match(match_id).state == "expired"
    assert "anna_t" not in json.dumps(notices(bot))


def test_a_proposal_the_newcomer_never_answered_expires_silently(
    bot: Assistant, clock: Clock
) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    deliver(bot, pending(bot))
    before = len(notices(bot))
    assert bot.maintenance(clock.advance(days=7)) == []
    assert bot.mentoring.data.match(match_id).state == "expired"
    assert len(notices(bot)) == before  # nobody is told
    old = press(bot, NEWCOMER, f"mt:na:{match_id}")
    assert "7" in old[0].text and old[0].buttons[0][0].data == f"mt:more:{match_id}"
    assert bot.mentoring.data.match(match_id).state == "expired"
    assert proposed_match(ask(bot)) is None  # Anna was proposed once; never twice


def test_an_expired_proposal_frees_the_volunteer(bot: Assistant, clock: Clock) -> None:
    volunteer(bot, ANNA, name="Anna", availability="monthly")  # capacity 1
    accepted_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{accepted_id}")
    assert proposed_match(ask(bot, BORIS)) is None  # Anna is busy
    bot.maintenance(clock.advance(days=7))
    assert proposed_name(bot, ask(bot, BORIS)) == "Anna"


def test_reply_days_come_from_mentoring_yaml(tmp_path: Path, clock: Clock) -> None:
    bot = make(mentoring_folder(tmp_path / "knowledge", reply_days=2), clock)
    match_id = accepted(bot)
    bot.maintenance(clock.advance(days=1, hours=23))
    assert bot.mentoring.data.match(match_id).state == "newcomer_accepted"
    replies = bot.maintenance(clock.advance(hours=1))
    assert bot.mentoring.data.match(match_id).state == "expired"
    assert any("2 дн." in r.text for r in replies if r.chat_id == NEWCOMER)


@pytest.mark.parametrize("value", ["0", "61", "seven", "2.5", "true"])
def test_knowledge_check_names_the_line_of_a_bad_reply_days(tmp_path: Path, value: str) -> None:
    target = mentoring_folder(tmp_path / "knowledge")
    path = target / "mentoring.yaml"
    text = path.read_text(encoding="utf-8").replace("reply_days: 7", f"reply_days: {value}", 1)
    path.write_text(text, encoding="utf-8")
    knowledge, problems = load_knowledge(target)
    (error,) = [str(p) for p in problems if p.severity == "error"]
    assert knowledge is None and "reply_days must be a whole number of days from 1 to 60" in error
    line = int(error.split("mentoring.yaml:")[1].split(":")[0])
    assert f"reply_days: {value}" in text.splitlines()[line - 1]


def test_knowledge_check_refuses_unknown_settings(tmp_path: Path) -> None:
    target = mentoring_folder(tmp_path / "knowledge")
    path = target / "mentoring.yaml"
    text = path.read_text(encoding="utf-8").replace("reply_days: 7", "reply_dayz: 7", 1)
    path.write_text(text, encoding="utf-8")
    _, problems = load_knowledge(target)
    assert any("unknown field 'reply_dayz'" in str(p) for p in problems)


def test_without_settings_proposals_expire_after_seven_days(tmp_path: Path) -> None:
    target = mentoring_folder(tmp_path / "knowledge")
    path = target / "mentoring.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("settings:\n  reply_days: 7", ""), encoding="utf-8")
    knowledge, problems = load_knowledge(target)
    assert knowledge is not None and knowledge.mentoring.reply_days == 7, problems


# --- without admins ---------------------------------------------------------------------------


def test_without_admins_a_volunteer_is_told_honestly_and_the_start_warns(
    folder: Path, clock: Clock
) -> None:
    bot = make(folder, clock, admins=frozenset())
    log = Log()
    volunteer(bot, ANNA, name="Anna", approve=False, log=log)
    submitted = log.sent[-1]
    assert submitted[0] == ANNA and "no admin is set up yet" in submitted[1].text
    assert "An admin will look" not in submitted[1].text
    assert notices(bot) == []  # nobody to tell
    assert any("ADMIN_IDS is empty" in w for w in bot.setup_warnings())
    with_admin = make(folder, clock)
    assert with_admin.setup_warnings() == []
    assert "An admin will look" in volunteer_replies(with_admin)
    bare = Assistant(KnowledgeHolder(FIXTURE_KNOWLEDGE), Store(open_database(":memory:")))
    assert bare.setup_warnings() == []  # no mentoring.yaml: nothing to approve


def volunteer_replies(bot: Assistant) -> str:
    log = Log()
    volunteer(bot, BORIS, name="Boris", approve=False, log=log)
    return everything(log.to(BORIS))
