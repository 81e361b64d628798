"""The Telegram adapter: one place wires python-telegram-bot to the core.

Handlers only turn an Update into an `Incoming`, call `Assistant.handle`, and send the
replies. Business logic lives in `bot.core`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import json
import logging
import re
import ssl
from collections.abc import Awaitable, Callable

import httpx
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import prewarm
from bot.broadcasts import text_for as broadcast_text
from bot.clock import process_clock
from bot.config import Settings
from bot.core.assistant import ADMIN_COMMANDS, COMMANDS, Assistant
from bot.core.flood import FloodGate
from bot.core.knowledge_holder import KnowledgeError, KnowledgeHolder
from bot.core.replies import Incoming, Reply
from bot.faults import fault_point
from bot.i18n import LANGUAGES, catalogue, t
from bot.knowledge.loader import Problem
from bot.pacing import Pacer
from bot.polling import JournallingQueue, replay_unfinished, run_journalled_polling
from bot.storage import Store, open_database

log = logging.getLogger(__name__)
# HTTP connections for sending: replies, a broadcast, reminders and ticket housekeeping may be
# in flight at once. getUpdates has its own single connection, so a long poll never holds
# up a send.
SEND_POOL_SIZE = 32
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edits of old messages are not new questions


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split at line breaks (or spaces) so that each part fits one Telegram message."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    parts.append(rest)
    return [p for p in parts if p]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


def link_entities(text: str, links: tuple[tuple[str, str], ...]) -> list[MessageEntity] | None:
    """Clickable links for fragments of a plain text (a tg://user?id= link works only as a
    text link). Offsets count UTF-16 code units, as Telegram does."""
    entities = []
    for fragment, url in links:
        index = text.rfind(fragment) if fragment else -1
        if index < 0:
            continue
        offset = len(text[:index].encode("utf-16-le")) // 2
        length = len(fragment.encode("utf-16-le")) // 2
        entities.append(MessageEntity(MessageEntity.TEXT_LINK, offset, length, url=url))
    return sorted(entities, key=lambda e: e.offset) or None


async def send_replies(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply], *, depth: int = 0
) -> None:
    """Send replies (to `chat_id` unless a reply names another chat); tagged ones report their
    message ids back to the core, which may answer with more replies (delivery notices)."""
    assistant = _assistant(context)
    for reply in replies:
        target = reply.chat_id if reply.chat_id is not None else chat_id
        try:
            message = await _with_retries(lambda r=reply, c=target: _send_one(context, c, r))
        except Forbidden:
            assistant.store.mark_inactive(target)
            follow = assistant.failed(reply.tag, blocked=True) if reply.tag else []
            if not follow:
                log.info("chat %s has blocked the bot", target)
        except BadRequest as exc:
            log.warning("Telegram refused a message to %s: %s", target, exc)
            follow = assistant.failed(reply.tag, blocked=False) if reply.tag else []
        else:
            follow = []
            if reply.tag and message is not None:
                fault_point(_FAULT_AFTER_SENDING.get(reply.tag.partition(":")[0], ""))
                follow = assistant.sent(
                    reply.tag, message.chat.id, message.message_id, message.message_thread_id
                )
        if follow and depth < 2:
            await send_replies(context, chat_id, follow, depth=depth + 1)


SEND_ATTEMPTS = 4
# Crash-test points (bot/faults.py) right after a tagged message went out, by tag kind.
_FAULT_AFTER_SENDING = {"tpost": "after-group-post", "relay": "after-relay"}


async def _with_retries(send: Callable[[], Awaitable[Message | None]]) -> Message | None:
    """Retry network failures with exponential backoff (1, 2, 4 s). RetryAfter (429) is
    honoured by python-telegram-bot's AIORateLimiter; Forbidden and BadRequest are final."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await send()
        except (NetworkError, TimedOut) as exc:
            if isinstance(exc, (BadRequest, Forbidden)) or attempt == SEND_ATTEMPTS - 1:
                raise
            log.warning("send failed (%s); retry %d", type(exc).__name__, attempt + 1)
            await asyncio.sleep(2**attempt)
    return None


