"""Settings from environment variables (and a `.env` file when present)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from bot.knowledge.model import Team

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PACKAGE_ROOT / "knowledge"
DEFAULT_API_URL = "https://api.telegram.org/bot"


def _ids(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.replace(";", ",").split(",") if part.strip())


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment, resolved once at start-up."""

    bot_token: str = ""
    api_url: str = DEFAULT_API_URL
    database_path: Path = Path("softlanding.db")
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    log_level: str = "INFO"
    overdue_help_days: int = 5
    reminder_days_ahead: int = 3
    reminder_interval_seconds: int = 300
    provider_env: dict[str, str] = field(default_factory=dict)  # PROVIDER_CHAT_* variables
    provider_ids: frozenset[int] = field(default_factory=frozenset)
    ticket_reannounce_hours: int = 4
    ticket_stale_days: int = 14
    flood_limit: int = 20
    flood_window_seconds: int = 10
    retention_days: int = 365
    broadcast_rate: int = 28
    knowledge_watch_seconds: int = 0  # 0 = reload only on /reload
    webhook_url: str = ""  # the public https URL Telegram posts to (behind your reverse proxy)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_secret: str = ""

    @property
    def knowledge_cache_file(self) -> Path | None:
        """`<DATABASE_PATH>.knowledge-cache`: the parsed and indexed knowledge, for a fast start
        (bot/core/knowledge_cache.py); none for an in-memory database."""
        database = str(self.database_path)
        return None if database == ":memory:" else Path(f"{database}.knowledge-cache")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read settings; a `.env` in the working directory fills what the environment lacks."""
        if env is None:
            if dotenv:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        return cls(
            bot_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            api_url=env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL,
            database_path=Path(env.get("DATABASE_PATH", "").strip() or "softlanding.db"),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or DEFAULT_KNOWLEDGE_DIR),
            admin_ids=_ids(env.get("ADMIN_IDS", "")),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            overdue_help_days=_int(env, "OVERDUE_HELP_DAYS", 5),
            reminder_days_ahead=_int(env, "REMINDER_DAYS_AHEAD", 3),
            reminder_interval_seconds=_int(env, "REMINDER_INTERVAL_SECONDS", 300),
            provider_env={k: v for k, v in env.items() if k.startswith("PROVIDER_CHAT_")},
            provider_ids=_ids(env.get("PROVIDER_IDS", "")),
            ticket_reannounce_hours=_int(env, "TICKET_REANNOUNCE_HOURS", 4),
            ticket_stale_days=_int(env, "TICKET_STALE_DAYS", 14),
            flood_limit=_int(env, "FLOOD_LIMIT", 20),
            flood_window_seconds=_int(env, "FLOOD_WINDOW_SECONDS", 10),
            retention_days=_int(env, "RETENTION_DAYS", 365),
            broadcast_rate=_int(env, "BROADCAST_RATE", 28),
            knowledge_watch_seconds=_int(env, "KNOWLEDGE_WATCH_SECONDS", 0),
            webhook_url=env.get("WEBHOOK_URL", "").strip(),
            webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or "127.0.0.1",
            webhook_port=_int(env, "WEBHOOK_PORT", 8443),
            webhook_path=env.get("WEBHOOK_PATH", "").strip().strip("/") or "telegram",
            webhook_secret=env.get("WEBHOOK_SECRET", "").strip(),
        )

    def provider_chats(self, teams: Iterable[Team]) -> dict[str, int]:
        """Team id -> Telegram group chat id, for the teams whose variable is set."""
        chats = {}
        for team in teams:
            raw = self.provider_env.get(team.chat_id_env, "").strip()
            if raw:
                try:
                    chats[team.id] = int(raw)
                except ValueError as exc:
                    raise SystemExit(f"{team.chat_id_env} must be a chat id, not {raw!r}") from exc
        return chats
