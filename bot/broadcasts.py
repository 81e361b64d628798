"""Segmented broadcasts from admins to newcomers: compose, preview, confirm, send, resume.

Each recipient is a row that moves pending -> sending (claimed just before the message goes
out) -> sent / blocked / failed. After a crash, rows still "sending" are not sent again: a
message is never delivered twice, and the report counts them as uncertain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import LANGUAGES
from bot.storage import Store

SEGMENT_FIELDS = ("country", "city", "stage", "lang", "purpose")
_FILTER = re.compile(r"^(\w+)=([\w,-]+)$")
_TEXT = re.compile(r"^(en|ru|uk):\s*(.*)$", re.S)


@dataclass(frozen=True)
class Draft:
    segment: dict[str, tuple[str, ...]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # language -> text ("en" is the fallback)
    errors: tuple[str, ...] = ()


def parse(command_args: str) -> Draft:
    """`country=FI,SE stage=arrived` on the first line, then `en: ...`, `ru: ...` blocks.

    Text without a language prefix is the English (fallback) text.
    """
    first, _, body = command_args.partition("\n")
    segment: dict[str, tuple[str, ...]] = {}
    errors = []
    for word in first.split():
        found = _FILTER.match(word)
        if not found or found.group(1) not in SEGMENT_FIELDS:
            errors.append(f"unknown filter '{word}' (use {', '.join(SEGMENT_FIELDS)}=...)")
            continue
        values = tuple(
            v.upper() if found.group(1) == "country" else v.lower()
            for v in found.group(2).split(",")
        )
        segment[found.group(1)] = values
    texts: dict[str, str] = {}
    current = "en"
    for line in body.splitlines():
        found = _TEXT.match(line)
        if found:
            current = found.group(1)
            texts[current] = found.group(2)
        else:
            texts[current] = (texts.get(current, "") + "\n" + line).strip("\n")
    texts = {lang: text.strip() for lang, text in texts.items() if text.strip()}
    if not texts:
        errors.append("no text: write it on the lines after the filters (en: / ru: / uk:)")
    elif "en" not in texts:
        errors.append("an English text (en:) is needed for users of other languages")
    return Draft(segment, texts, tuple(errors))


def recipients(store: Store, segment: dict[str, tuple[str, ...]]) -> list[int]:
    """Active users who did not opt out (/news off) and match every filter."""
    where = ["active = 1", "news = 1"]
    args: list[Any] = []
    for name, values in segment.items():
        where.append(f"{name} IN ({','.join('?' for _ in values)})")
        args += list(values)
    rows = store.db.execute(f"SELECT id FROM users WHERE {' AND '.join(where)} ORDER BY id", args)
    return [row[0] for row in rows.fetchall()]


def text_for(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts["en"]


class Broadcasts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def create(self, admin_id: int, draft: Draft) -> dict[str, Any]:
        with self.db.atomic():
            table = self.db["broadcasts"].insert(
                {
                    "created_by": admin_id,
                    "segment": json.dumps(draft.segment),
                    "texts": json.dumps(draft.texts, ensure_ascii=False),
                    "status": "draft",
                    "total": len(recipients(self.store, draft.segment)),
                    "created_at": self.store.clock().isoformat(),
                }
            )
        return self.get(int(table.last_pk))

    def get(self, broadcast_id: int) -> dict[str, Any] | None:
        rows = list(self.db["broadcasts"].rows_where("id = ?", [broadcast_id]))
        return rows[0] if rows else None

    def confirm(self, broadcast_id: int) -> dict[str, Any] | None:
        """Fix the recipient list (once) and start sending."""
        item = self.get(broadcast_id)
        if item is None or item["status"] != "draft":
            return None
        users = recipients(self.store, json.loads(item["segment"]))
        with self.db.atomic():
            self.db["broadcast_recipients"].insert_all(
                ({"broadcast_id": broadcast_id, "user_id": u, "status": "pending"} for u in users),
                pk=("broadcast_id", "user_id"),
                ignore=True,
            )
            self.db["broadcasts"].update(
                broadcast_id,
                {
                    "status": "sending",
                    "total": len(users),
                    "confirmed_at": self.store.clock().isoformat(),
                },
            )
        return self.get(broadcast_id)

    def cancel(self, broadcast_id: int) -> bool:
        item = self.get(broadcast_id)
        if item is None or item["status"] != "draft":
            return False
        with self.db.atomic():
            self.db["broadcasts"].update(broadcast_id, {"status": "cancelled"})
        return True

    def sending(self) -> list[dict[str, Any]]:
        return list(self.db["broadcasts"].rows_where("status = 'sending'", order_by="id"))

    def claim(self, broadcast_id: int, limit: int = 50) -> list[tuple[int, str]]:
        """The next recipients with their language, marked "sending" before anything is sent."""
        rows = self.db.execute(
            "SELECT r.user_id, u.lang FROM broadcast_recipients r JOIN users u ON u.id = r.user_id "
            "WHERE r.broadcast_id = ? AND r.status = 'pending' ORDER BY r.user_id LIMIT ?",
            [broadcast_id, limit],
        ).fetchall()
        with self.db.atomic():
            for user_id, _ in rows:
                self.db.execute(
                    "UPDATE broadcast_recipients SET status = 'sending' "
                    "WHERE broadcast_id = ? AND user_id = ?",
                    [broadcast_id, user_id],
                )
        return [(u, lang if lang in LANGUAGES else "en") for u, lang in rows]

    def mark(self, broadcast_id: int, user_id: int, status: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE broadcast_recipients SET status = ?, sent_at = ? "
                "WHERE broadcast_id = ? AND user_id = ?",
                [status, self.store.clock().isoformat(), broadcast_id, user_id],
            )

    def counts(self, broadcast_id: int) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, COUNT(*) FROM broadcast_recipients WHERE broadcast_id = ? "
            "GROUP BY status",
            [broadcast_id],
        ).fetchall()
        return dict(rows)

    def finish(self, broadcast_id: int) -> None:
        with self.db.atomic():
            self.db["broadcasts"].update(
                broadcast_id, {"status": "done", "finished_at": self.store.clock().isoformat()}
            )