async def _send_one(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply
) -> Message | None:
    bot = context.bot
    if reply.photo is not None:
        caption = reply.text if len(reply.text) <= MessageLimit.CAPTION_LENGTH else None
        if caption is None:  # a long text goes first as a message of its own
            await bot.send_message(
                chat_id,
                reply.text[: MessageLimit.MAX_TEXT_LENGTH],
                message_thread_id=reply.thread_id,
            )
        return await bot.send_photo(
            chat_id,
            InputFile(reply.photo.content, filename=reply.photo.filename),
            caption=caption,
            message_thread_id=reply.thread_id,
        )
    if reply.document is not None:
        return await bot.send_document(
            chat_id,
            InputFile(reply.document.content, filename=reply.document.filename),
            caption=reply.text,
        )
    if reply.edit_message_id is not None:
        edited = await bot.edit_message_text(
            reply.text[: MessageLimit.MAX_TEXT_LENGTH],
            chat_id,
            reply.edit_message_id,
            reply_markup=keyboard(reply),
            entities=link_entities(reply.text[: MessageLimit.MAX_TEXT_LENGTH], reply.links),
        )
        return edited if isinstance(edited, Message) else None
    thread_id = reply.thread_id
    if reply.new_topic:
        try:
            topic = await bot.create_forum_topic(chat_id, reply.new_topic[:128])
            thread_id = topic.message_thread_id
        except BadRequest as exc:  # not a forum after all: post in the group itself
            log.warning("could not create a forum topic in %s: %s", chat_id, exc)
    reply_parameters = (
        ReplyParameters(reply.reply_to, allow_sending_without_reply=True)
        if reply.reply_to
        else None
    )
    chunks = split_text(reply.text)
    message = None
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        message = await bot.send_message(
            chat_id,
            chunk,
            reply_markup=keyboard(reply) if last else None,
            entities=link_entities(chunk, reply.links),
            message_thread_id=thread_id,
            reply_parameters=reply_parameters if index == 0 else None,
        )
    return message


def _assistant(context: ContextTypes.DEFAULT_TYPE) -> Assistant:
    return context.application.bot_data["assistant"]


def _split_command(text: str) -> tuple[str, str, str]:
    """'/broadcast country=FI\nen: Hi' -> ('broadcast', ' ', 'country=FI\nen: Hi')."""
    parts = re.split(r"(\s)", text[1:], maxsplit=1)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (parts[0], "", "")


def _sender_name(user: User) -> str:
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def _own_text(message: Message | None, bot_id: int) -> str:
    """The text of a replied-to message if the bot wrote it (never a user's forwarded text)."""
    if message is None or message.from_user is None or message.from_user.id != bot_id:
        return ""
    return message.text or ""


def _group_incoming(update: Update, kind: str, context_bot_id: int = 0) -> Incoming | None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return None
    text = message.text or ""
    name = ""
    if kind == "text" and text.startswith("/"):
        kind, name = "command", text[1:].split()[0].split("@")[0].lower()
    return Incoming(
        user.id,
        kind,
        name or text,
        chat_id=message.chat.id,
        message_id=message.message_id,
        reply_to=message.reply_to_message.message_id if message.reply_to_message else None,
        reply_to_text=_own_text(message.reply_to_message, context_bot_id),
        thread_id=message.message_thread_id if message.is_topic_message else None,
        sender_name=_sender_name(user),
        source_key=f"m:{message.chat.id}:{message.message_id}",
    )


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in a group: providers answer tickets by replying (other groups ignored)."""
    incoming = _group_incoming(update, "text", context.bot.id)
    if incoming is not None:
        await send_replies(context, incoming.chat_id, _assistant(context).handle(incoming))


async def on_group_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A provider edited an answer: the copy in the user's chat is edited too."""
    incoming = _group_incoming(update, "edit", context.bot.id)
    if incoming is not None:
        await send_replies(context, incoming.chat_id, _assistant(context).handle(incoming))


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user sending dozens of messages a second is slowed down with one polite note."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    gate: FloodGate = context.application.bot_data["flood"]
    allowed, warn = gate.check(user.id)
    if allowed:
        return
    if warn:
        profile = _assistant(context).store.get_profile(user.id)
        await context.bot.send_message(chat.id, t(profile.lang if profile else "en", "slow_down"))
    raise ApplicationHandlerStop


