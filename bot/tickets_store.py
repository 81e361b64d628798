"""SQLite access for tickets, their messages and the provider-group message mapping.

Every insert is keyed by the Telegram update that caused it (`source_key`), so processing the
same update twice (Telegram redelivers after a crash) creates no second ticket or message.
"""

from __future__ import annotations

from typing import Any

from bot.storage import Store

OPEN_STATES = ("open", "claimed", "answered")


class TicketStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def _now(self) -> str:
        return self.store.clock().isoformat()

    def create(self, *, source_key: str, **fields: Any) -> tuple[dict[str, Any], bool]:
        """The ticket for this source (created now, or found from an earlier delivery)."""
        existing = list(self.db["tickets"].rows_where("source_key = ?", [source_key]))
        if existing:
            return existing[0], False
        with self.db.atomic():
            table = self.db["tickets"].insert(
                fields | {"source_key": source_key, "status": "open", "created_at": self._now()}
            )
        return self.get(int(table.last_pk)), True

    def by_source(self, source_key: str) -> dict[str, Any] | None:
        rows = list(self.db["tickets"].rows_where("source_key = ?", [source_key]))
        return rows[0] if rows else None

    def get(self, ticket_id: int) -> dict[str, Any] | None:
        rows = list(self.db["tickets"].rows_where("id = ?", [ticket_id]))
        return rows[0] if rows else None

    def of_user(self, user_id: int) -> list[dict[str, Any]]:
        return list(self.db["tickets"].rows_where("user_id = ?", [user_id], order_by="id desc"))

    def update(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        with self.db.atomic():
            self.db["tickets"].update(ticket_id, fields)
        return self.get(ticket_id)

    def open_in_chats(self, chat_ids: list[int]) -> list[dict[str, Any]]:
        if not chat_ids:
            return []
        marks = ",".join("?" for _ in chat_ids)
        states = ",".join("?" for _ in OPEN_STATES)
        return list(
            self.db["tickets"].rows_where(
                f"chat_id IN ({marks}) AND status IN ({states})",
                [*chat_ids, *OPEN_STATES],
                order_by="id",
            )
        )

    def all_open(self) -> list[dict[str, Any]]:
        states = ",".join("?" for _ in OPEN_STATES)
        return list(
            self.db["tickets"].rows_where(f"status IN ({states})", list(OPEN_STATES), order_by="id")
        )

    def add_message(
        self, ticket_id: int, *, source_key: str, direction: str, text: str, **fields: Any
    ) -> tuple[dict[str, Any], bool]:
        existing = list(self.db["ticket_messages"].rows_where("source_key = ?", [source_key]))
        if existing:
            return existing[0], False
        with self.db.atomic():
            table = self.db["ticket_messages"].insert(
                fields
                | {
                    "ticket_id": ticket_id,
                    "source_key": source_key,
                    "direction": direction,
                    "text": text,
                    "status": "pending",
                    "created_at": self._now(),
                }
            )
        return self.message(int(table.last_pk)), True

    def message(self, message_id: int) -> dict[str, Any] | None:
        rows = list(self.db["ticket_messages"].rows_where("id = ?", [message_id]))
        return rows[0] if rows else None

    def message_by_source(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        rows = list(
            self.db["ticket_messages"].rows_where(
                "source_chat_id = ? AND source_message_id = ?", [chat_id, message_id]
            )
        )
        return rows[0] if rows else None

    def messages(self, ticket_id: int) -> list[dict[str, Any]]:
        return list(
            self.db["ticket_messages"].rows_where("ticket_id = ?", [ticket_id], order_by="id")
        )

    def pending_notices(self, older_than: str) -> list[dict[str, Any]]:
        return list(
            self.db["ticket_messages"].rows_where(
                "direction = 'notice' AND status = 'pending' AND created_at <= ?", [older_than]
            )
        )

    def set_message(self, message_id: int, **fields: Any) -> None:
        with self.db.atomic():
            self.db["ticket_messages"].update(message_id, fields)

    def map_group_message(self, chat_id: int, message_id: int, ticket_id: int) -> None:
        with self.db.atomic():
            self.db["group_messages"].upsert(
                {"chat_id": chat_id, "message_id": message_id, "ticket_id": ticket_id},
                pk=("chat_id", "message_id"),
            )

    def ticket_of_group_message(self, chat_id: int, message_id: int) -> int | None:
        rows = list(
            self.db["group_messages"].rows_where(
                "chat_id = ? AND message_id = ?", [chat_id, message_id]
            )
        )
        return rows[0]["ticket_id"] if rows else None

    def suggest_faq(self, ticket: dict[str, Any], answer: str, by: int) -> bool:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO faq_suggestions (ticket_id, question, answer, lang, "
                "country, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    ticket["id"],
                    ticket["question"],
                    answer,
                    ticket["lang"],
                    ticket["country"],
                    by,
                    self._now(),
                ],
            )
        return cursor.rowcount == 1

    def suggestions(self) -> list[dict[str, Any]]:
        return list(self.db["faq_suggestions"].rows_where(order_by="id"))

    def erase_user(self, user_id: int) -> None:
        """/forget: delete the user's messages and question; providers see 'erased'."""
        tickets = [t["id"] for t in self.of_user(user_id)]
        with self.db.atomic():
            for ticket_id in tickets:
                self.db.execute("DELETE FROM ticket_messages WHERE ticket_id = ?", [ticket_id])
                self.db.execute(
                    "UPDATE tickets SET user_id = NULL, question = '', user_label = NULL, "
                    "city = NULL, stage = NULL, status = 'erased' WHERE id = ?",
                    [ticket_id],
                )
            for ticket_id in tickets:
                self.db.execute("DELETE FROM faq_suggestions WHERE ticket_id = ?", [ticket_id])
