"""Settings from environment variables (and a `.env` file when present)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

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
        )
