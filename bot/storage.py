"""All SQLite access, behind functions named for what they mean.

sqlite-utils is synchronous; every call here is a short indexed query, cheap enough to run
on the event loop. Every state change is committed before the caller replies to the user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from bot.mentoring_store import (
    MentoringStore,
    migrate_009_mentoring,
    migrate_010_mentor_notices,
    migrate_011_mentor_notice_tries,
)
from bot.sqlite import sqlite_utils

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Profile:
    """A user's profile and conversation state."""

    user_id: int
    lang: str = "en"
    country: str | None = None
    city: str | None = None
    stage: str | None = None
    arrival_date: dt.date | None = None
    citizenship: str | None = None
    purpose: str | None = None
    children: bool | None = None
    onboarding_step: str | None = None
    editing: bool = False
    last_intent: str | None = None
    active: bool = True
    departure_date: dt.date | None = None
    reminders: bool = True
    reminder_hour: int = 9
    active_ticket: int | None = None
    draft_text: str | None = None
    news: bool = True


# Every table holding user data, with the column naming the user (export and /forget use it).
USER_TABLES: dict[str, str] = {
    "feedback": "user_id",
    "questions": "user_id",
    "tasks": "user_id",
    "digests": "user_id",
    "journal": "user_id",
    "broadcast_recipients": "user_id",
    "pathway_runs": "user_id",
    "pathway_answers": "user_id",
    "users": "id",
}

PROFILE_FIELDS = (
    "lang",
    "country",
    "city",
    "stage",
    "arrival_date",
    "citizenship",
    "purpose",
    "children",
)


def _migration_001_initial(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {
            "id": int,
            "lang": str,
            "country": str,
            "city": str,
            "stage": str,
            "arrival_date": str,
            "citizenship": str,
            "purpose": str,
            "children": int,
            "onboarding_step": str,
            "editing": int,
            "last_intent": str,
            "active": int,
            "created_at": str,
            "updated_at": str,
            "last_seen": str,
        },
        pk="id",
        defaults={"lang": "en", "editing": 0, "active": 1},
    )
    db["questions"].create(
        {
            "id": int,
            "user_id": int,
            "text": str,
            "lang": str,
            "country": str,
            "outcome": str,
            "intent": str,
            "score": float,
            "created_at": str,
        },
        pk="id",
    )
    db["questions"].create_index(["user_id"])
    db["questions"].create_index(["created_at"])
    db["feedback"].create(
        {"question_id": int, "user_id": int, "intent": str, "value": int, "created_at": str},
        pk="question_id",
    )
    db["feedback"].create_index(["user_id"])


def _migration_002_checklists(db: sqlite_utils.Database) -> None:
    db["users"].add_column("departure_date", str)
    db["users"].add_column("reminders", int, not_null_default=1)
    db["users"].add_column("reminder_hour", int, not_null_default=9)
    db["tasks"].create(
        {
            "user_id": int,
            "task_id": str,
            "due_date": str,
            "status": str,
            "done_at": str,
            "snoozed_until": str,
            "title": str,
            "custom": int,
            "position": int,
        },
        pk=("user_id", "task_id"),
        defaults={"status": "open", "custom": 0},
    )
    # One row per user and local day a digest was sent: what makes reminders exactly-once.
    db["digests"].create(
        {"user_id": int, "local_date": str, "sent_at": str}, pk=("user_id", "local_date")
    )


def _migration_003_tickets(db: sqlite_utils.Database) -> None:
    db["users"].add_column("active_ticket", int)
    db["users"].add_column("draft_text", str)
    db["tickets"].create(
        {
            "id": int,
            "user_id": int,
            "team_id": str,
            "chat_id": int,
            "thread_id": int,
            "post_message_id": int,
            "status": str,
            "urgent": int,
            "question": str,
            "lang": str,
            "country": str,
            "city": str,
            "stage": str,
            "user_label": str,
            "topic": str,
            "source_key": str,
            "created_at": str,
            "claimed_by": int,
            "claimed_name": str,
            "claimed_at": str,
            "answered_at": str,
            "closed_at": str,
            "rating": int,
            "announced_at": str,
        },
        pk="id",
    )
    db["tickets"].create_index(["source_key"], unique=True)
    db["tickets"].create_index(["user_id"])
    db["tickets"].create_index(["status"])
    db["ticket_messages"].create(
        {
            "id": int,
            "ticket_id": int,
            "direction": str,
            "text": str,
            "author_id": int,
            "author_name": str,
            "source_key": str,
            "delivered_message_id": int,
            "source_chat_id": int,
            "source_message_id": int,
            "status": str,
            "created_at": str,
        },
        pk="id",
    )
    db["ticket_messages"].create_index(["source_key"], unique=True)
    db["ticket_messages"].create_index(["ticket_id"])
    # Which provider-group message belongs to which ticket: our own mapping, never forwards.
    db["group_messages"].create(
        {"chat_id": int, "message_id": int, "ticket_id": int}, pk=("chat_id", "message_id")
    )
    db["faq_suggestions"].create(
        {
            "id": int,
            "ticket_id": int,
            "question": str,
            "answer": str,
            "lang": str,
            "country": str,
            "created_by": int,
            "created_at": str,
        },
        pk="id",
    )
    db["faq_suggestions"].create_index(["ticket_id"], unique=True)
    db["processed_updates"].create({"update_id": int, "processed_at": str}, pk="update_id")