async def skip_seen_updates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram may deliver an update again after a crash: handle each update id once."""
    if _assistant(context).store.update_seen(update.update_id):
        raise ApplicationHandlerStop


async def mark_update_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _assistant(context).store.mark_update(update.update_id)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any /command in a private chat (unknown ones get a polite pointer to /help)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    name, _, args = _split_command(message.text)
    incoming = Incoming(
        user.id,
        "command",
        name.split("@")[0],
        args.strip(),
        user.language_code,
        source_key=f"m:{message.chat_id}:{message.message_id}",
        username=user.username or "",
    )
    await send_replies(context, message.chat_id, _assistant(context).handle(incoming))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question or an answer to an onboarding step."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    incoming = Incoming(
        user.id,
        "text",
        message.text or "",
        language_code=user.language_code,
        source_key=f"m:{message.chat_id}:{message.message_id}",
        username=user.username or "",
    )
    await send_replies(context, message.chat_id, _assistant(context).handle(incoming))


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice, files: explained politely."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    incoming = Incoming(user.id, "media", language_code=user.language_code)
    await send_replies(context, message.chat_id, _assistant(context).handle(incoming))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: answered first (stops the spinner), then handled for the presser."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except BadRequest as exc:  # too old, e.g. replayed from the journal after a restart
        log.info("button press not answered (%s); handling it anyway", exc)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    group = query.message is not None and query.message.chat.type != ChatType.PRIVATE
    incoming = Incoming(
        query.from_user.id,
        "button",
        query.data or "",
        language_code=query.from_user.language_code,
        chat_id=chat_id if group else None,
        sender_name=_sender_name(query.from_user),
        source_key=f"c:{query.id}",
        username=query.from_user.username or "",
        # the pressed message, so that a multiple choice can be updated in place
        message_id=query.message.message_id if query.message and not group else None,
    )
    await send_replies(context, chat_id, _assistant(context).handle(incoming))


ADMIN_ALERT_INTERVAL = dt.timedelta(minutes=1)


async def alert_admins(context: ContextTypes.DEFAULT_TYPE, error: BaseException | None) -> None:
    """One short note to admins at most once a minute: the error type only, no user data."""
    assistant = _assistant(context)
    last = context.application.bot_data.get("last_alert")
    now = assistant.clock()
    if not assistant.admin_ids or (last and now - last < ADMIN_ALERT_INTERVAL):
        return
    context.application.bot_data["last_alert"] = now
    note = f"⚠️ Soft Landing: unexpected {type(error).__name__}; see the logs at {now:%H:%M} UTC."
    for admin in assistant.admin_ids:
        try:
            await context.bot.send_message(admin, note[: MessageLimit.MAX_TEXT_LENGTH])
        except TelegramError as exc:
            log.warning("could not alert admin %s: %s", admin, exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the traceback first; then tell the user something short and kind."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(context.error, (Forbidden, NetworkError)):
        try:
            await alert_admins(context, context.error)
        except Exception:
            log.warning("admin alert failed")
    if isinstance(context.error, Forbidden):
        return  # the user blocked the bot; nothing to tell them
    if isinstance(update, Update) and update.effective_chat and update.effective_user:
        if update.effective_chat.type != ChatType.PRIVATE:
            return
        try:
            store: Store = context.application.bot_data["assistant"].store
            profile = store.get_profile(update.effective_user.id)
            lang = profile.lang if profile else "en"
            await context.bot.send_message(update.effective_chat.id, t(lang, "error"))
        except Exception:  # the error handler must never raise
            log.warning("could not tell the user about the error", exc_info=True)


async def send_reminders(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue tick: send the daily digests that are due now (claimed in SQLite first)."""
    assistant = _assistant(context)
    for user_id, local_date, reply in assistant.due_digests(assistant.clock()):
        try:
            await send_replies(context, user_id, [reply])
        except Forbidden:
            log.info("user %s blocked the bot; reminders stop", user_id)
            assistant.store.mark_inactive(user_id)
        except TelegramError as exc:
            log.warning("reminder for %s not delivered (%s); will retry", user_id, exc)
            assistant.store.release_digest(user_id, local_date)


