"""The `softlanding` command: run, chat, knowledge check, match."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from pathlib import Path

from bot.config import DEFAULT_KNOWLEDGE_DIR, PACKAGE_ROOT, Settings

log = logging.getLogger("bot")
DEFAULT_CATALOG = PACKAGE_ROOT.parent / "shared" / "knowledge-catalog.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="softlanding", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the Telegram bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, ...)",
    )

    chat = sub.add_parser("chat", help="chat with the assistant in the terminal, offline")
    chat.add_argument("--country", help="country code (FI, SE, EE, LV); skips onboarding")
    chat.add_argument("--lang", choices=["en", "ru", "uk"], help="language; skips onboarding")
    chat.add_argument("--db", type=Path, help="SQLite file (default: DATABASE_PATH)")
    chat.add_argument("--user", type=int, default=1, help="user id to chat as (default 1)")
    chat.add_argument("--username", default="", help="Telegram username to play (for /buddy)")

    knowledge = sub.add_parser("knowledge", help="knowledge tools")
    ksub = knowledge.add_subparsers(dest="knowledge_command", required=True)
    check = ksub.add_parser("check", help="validate the knowledge and print coverage")
    check.add_argument("--dir", type=Path, help="knowledge folder (default: KNOWLEDGE_DIR)")
    check.add_argument("--catalog", type=Path, help="intent catalog that must be covered")
    check.add_argument("--quiet", action="store_true", help="no coverage table")
    suggestions = ksub.add_parser(
        "suggestions", help="print providers' FAQ suggestions as ready-to-edit YAML intents"
    )
    suggestions.add_argument("--db", type=Path, help="SQLite file (default: DATABASE_PATH)")
    report = ksub.add_parser("report", help="a Markdown report on the knowledge and its use")
    report.add_argument("--db", type=Path, help="SQLite file (default: DATABASE_PATH)")
    report.add_argument("--dir", type=Path, help="knowledge folder (default: KNOWLEDGE_DIR)")

    stats_cmd = sub.add_parser("stats", help="usage statistics (and a chart) from the database")
    stats_cmd.add_argument("--db", type=Path, help="SQLite file (default: DATABASE_PATH)")
    stats_cmd.add_argument("--chart", type=Path, help="write the chart of the last 30 days (PNG)")
    stats_cmd.add_argument("--country", action="append", default=[], help="only this country")

    match = sub.add_parser("match", help="match questions to intents")
    match.add_argument("question", nargs="?", help="one question (else read --jsonl on stdin)")
    match.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"q": ..., "country": ..., "lang": ...} lines from stdin',
    )
    match.add_argument("--dir", type=Path, help="knowledge folder (default: KNOWLEDGE_DIR)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "run":
        from bot import prewarm

        # No garbage collection until the knowledge is loaded (see telegram_app.load_long_lived)
        gc.disable()
        warming = None
        if settings.bot_token:
            warming = prewarm.start(settings.knowledge_dir, settings.knowledge_cache_file)
        from bot.telegram_app import run_bot  # imported meanwhile: the slow part of a start

        return run_bot(settings, webhook=args.webhook, warming=warming)
    if args.command == "chat":
        return _chat(settings, args)
    if args.command == "knowledge" and args.knowledge_command == "suggestions":
        return _suggestions(settings, args)
    if args.command == "knowledge" and args.knowledge_command == "report":
        return _report(settings, args)
    if args.command == "stats":
        return _stats(settings, args)
    if args.command == "knowledge":
        return _knowledge_check(settings, args)
    return _match(settings, args)


def _holder(folder: Path):
    from bot.core.knowledge_holder import KnowledgeError, KnowledgeHolder

    holder = KnowledgeHolder(folder)
    try:
        holder.reload()
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(
            f"The knowledge in {folder} has errors; run `softlanding knowledge check`.",
            file=sys.stderr,
        )
        return None
    return holder


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage import Store, open_database
    from bot.telegram_app import make_assistant
    from bot.terminal import TERMINAL_GROUP, run_chat

    logging.getLogger().setLevel(logging.WARNING)
    holder = _holder(settings.knowledge_dir)
    if holder is None:
        return 1
    store = Store(open_database(args.db or settings.database_path))
    assistant = make_assistant(settings, holder, store)
    if not assistant.escalation.provider_chats:
        # Offline demo: every team works in the terminal's own provider "group" (/as provider).
        teams = holder.current.knowledge.teams
        assistant.escalation.provider_chats = {team_id: TERMINAL_GROUP for team_id in teams}
    return run_chat(
        assistant,
        country=args.country,
        lang=args.lang,
        user_id=args.user,
        username=args.username.lstrip("@"),
    )


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    from bot import stats
    from bot.storage import Store, open_database

    store = Store(open_database(args.db or settings.database_path))
    figures = stats.compute(store, countries=tuple(c.upper() for c in args.country))
    print(stats.as_text(figures))
    if args.chart:
        args.chart.write_bytes(stats.chart_png(figures))
        print(f"chart written to {args.chart}")
    return 0


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge.report import knowledge_report
    from bot.storage import Store, open_database

    folder = args.dir or settings.knowledge_dir
    store = Store(open_database(args.db or settings.database_path))
    print(knowledge_report(folder, store), end="")
    return 0


def _suggestions(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge.suggestions import suggestions_yaml
    from bot.storage import Store, open_database
    from bot.tickets_store import TicketStore

    store = Store(open_database(args.db or settings.database_path))
    print(suggestions_yaml(TicketStore(store).suggestions()), end="")
    return 0


def _knowledge_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge.coverage import coverage_table, missing_from_catalog
    from bot.knowledge.loader import load_knowledge

    folder = args.dir or settings.knowledge_dir
    knowledge, problems = load_knowledge(folder)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if knowledge is not None:
        if not args.quiet:
            print(coverage_table(knowledge))
        # The shared catalog is the contract of the shipped pack, not of every knowledge folder.
        shipped = folder.resolve() == DEFAULT_KNOWLEDGE_DIR.resolve()
        catalog = args.catalog or (
            DEFAULT_CATALOG if shipped and DEFAULT_CATALOG.exists() else None
        )
        if catalog:
            missing = missing_from_catalog(knowledge, catalog)
            for intent_id in missing:
                print(f"{catalog}: error: catalog intent '{intent_id}' is missing")
            errors += len(missing)
    print(f"{folder}: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _match(settings: Settings, args: argparse.Namespace) -> int:

    holder = _holder(args.dir or settings.knowledge_dir)
    if holder is None:
        return 1
    loaded = holder.current
    if args.question is not None and not args.jsonl:
        print(json.dumps(_match_line(loaded, args.question), ensure_ascii=False))
        return 0
    for raw in sys.stdin:
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            question = str(item["q"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            print(json.dumps({"error": f"bad input line: {exc}"}), flush=True)
            continue
        print(json.dumps(_match_line(loaded, question), ensure_ascii=False), flush=True)
    return 0


def _match_line(loaded, question: str) -> dict:
    from bot.core.understanding import understand

    seen = understand(loaded, question)
    result = seen.result
    line = {
        # For "suggest" the best candidate is reported too: it is the bot's top-1 guess.
        "intent": result.intent_id,
        "outcome": result.outcome,
        "score": result.score,
        "candidates": [c.intent_id for c in result.candidates],
    }
    if seen.smalltalk:
        # Small talk is answered by the bot itself, not by an FAQ intent.
        line |= {
            "intent": None,
            "outcome": "unknown",
            "candidates": [],
            "smalltalk": seen.smalltalk,
        }
    return line