def _migration_004_journal(db: sqlite_utils.Database) -> None:
    # Every update fetched from Telegram, written before Telegram is told it was received.
    db["journal"].create({"update_id": int, "payload": str, "received_at": str}, pk="update_id")


def _migration_005_idempotent_questions(db: sqlite_utils.Database) -> None:
    # A question is recorded once per Telegram update, however often the update is processed.
    db["questions"].add_column("source_key", str)
    db["questions"].create_index(["source_key"], unique=True)


def _migration_006_journal_user(db: sqlite_utils.Database) -> None:
    # Whose update it was: /forget deletes the user's journalled updates too.
    db["journal"].add_column("user_id", int)
    db["journal"].create_index(["user_id"])


def _migration_007_broadcasts(db: sqlite_utils.Database) -> None:
    db["users"].add_column("news", int, not_null_default=1)
    db["broadcasts"].create(
        {
            "id": int,
            "created_by": int,
            "segment": str,
            "texts": str,
            "status": str,
            "total": int,
            "created_at": str,
            "confirmed_at": str,
            "finished_at": str,
        },
        pk="id",
    )
    # One row per recipient: "pending" -> "sending" (claimed) -> "sent" / "blocked" / "failed".
    db["broadcast_recipients"].create(
        {"broadcast_id": int, "user_id": int, "status": str, "sent_at": str},
        pk=("broadcast_id", "user_id"),
    )
    db["broadcast_recipients"].create_index(["broadcast_id", "status"])


def _migration_008_business(db: sqlite_utils.Database) -> None:
    # Guided pathways (/business): one run per user and pathway, and each answer stored as the
    # user gives it, so a restart resumes where they stopped.
    db["pathway_runs"].create(
        {"user_id": int, "pathway": str, "status": str, "started_at": str, "finished_at": str},
        pk=("user_id", "pathway"),
    )
    db["pathway_answers"].create(
        {"user_id": int, "pathway": str, "question": str, "answer": str, "answered_at": str},
        pk=("user_id", "pathway", "question"),
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _migration_001_initial),
    ("002_checklists", _migration_002_checklists),
    ("003_tickets", _migration_003_tickets),
    ("004_journal", _migration_004_journal),
    ("005_idempotent_questions", _migration_005_idempotent_questions),
    ("006_journal_user", _migration_006_journal_user),
    ("007_broadcasts", _migration_007_broadcasts),
    ("008_business", _migration_008_business),
    ("009_mentoring", migrate_009_mentoring),  # bot/mentoring_store.py
    ("010_mentor_notices", migrate_010_mentor_notices),  # the mentoring outbox
    ("011_mentor_notice_tries", migrate_011_mentor_notice_tries),
]


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (or create) the database in WAL mode with a busy timeout, migrated to current."""
    if str(path) == ":memory:":
        db = sqlite_utils.Database(memory=True)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.enable_wal()
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet recorded in `_migrations`; return their names."""
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row["name"] for row in db["_migrations"].rows}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with db.atomic():
            step(db)
            db["_migrations"].insert({"name": name, "applied_at": utc_now().isoformat()})
        applied.append(name)
    return applied