async def ticket_housekeeping(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue tick: re-announce unclaimed tickets, close stale ones, expire unanswered buddy
    proposals, and send what a crash left unsent (tickets' and mentoring's outboxes)."""
    assistant = _assistant(context)
    for reply in assistant.maintenance(assistant.clock()):
        try:  # one recipient's trouble does not hold up the others; unsent ones stay pending
            await send_replies(context, reply.chat_id or 0, [reply])
        except TelegramError as exc:
            log.warning("housekeeping message to %s not sent (%s); will retry", reply.chat_id, exc)


BROADCAST_BATCH = 30
BROADCAST_RATE = 28.0  # messages per second (at most 29 in any second, see bot/pacing.py)
PROGRESS_STEPS = 4  # report at 25 %, 50 %, 75 %


async def send_broadcasts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue tick: continue every confirmed broadcast (also after a restart)."""
    data = context.application.bot_data
    if data.get("broadcasting"):
        return
    data["broadcasting"] = True
    try:
        assistant = _assistant(context)
        for item in assistant.broadcasts.sending():
            await _run_broadcast(context, assistant, item)
    finally:
        data["broadcasting"] = False


async def _run_broadcast(
    context: ContextTypes.DEFAULT_TYPE, assistant: Assistant, item: dict
) -> None:
    """Send to each claimed recipient; python-telegram-bot's AIORateLimiter keeps the pace
    within Telegram's limits (about 30 messages a second) and honours 429 retry_after."""
    board = assistant.broadcasts
    texts = json.loads(item["texts"])
    total = item["total"] or 0
    admin = item["created_by"]
    reported = 0
    # A steady pace below Telegram's ~30/s: one slot per message on a fixed grid, small
    # delays made up, never a burst (progress notes to the admin take a slot too).
    pacer = Pacer(context.application.bot_data.get("broadcast_rate", BROADCAST_RATE))
    loop = asyncio.get_running_loop()
    while batch := board.claim(item["id"], BROADCAST_BATCH):
        for user_id, lang in batch:
            await asyncio.sleep(pacer.wait(loop.time()))
            try:
                await context.bot.send_message(user_id, broadcast_text(texts, lang))
                board.mark(item["id"], user_id, "sent")
            except Forbidden:
                board.mark(item["id"], user_id, "blocked")
                assistant.store.mark_inactive(user_id)
            except TelegramError as exc:
                log.warning("broadcast %s to %s failed: %s", item["id"], user_id, exc)
                board.mark(item["id"], user_id, "failed")
        done = sum(v for k, v in board.counts(item["id"]).items() if k != "pending")
        step = done * PROGRESS_STEPS // max(total, 1)
        if 0 < step < PROGRESS_STEPS and step > reported:
            reported = step
            await asyncio.sleep(pacer.wait(loop.time()))
            await _tell_admin(
                context,
                admin,
                t(
                    _admin_lang(assistant, admin),
                    "broadcast_progress",
                    id=item["id"],
                    done=done,
                    total=total,
                ),
            )
    counts = board.counts(item["id"])
    board.finish(item["id"])
    await _tell_admin(
        context,
        admin,
        t(
            _admin_lang(assistant, admin),
            "broadcast_done",
            id=item["id"],
            sent=counts.get("sent", 0),
            blocked=counts.get("blocked", 0),
            failed=counts.get("failed", 0),
            uncertain=counts.get("sending", 0),
        ),
    )


def _admin_lang(assistant: Assistant, admin: int) -> str:
    profile = assistant.store.get_profile(admin)
    return profile.lang if profile else "en"


async def _tell_admin(context: ContextTypes.DEFAULT_TYPE, admin: int, text: str) -> None:
    try:
        await context.bot.send_message(admin, text)
    except TelegramError as exc:
        log.warning("could not report to admin %s: %s", admin, exc)


async def watch_knowledge(context: ContextTypes.DEFAULT_TYPE) -> None:
    """KNOWLEDGE_WATCH_SECONDS > 0: reload when a file changed; on errors keep the last good
    knowledge and tell the admins (file, line, reason), once per change."""
    assistant = _assistant(context)
    data = context.application.bot_data
    fingerprint = assistant.holder.fingerprint()
    if data.get("knowledge_fingerprint") in (None, fingerprint):
        data["knowledge_fingerprint"] = fingerprint
        return
    data["knowledge_fingerprint"] = fingerprint
    reply = assistant.reload_knowledge("en")
    log.info("knowledge folder changed: %s", reply.text.splitlines()[0])
    for admin in assistant.admin_ids:
        await _tell_admin(context, admin, reply.text[: MessageLimit.MAX_TEXT_LENGTH])


async def apply_retention(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Daily: blank question and ticket texts older than RETENTION_DAYS."""
    assistant = _assistant(context)
    days = context.application.bot_data["retention_days"]
    changed = assistant.store.apply_retention(days)
    assistant.store.prune_journal()
    context.application.bot_data["flood"].forget_idle()
    log.info("retention: %d texts older than %d days removed", changed, days)


async def post_init(application: Application) -> None:
    """Start-up work that must not delay the first `getUpdates`: the command menu in each
    language is set in the background (three requests, concurrently)."""
    task = asyncio.get_running_loop().create_task(set_command_menus(application))
    application.bot_data["menu_task"] = task  # a reference, so the task is not collected


async def set_command_menus(application: Application) -> None:
    """The command menu in each language (English is the default for every other language)."""

    async def one(lang: str) -> None:
        texts = catalogue(lang)
        menu = [BotCommand(c, texts.get(f"cmd_{c}", c)) for c in COMMANDS]
        await application.bot.set_my_commands(menu, language_code=None if lang == "en" else lang)

    results = await asyncio.gather(*(one(lang) for lang in LANGUAGES), return_exceptions=True)
    for error in (r for r in results if isinstance(r, BaseException)):
        log.warning("could not set the command menu: %s", error)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for both HTTP clients: loading the CA bundle takes ~35 ms a time."""
    return httpx.create_ssl_context()


def http_client(pool_size: int) -> HTTPXRequest:
    """python-telegram-bot's HTTP client (its default timeouts) with `pool_size` connections."""
    return HTTPXRequest(connection_pool_size=pool_size, httpx_kwargs={"verify": _tls()})


def build_application(
    settings: Settings,
    assistant: Assistant,
    *,
    updater: bool = True,
    request: BaseRequest | None = None,
    update_queue: asyncio.Queue | None = None,
) -> Application:
    """Register every handler, in an order that matters (commands before the text catch-all)."""
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.api_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(post_init)
    )
    if not updater:
        builder = builder.updater(None)
    if update_queue is not None:
        builder = builder.update_queue(update_queue)
    if request is not None:  # tests record calls at this seam
        builder = builder.request(request).get_updates_request(request)
    else:  # explicit, not the library's defaults (which have changed between versions)
        builder = builder.request(http_client(SEND_POOL_SIZE)).get_updates_request(http_client(1))
    application = builder.build()
    application.bot_data["assistant"] = assistant
    # Group -1: drop updates already processed (redelivery); group 1: remember them as done.
    application.bot_data["flood"] = FloodGate(settings.flood_limit, settings.flood_window_seconds)
    application.add_handler(TypeHandler(Update, flood_guard), group=-2)
    application.add_handler(TypeHandler(Update, skip_seen_updates), group=-1)
    application.add_handler(TypeHandler(Update, mark_update_done), group=1)
    application.add_handler(
        CommandHandler([*COMMANDS, *ADMIN_COMMANDS], on_command, filters=PRIVATE & NEW_MESSAGE)
    )
    application.add_handler(MessageHandler(filters.COMMAND & PRIVATE & NEW_MESSAGE, on_command))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.TEXT & PRIVATE & NEW_MESSAGE, on_text))
    application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & ~filters.TEXT, on_media))
    groups = filters.ChatType.GROUPS
    application.add_handler(MessageHandler(groups & NEW_MESSAGE & filters.TEXT, on_group_message))
    application.add_handler(
        MessageHandler(groups & filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_group_edit)
    )
    application.add_error_handler(on_error)
    if application.job_queue is not None:
        # Reminders are rebuilt from SQLite on every tick: nothing to restore after a restart.
        application.job_queue.run_repeating(
            send_reminders,
            interval=settings.reminder_interval_seconds,
            first=min(10, settings.reminder_interval_seconds),
            name="reminders",
        )
        application.job_queue.run_repeating(
            ticket_housekeeping,
            interval=settings.reminder_interval_seconds,
            first=2,  # at start: sends what a crash left unsent (the outbox)
            name="tickets",
        )
        application.job_queue.run_repeating(send_broadcasts, interval=2, first=3, name="broadcasts")
        if settings.knowledge_watch_seconds > 0:
            application.job_queue.run_repeating(
                watch_knowledge,
                interval=settings.knowledge_watch_seconds,
                first=1,
                name="knowledge-watch",
            )
        application.bot_data["retention_days"] = settings.retention_days
        application.bot_data["broadcast_rate"] = float(settings.broadcast_rate)
        application.job_queue.run_repeating(
            apply_retention, interval=24 * 3600, first=60, name="retention"
        )
    return application


