"""A bare python-telegram-bot echo bot: the reference that bench/throughput.py compares with.

Usage:  TELEGRAM_BOT_TOKEN=... TELEGRAM_API_URL=... python bench/echo_bot.py [--rate-limiter]

Long polling with python-telegram-bot's own Updater and default settings (updates handled one
at a time, the default HTTP pools); every text is sent back to its chat. `--rate-limiter`
adds the same AIORateLimiter as Soft Landing (Telegram's ~30 messages a second overall), for
the fair comparison; without it the figure is what python-telegram-bot alone can do.
"""

from __future__ import annotations

import argparse
import logging
import os

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await context.bot.send_message(message.chat_id, message.text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rate-limiter", action="store_true", help="AIORateLimiter as Soft Landing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_URL"])
    )
    if args.rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    print("echo bot polling", flush=True)
    application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