def _profile_from_row(row: dict[str, Any]) -> Profile:
    arrival = row.get("arrival_date")
    departure = row.get("departure_date")
    children = row.get("children")
    return Profile(
        user_id=row["id"],
        lang=row.get("lang") or "en",
        country=row.get("country"),
        city=row.get("city"),
        stage=row.get("stage"),
        arrival_date=dt.date.fromisoformat(arrival) if arrival else None,
        citizenship=row.get("citizenship"),
        purpose=row.get("purpose"),
        children=None if children is None else bool(children),
        onboarding_step=row.get("onboarding_step"),
        editing=bool(row.get("editing")),
        last_intent=row.get("last_intent"),
        active=bool(row.get("active", 1)),
        departure_date=dt.date.fromisoformat(departure) if departure else None,
        reminders=bool(row.get("reminders", 1)),
        reminder_hour=int(row.get("reminder_hour") or 9),
        active_ticket=row.get("active_ticket"),
        draft_text=row.get("draft_text"),
        news=bool(row.get("news", 1)),
    )


def _row_from_profile(profile: Profile) -> dict[str, Any]:
    row = {f.name: getattr(profile, f.name) for f in fields(profile)}
    row["id"] = row.pop("user_id")
    row["arrival_date"] = profile.arrival_date.isoformat() if profile.arrival_date else None
    row["departure_date"] = profile.departure_date.isoformat() if profile.departure_date else None
    row["reminders"] = int(profile.reminders)
    row["news"] = int(profile.news)
    row["children"] = None if profile.children is None else int(profile.children)
    row["editing"] = int(profile.editing)
    row["active"] = int(profile.active)
    return row