def make_assistant(settings: Settings, holder: KnowledgeHolder, store: Store) -> Assistant:
    """The core with every setting from the environment applied (used by run and chat)."""
    assistant = Assistant(
        holder,
        store,
        clock=store.clock,  # the store's clock (SOFTLANDING_CLOCK_FILE in end-to-end tests)
        overdue_help_days=settings.overdue_help_days,
        reminder_days_ahead=settings.reminder_days_ahead,
        provider_chats=settings.provider_chats(holder.current.knowledge.teams.values()),
        provider_ids=settings.provider_ids,
        admin_ids=settings.admin_ids,
    )
    assistant.escalation.reannounce_hours = settings.ticket_reannounce_hours
    assistant.escalation.stale_days = settings.ticket_stale_days
    return assistant


_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as a secret token


async def _replay_before_webhook(application: Application, store: Store) -> None:
    """Webhook mode: process what a crash left journalled, before serving again."""
    async with application:
        await replay_unfinished(application, store)


CACHE_SAVE_DELAY = 1.0  # seconds after start


async def save_knowledge_cache(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Write the knowledge cache of a fresh start (the next restart reads it)."""
    _assistant(context).holder.save_cache()


def load_long_lived(holder: KnowledgeHolder) -> list[Problem]:
    """The knowledge at start, without garbage collection: its ~200k objects live as long as
    the process, and collections triggered while they are made cost ~0.1 s of a first start.
    Then they are frozen (gc.freeze), so later collections do not walk them either. The cache
    is written once the bot serves (`save_knowledge_cache`)."""
    gc.disable()
    try:
        return holder.reload(defer_cache=True)
    finally:
        gc.freeze()
        gc.enable()


def run_bot(settings: Settings, *, webhook: bool = False, warming: int | None = None) -> int:
    """`softlanding run`: load knowledge and database, then serve until SIGTERM/SIGINT.
    `warming`: the child preparing the knowledge cache (bot/prewarm.py), waited for once the
    work that does not need the knowledge is done."""
    if not settings.bot_token:
        log.error("TELEGRAM_BOT_TOKEN is not set; see .env.example (or try `softlanding chat`)")
        return 2
    if webhook and not (settings.webhook_url and _SECRET.match(settings.webhook_secret)):
        log.error("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -)")
        return 2
    store = Store(open_database(settings.database_path), clock=process_clock())
    _tls()  # both (~70 ms on a first start) while the child still works on the knowledge
    prewarm.wait(warming)
    holder = KnowledgeHolder(settings.knowledge_dir, cache_file=settings.knowledge_cache_file)
    try:
        problems = load_long_lived(holder)
    except KnowledgeError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        return 1
    knowledge = holder.current.knowledge
    log.info(
        "Soft Landing starting: mode=%s api=%s db=%s knowledge=%s (%d intents, %d services, "
        "%d countries, %d checklist tasks, %d warnings)",
        "webhook" if webhook else "polling",
        settings.api_url,
        settings.database_path,
        settings.knowledge_dir,
        len(knowledge.intents),
        len(knowledge.services),
        len(knowledge.countries),
        len(knowledge.tasks),
        len(problems),
    )
    assistant = make_assistant(settings, holder, store)
    teams = assistant.escalation.teams()
    log.info("provider teams connected: %s", ", ".join(t.id for t in teams) or "none")
    for warning in assistant.setup_warnings():  # e.g. volunteers but nobody to approve them
        log.warning("%s", warning)
    if webhook:
        application = build_application(settings, assistant, update_queue=JournallingQueue(store))
    else:
        application = build_application(settings, assistant, updater=False)
    if application.job_queue is not None:  # after the first getUpdates, off the start's path
        application.job_queue.run_once(save_knowledge_cache, when=CACHE_SAVE_DELAY)
    if webhook:
        asyncio.run(_replay_before_webhook(application, store))
        # Telegram sends the secret in X-Telegram-Bot-Api-Secret-Token; PTB's webhook server
        # answers 403 to any request without it.
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            secret_token=settings.webhook_secret,
            webhook_url=settings.webhook_url,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        run_journalled_polling(application, store)
    return 0