class Store:
    """The bot's persistent state: users, questions and feedback."""

    def __init__(self, db: sqlite_utils.Database, *, clock: Clock = utc_now) -> None:
        self.db = db
        self.clock = clock

    def _now(self) -> str:
        return self.clock().isoformat()

    def get_profile(self, user_id: int) -> Profile | None:
        rows = list(self.db["users"].rows_where("id = ?", [user_id]))
        return _profile_from_row(rows[0]) if rows else None

    def save_profile(self, profile: Profile) -> Profile:
        """Insert or update the whole profile (upsert by user id)."""
        row = _row_from_profile(profile)
        now = self._now()
        row |= {"updated_at": now, "last_seen": now}
        with self.db.atomic():
            if self.get_profile(profile.user_id) is None:
                row["created_at"] = now
            self.db["users"].upsert(row, pk="id")
        return profile

    def update_profile(self, profile: Profile, **changes: Any) -> Profile:
        return self.save_profile(replace(profile, **changes))

    def mark_inactive(self, user_id: int) -> None:
        """The user blocked the bot: stop reminders and broadcasts until they write again."""
        with self.db.atomic():
            self.db["users"].update(user_id, {"active": 0})

    def touch(self, user_id: int) -> None:
        self.db["users"].update(user_id, {"last_seen": self._now(), "active": 1})

    def record_question(
        self,
        user_id: int,
        text: str,
        *,
        lang: str,
        country: str | None,
        outcome: str,
        intent: str | None,
        score: float,
        source_key: str | None = None,
    ) -> int:
        """Store an asked question; the same update (`source_key`) is stored only once."""
        if source_key:
            rows = list(self.db["questions"].rows_where("source_key = ?", [source_key]))
            if rows:
                return int(rows[0]["id"])
        with self.db.atomic():
            table = self.db["questions"].insert(
                {
                    "user_id": user_id,
                    "text": text,
                    "lang": lang,
                    "country": country,
                    "outcome": outcome,
                    "intent": intent,
                    "score": score,
                    "created_at": self._now(),
                    "source_key": source_key or None,
                }
            )
        return int(table.last_pk)

    def question(self, question_id: int) -> dict[str, Any] | None:
        rows = list(self.db["questions"].rows_where("id = ?", [question_id]))
        return rows[0] if rows else None

    def record_feedback(self, user_id: int, question_id: int, value: int) -> bool:
        """Store 👍 (+1) or 👎 (-1) for the user's own answered question; False if not theirs."""
        question = self.question(question_id)
        if (
            question is None
            or question["user_id"] != user_id
            or not question["intent"]
            or question["outcome"] not in ("answer", "chosen")
        ):
            return False
        with self.db.atomic():
            self.db["feedback"].upsert(
                {
                    "question_id": question_id,
                    "user_id": user_id,
                    "intent": question["intent"],
                    "value": value,
                    "created_at": self._now(),
                },
                pk="question_id",
            )
        return True

    def questions_of(self, user_id: int) -> list[dict[str, Any]]:
        return list(self.db["questions"].rows_where("user_id = ?", [user_id], order_by="id"))

    def feedback_of(self, user_id: int) -> list[dict[str, Any]]:
        return list(self.db["feedback"].rows_where("user_id = ?", [user_id]))

    def export_user(self, user_id: int) -> dict[str, Any]:
        """Everything stored about one user, as plain JSON-able data."""
        users = list(self.db["users"].rows_where("id = ?", [user_id]))
        return {
            "profile": users[0] if users else None,
            "questions": self.questions_of(user_id),
            "feedback": self.feedback_of(user_id),
            "checklist": self.tasks_of(user_id),
            "reminders_sent": list(self.db["digests"].rows_where("user_id = ?", [user_id])),
            "pathways": {  # /business: the assessment's state and answers
                "runs": list(self.db["pathway_runs"].rows_where("user_id = ?", [user_id])),
                "answers": list(
                    self.db["pathway_answers"].rows_where(
                        "user_id = ?", [user_id], order_by="pathway, answered_at"
                    )
                ),
            },
            "tickets": [
                ticket
                | {
                    "messages": list(
                        self.db["ticket_messages"].rows_where(
                            "ticket_id = ?", [ticket["id"]], order_by="id"
                        )
                    )
                }
                for ticket in self.db["tickets"].rows_where("user_id = ?", [user_id], order_by="id")
            ],
            "mentoring": MentoringStore(self).export_user(user_id),
        }

    def forget_user(self, user_id: int) -> None:
        """Delete every row about the user, in one transaction (tickets are kept for the
        providers' records but emptied of everything about the user and marked erased)."""
        from bot.tickets_store import TicketStore

        TicketStore(self).erase_user(user_id)
        MentoringStore(self).erase_user(user_id)
        with self.db.atomic():
            for table in USER_TABLES:
                self.db.execute(f"DELETE FROM [{table}] WHERE {USER_TABLES[table]} = ?", [user_id])

    # --- checklist ---------------------------------------------------------------------------

    def tasks_of(self, user_id: int) -> list[dict[str, Any]]:
        return list(self.db["tasks"].rows_where("user_id = ?", [user_id], order_by="position"))

    def task(self, user_id: int, task_id: str) -> dict[str, Any] | None:
        rows = list(self.db["tasks"].rows_where("user_id = ? AND task_id = ?", [user_id, task_id]))
        return rows[0] if rows else None

    def replan_tasks(self, user_id: int, planned: list[tuple[str, dt.date | None]]) -> None:
        """Make the stored plan equal `planned`, keeping what the user did (done, hidden,
        snoozed) for tasks that stay, and the user's own tasks; in one transaction."""
        existing = {row["task_id"]: row for row in self.tasks_of(user_id)}
        keep = {task_id for task_id, _ in planned}
        with self.db.atomic():
            for task_id, row in existing.items():
                if task_id not in keep and not row["custom"]:
                    self.db["tasks"].delete((user_id, task_id))
            for position, (task_id, due) in enumerate(planned):
                row = {
                    "user_id": user_id,
                    "task_id": task_id,
                    "position": position,
                    "due_date": due.isoformat() if due else None,
                }
                if task_id not in existing:
                    row |= {"status": "open", "custom": 0}
                self.db["tasks"].upsert(row, pk=("user_id", "task_id"))

    def add_custom_task(
        self, user_id: int, title: str, due: dt.date, *, source_key: str | None = None
    ) -> str:
        """A task of the user's own; the same update (`source_key`) adds it only once."""
        if source_key:
            task_id = "my-" + hashlib.sha1(source_key.encode()).hexdigest()[:10]
            with self.db.atomic():
                self.db.execute(
                    "INSERT OR IGNORE INTO tasks (user_id, task_id, due_date, status, title, "
                    "custom, position) VALUES (?, ?, ?, 'open', ?, 1, 10000)",
                    [user_id, task_id, due.isoformat(), title],
                )
            return task_id
        with self.db.atomic():
            count = self.db.execute(
                "SELECT COUNT(*) FROM tasks WHERE user_id = ? AND custom = 1", [user_id]
            ).fetchone()[0]
            task_id = f"my-{count + 1}"
            while self.task(user_id, task_id):
                count += 1
                task_id = f"my-{count + 1}"
            self.db["tasks"].insert(
                {
                    "user_id": user_id,
                    "task_id": task_id,
                    "due_date": due.isoformat(),
                    "status": "open",
                    "title": title,
                    "custom": 1,
                    "position": 10_000 + count,
                },
                pk=("user_id", "task_id"),
            )
        return task_id

    def set_task_status(self, user_id: int, task_id: str, status: str) -> bool:
        """open / done / hidden; False when the user has no such task. Committed on return."""
        if self.task(user_id, task_id) is None:
            return False
        done_at = self._now() if status == "done" else None
        with self.db.atomic():
            self.db["tasks"].update(
                (user_id, task_id), {"status": status, "done_at": done_at, "snoozed_until": None}
            )
        return True

    def snooze_task(self, user_id: int, task_id: str, until: dt.date) -> bool:
        if self.task(user_id, task_id) is None:
            return False
        with self.db.atomic():
            self.db["tasks"].update((user_id, task_id), {"snoozed_until": until.isoformat()})
        return True

    # --- reminders ---------------------------------------------------------------------------

    def reminder_candidates(self) -> list[Profile]:
        """Users with reminders on who have a country (so a time zone) and open tasks."""
        rows = self.db.query(
            "SELECT * FROM users WHERE reminders = 1 AND active = 1 AND country IS NOT NULL "
            "AND id IN (SELECT user_id FROM tasks WHERE status = 'open')"
        )
        return [_profile_from_row(row) for row in rows]

    def claim_digest(self, user_id: int, local_date: dt.date) -> bool:
        """Record that today's digest goes out; False if it was already sent (idempotent)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO digests (user_id, local_date, sent_at) VALUES (?, ?, ?)",
                [user_id, local_date.isoformat(), self._now()],
            )
        return cursor.rowcount == 1

    def release_digest(self, user_id: int, local_date: dt.date) -> None:
        """Undo a claim whose message could not be delivered, so it is tried again."""
        with self.db.atomic():
            self.db["digests"].delete_where(
                "user_id = ? AND local_date = ?", [user_id, local_date.isoformat()]
            )

    # --- update de-duplication -------------------------------------------------------------

    def update_seen(self, update_id: int) -> bool:
        return bool(list(self.db["processed_updates"].rows_where("update_id = ?", [update_id])))

    def mark_update(self, update_id: int) -> None:
        with self.db.atomic():
            self.db["processed_updates"].upsert(
                {"update_id": update_id, "processed_at": self._now()}, pk="update_id"
            )

    # --- retention ---------------------------------------------------------------------------

    def apply_retention(self, days: int) -> int:
        """Blank the texts of questions, and of messages of finished tickets, older than `days`.

        The rows stay (statistics need outcome, intent and dates); the words people wrote go.
        """
        cutoff = (self.clock() - dt.timedelta(days=days)).isoformat()
        done = "('closed', 'cancelled', 'spam', 'erased')"
        with self.db.atomic():
            changed = self.db.execute(
                "UPDATE questions SET text = '' WHERE created_at < ? AND text != ''", [cutoff]
            ).rowcount
            changed += self.db.execute(
                "UPDATE ticket_messages SET text = '' WHERE created_at < ? AND text != '' AND "
                f"ticket_id IN (SELECT id FROM tickets WHERE status IN {done})",
                [cutoff],
            ).rowcount
            changed += self.db.execute(
                f"UPDATE tickets SET question = '', user_label = NULL WHERE created_at < ? "
                f"AND question != '' AND status IN {done}",
                [cutoff],
            ).rowcount
        return changed

    # --- the update journal ------------------------------------------------------------------

    def journal_updates(self, payloads: list[tuple[int, int | None, str]]) -> None:
        """Durably record fetched updates (update id, user id, JSON) in one transaction,
        before they are confirmed to Telegram."""
        now = self._now()
        rows = (
            {"update_id": u, "user_id": who, "payload": p, "received_at": now}
            for u, who, p in payloads
        )
        with self.db.atomic():
            self.db["journal"].insert_all(rows, pk="update_id", ignore=True)

    def unfinished_updates(self) -> list[tuple[int, str]]:
        """Journalled updates that were never processed to the end, oldest first."""
        rows = self.db.execute(
            "SELECT update_id, payload FROM journal WHERE update_id NOT IN "
            "(SELECT update_id FROM processed_updates) ORDER BY update_id"
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def next_offset(self) -> int | None:
        row = self.db.execute("SELECT MAX(update_id) FROM journal").fetchone()
        return row[0] + 1 if row and row[0] is not None else None

    def prune_journal(self, keep_days: int = 7) -> None:
        cutoff = (self.clock() - dt.timedelta(days=keep_days)).isoformat()
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM journal WHERE received_at < ? AND update_id IN "
                "(SELECT update_id FROM processed_updates)",
                [cutoff],
            )
