"""Buddies and mentors in SQLite: volunteers, matches, consents, notices and unfinished forms.

A match goes proposed -> newcomer_accepted -> active, or ends as declined, expired, ended or
reported. State changes are compare-and-set (`move`), so a double press or a replayed update
changes a match once. A consent row holds the Telegram contact its owner agreed to share for
one match; contacts and the newcomer's note are blanked as soon as the match is over.

Notices to the other side of a change (the volunteer's request, the newcomer's contact, an
admin's approval queue, ...) are the outbox `mentor_notices`: written in the same transaction
as the change they announce, keyed by a unique source key, and pending until the adapter
reports them sent (housekeeping sends them again otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

    from bot.storage import Store

OPEN_STATES = ("proposed", "newcomer_accepted", "active")
BUSY_STATES = ("newcomer_accepted", "active")  # these count against a volunteer's capacity
CLOSED_STATES = ("declined", "expired", "ended", "reported")
VOLUNTEER_STATUSES = ("pending", "approved", "paused", "rejected")
# dropped: never sent because it no longer applied (its match closed first)
NOTICE_STATUSES = ("pending", "delivered", "failed", "dropped")


def migrate_009_mentoring(db: sqlite_utils.Database) -> None:
    """Migration "009_mentoring": the tables of bot/mentoring_store.py."""
    db["volunteers"].create(
        {
            "id": int,
            "user_id": int,
            "status": str,
            "display_name": str,
            "country": str,
            "city": str,
            "languages": str,  # comma-separated codes
            "topics": str,  # comma-separated topic ids
            "availability": str,
            "capacity": int,
            "intro": str,
            "created_at": str,
            "updated_at": str,
            "decided_by": int,
            "decided_at": str,
        },
        pk="id",
    )
    db["volunteers"].create_index(["user_id"], unique=True)
    db["volunteers"].create_index(["status", "country"])
    db["mentor_matches"].create(
        {
            "id": int,
            "newcomer_id": int,
            "volunteer_id": int,  # volunteers.id (the number admins see)
            "volunteer_user_id": int,
            "volunteer_name": str,
            "topic": str,
            "state": str,
            "newcomer_name": str,
            "newcomer_country": str,
            "newcomer_city": str,
            "newcomer_languages": str,
            "newcomer_note": str,
            "created_at": str,
            "updated_at": str,
            "closed_by": str,  # newcomer | volunteer | admin | system
            "report_reason": str,
        },
        pk="id",
    )
    db["mentor_matches"].create_index(["newcomer_id"])
    db["mentor_matches"].create_index(["volunteer_user_id"])
    db["mentor_matches"].create_index(["state"])
    db["mentor_consents"].create(
        {"match_id": int, "user_id": int, "role": str, "contact": str, "consented_at": str},
        pk=("match_id", "user_id"),
    )
    db["mentor_consents"].create_index(["user_id"])
    # A form in progress (the volunteer profile, a buddy request, a report): one per kind.
    db["mentor_drafts"].create(
        {"user_id": int, "kind": str, "data": str, "updated_at": str}, pk=("user_id", "kind")
    )


def migrate_010_mentor_notices(db: sqlite_utils.Database) -> None:
    """Migration "010_mentor_notices": the outbox of notices to the other side of a match."""
    db["mentor_notices"].create(
        {
            "id": int,
            "source_key": str,  # unique: the event and recipient (a replay adds no second)
            "kind": str,  # request, active, declined, expired, ended, approved, ...
            "match_id": int,
            "volunteer_id": int,
            "chat_id": int,  # the recipient
            "about_user": int,  # whose details the text carries (erased with them)
            "lang": str,  # the recipient's language when it was written
            "text": str,
            "buttons": str,  # JSON: rows of [label, callback data]
            "links": str,  # JSON: [fragment, url] pairs
            "status": str,  # pending | delivered | failed | dropped
            "created_at": str,
            "tried_at": str,  # last handed to the adapter
            "delivered_at": str,
            "message_id": int,
        },
        pk="id",
    )
    db["mentor_notices"].create_index(["source_key"], unique=True)
    db["mentor_notices"].create_index(["status", "tried_at"])
    db["mentor_notices"].create_index(["chat_id"])
    db["mentor_notices"].create_index(["match_id"])


def migrate_011_mentor_notice_tries(db: sqlite_utils.Database) -> None:
    """Migration "011_mentor_notice_tries": how often housekeeping sent a notice again."""
    db["mentor_notices"].add_column("tries", int, not_null_default=0)


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


@dataclass(frozen=True)
class Volunteer:
    id: int
    user_id: int
    status: str
    display_name: str
    country: str
    city: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    availability: str
    capacity: int
    intro: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Volunteer:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            status=row["status"],
            display_name=row["display_name"] or "",
            country=row["country"] or "",
            city=row["city"] or "",
            languages=_codes(row["languages"]),
            topics=_codes(row["topics"]),
            availability=row["availability"] or "",
            capacity=int(row["capacity"] or 1),
            intro=row["intro"] or "",
        )


@dataclass(frozen=True)
class Match:
    id: int
    newcomer_id: int | None
    volunteer_id: int
    volunteer_user_id: int | None
    volunteer_name: str
    topic: str
    state: str
    newcomer_name: str
    newcomer_country: str
    newcomer_city: str
    newcomer_languages: tuple[str, ...]
    newcomer_note: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Match:
        return cls(
            id=row["id"],
            newcomer_id=row["newcomer_id"],
            volunteer_id=row["volunteer_id"],
            volunteer_user_id=row["volunteer_user_id"],
            volunteer_name=row["volunteer_name"] or "",
            topic=row["topic"],
            state=row["state"],
            newcomer_name=row["newcomer_name"] or "",
            newcomer_country=row["newcomer_country"] or "",
            newcomer_city=row["newcomer_city"] or "",
            newcomer_languages=_codes(row["newcomer_languages"]),
            newcomer_note=row["newcomer_note"] or "",
        )

    def role_of(self, user_id: int) -> str | None:
        if user_id == self.newcomer_id:
            return "newcomer"
        if user_id == self.volunteer_user_id:
            return "volunteer"
        return None

    def other(self, user_id: int) -> tuple[int | None, str]:
        """The other side's user id and display name."""
        if user_id == self.newcomer_id:
            return self.volunteer_user_id, self.volunteer_name
        return self.newcomer_id, self.newcomer_name

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class MentoringStore:
    """Queries named for what they mean; each change is committed before the caller replies."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def _now(self) -> str:
        return self.store.clock().isoformat()

    # --- volunteers --------------------------------------------------------------------------

    def volunteer(self, volunteer_id: int) -> Volunteer | None:
        rows = list(self.db["volunteers"].rows_where("id = ?", [volunteer_id]))
        return Volunteer.from_row(rows[0]) if rows else None

    def volunteer_of(self, user_id: int) -> Volunteer | None:
        rows = list(self.db["volunteers"].rows_where("user_id = ?", [user_id]))
        return Volunteer.from_row(rows[0]) if rows else None

    def submit_volunteer(
        self,
        user_id: int,
        profile: dict[str, Any],
        capacity: int,
        *,
        notices: Callable[[Volunteer], Iterable[dict[str, Any]]] = lambda _: (),
    ) -> Volunteer:
        """Create or replace the user's volunteer profile; it waits for an admin again. In the
        same transaction the form is dropped and `notices(volunteer)` are stored."""
        row = {
            "user_id": user_id,
            "status": "pending",
            "display_name": profile["name"],
            "country": profile["country"],
            "city": profile["city"],
            "languages": ",".join(profile["languages"]),
            "topics": ",".join(profile["topics"]),
            "availability": profile["availability"],
            "capacity": capacity,
            "intro": profile["intro"],
            "updated_at": self._now(),
            "decided_by": None,
            "decided_at": None,
        }
        existing = self.volunteer_of(user_id)
        with self.db.atomic():
            if existing is None:
                self.db["volunteers"].insert(row | {"created_at": self._now()})
            else:
                self.db["volunteers"].update(existing.id, row)
            volunteer = self.volunteer_of(user_id)
            assert volunteer is not None
            self.db.execute(
                "DELETE FROM mentor_drafts WHERE user_id = ? AND kind = 'volunteer'", [user_id]
            )
            self._add_notices(notices(volunteer))
        return volunteer

    def set_status(
        self,
        volunteer_id: int,
        old: tuple[str, ...],
        new: str,
        *,
        by: int | None = None,
        notices: Iterable[dict[str, Any]] = (),
    ) -> bool:
        """Move a volunteer from one of `old` to `new`; False if it was not in `old`. The
        `notices` are stored with the change (and only if it happened)."""
        marks = ",".join("?" * len(old))
        fields = "status = ?, updated_at = ?"
        values: list[Any] = [new, self._now()]
        if by is not None:
            fields += ", decided_by = ?, decided_at = ?"
            values += [by, self._now()]
        with self.db.atomic():
            cursor = self.db.execute(
                f"UPDATE volunteers SET {fields} WHERE id = ? AND status IN ({marks})",
                [*values, volunteer_id, *old],
            )
            if cursor.rowcount == 1:
                self._add_notices(notices)
        return cursor.rowcount == 1

    def delete_volunteer(self, user_id: int) -> None:
        with self.db.atomic():
            self.db["volunteers"].delete_where("user_id = ?", [user_id])

    def pending_volunteers(self) -> list[Volunteer]:
        rows = self.db["volunteers"].rows_where("status = 'pending'", order_by="id")
        return [Volunteer.from_row(row) for row in rows]

    def approved_in(self, country: str) -> list[Volunteer]:
        rows = self.db["volunteers"].rows_where(
            "status = 'approved' AND country = ?", [country], order_by="id"
        )
        return [Volunteer.from_row(row) for row in rows]

    def busy_counts(self) -> dict[int, int]:
        """Volunteer user id -> matches that take their time (waiting for them, or active)."""
        rows = self.db.execute(
            "SELECT volunteer_user_id, COUNT(*) FROM mentor_matches WHERE state IN (?, ?) "
            "GROUP BY volunteer_user_id",
            list(BUSY_STATES),
        ).fetchall()
        return {row[0]: row[1] for row in rows if row[0] is not None}

    def earlier_partners(self, newcomer_id: int) -> set[int]:
        """Volunteers already proposed to this newcomer (a pair is never proposed twice)."""
        rows = self.db.execute(
            "SELECT DISTINCT volunteer_user_id FROM mentor_matches WHERE newcomer_id = ?",
            [newcomer_id],
        ).fetchall()
        return {row[0] for row in rows if row[0] is not None}

    # --- matches -----------------------------------------------------------------------------

    def propose(self, request: dict[str, Any], volunteer: Volunteer) -> Match:
        now = self._now()
        with self.db.atomic():
            table = self.db["mentor_matches"].insert(
                {
                    "newcomer_id": request["newcomer_id"],
                    "volunteer_id": volunteer.id,
                    "volunteer_user_id": volunteer.user_id,
                    "volunteer_name": volunteer.display_name,
                    "topic": request["topic"],
                    "state": "proposed",
                    "newcomer_name": request["name"],
                    "newcomer_country": request["country"],
                    "newcomer_city": request["city"],
                    "newcomer_languages": ",".join(request["languages"]),
                    "newcomer_note": request.get("note") or "",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        match = self.match(int(table.last_pk))
        assert match is not None
        return match

    def match(self, match_id: int) -> Match | None:
        rows = list(self.db["mentor_matches"].rows_where("id = ?", [match_id]))
        return Match.from_row(rows[0]) if rows else None

    def move(
        self,
        match_id: int,
        old: tuple[str, ...],
        new: str,
        *,
        notices: Iterable[dict[str, Any]] = (),
        **fields: Any,
    ) -> bool:
        """Compare-and-set the state, storing `notices` in the same transaction (only if the
        state changed). Closing a match blanks the contacts (also in notices not yet sent or
        already sent), ending it the newcomer's note (a declined or expired request keeps it
        for the next proposal: `drop_note`)."""
        marks = ",".join("?" * len(old))
        changes = {"state": new, "updated_at": self._now(), **fields}
        if new in ("ended", "reported"):
            changes["newcomer_note"] = ""
        sets = ", ".join(f"{key} = ?" for key in changes)
        with self.db.atomic():
            cursor = self.db.execute(
                f"UPDATE mentor_matches SET {sets} WHERE id = ? AND state IN ({marks})",
                [*changes.values(), match_id, *old],
            )
            if cursor.rowcount == 1 and new in CLOSED_STATES:
                self.db.execute(
                    "UPDATE mentor_consents SET contact = NULL WHERE match_id = ?", [match_id]
                )
                self._forget_contacts_in_notices(match_id)
            if cursor.rowcount == 1:
                self._add_notices(notices)
        return cursor.rowcount == 1

    def stale(self, state: str, before: str) -> list[Match]:
        """Matches in `state` untouched since `before` (an ISO time), oldest first."""
        rows = self.db["mentor_matches"].rows_where(
            "state = ? AND updated_at <= ?", [state, before], order_by="updated_at, id"
        )
        return [Match.from_row(row) for row in rows]

    def drop_note(self, match_id: int) -> None:
        with self.db.atomic():
            self.db["mentor_matches"].update(match_id, {"newcomer_note": ""})

    def open_matches_of(self, user_id: int) -> list[Match]:
        marks = ",".join("?" * len(OPEN_STATES))
        rows = self.db["mentor_matches"].rows_where(
            f"(newcomer_id = ? OR volunteer_user_id = ?) AND state IN ({marks})",
            [user_id, user_id, *OPEN_STATES],
            order_by="id",
        )
        return [Match.from_row(row) for row in rows]

    def open_request_of(self, newcomer_id: int) -> Match | None:
        """The newcomer's one open match, if any."""
        found = [m for m in self.open_matches_of(newcomer_id) if m.newcomer_id == newcomer_id]
        return found[0] if found else None

    def open_matches_of_volunteer(self, user_id: int) -> list[Match]:
        return [m for m in self.open_matches_of(user_id) if m.volunteer_user_id == user_id]

    # --- consents ----------------------------------------------------------------------------

    def consent(self, match_id: int, user_id: int, role: str, contact: str) -> None:
        with self.db.atomic():
            self.db["mentor_consents"].upsert(
                {
                    "match_id": match_id,
                    "user_id": user_id,
                    "role": role,
                    "contact": contact,
                    "consented_at": self._now(),
                },
                pk=("match_id", "user_id"),
            )

    def contact_of(self, match_id: int, user_id: int | None) -> str | None:
        """The contact `user_id` agreed to share in this match (None without consent)."""
        if user_id is None:
            return None
        rows = list(
            self.db["mentor_consents"].rows_where(
                "match_id = ? AND user_id = ?", [match_id, user_id]
            )
        )
        return rows[0]["contact"] if rows and rows[0]["contact"] else None

    # --- the outbox of notices ----------------------------------------------------------------

    def _add_notices(self, notices: Iterable[dict[str, Any]]) -> None:
        """Store notices (inside the caller's transaction); a source key seen before is kept
        as it is, so a replayed update adds no second notice."""
        now = self._now()
        for notice in notices:
            row = notice | {"status": "pending", "created_at": now, "tried_at": now}
            columns = ", ".join(row)
            self.db.execute(
                f"INSERT OR IGNORE INTO mentor_notices ({columns}) "
                f"VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )

    def _forget_contacts_in_notices(self, match_id: int) -> None:
        """A closed match: its contact notices are emptied and, if unsent, never sent."""
        self.db.execute(
            "UPDATE mentor_notices SET text = '', links = '[]', buttons = '[]', "
            "status = CASE WHEN status = 'pending' THEN 'dropped' ELSE status END "
            "WHERE match_id = ? AND kind = 'active'",
            [match_id],
        )

    def notices_by_keys(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        keys = list(keys)
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        return list(
            self.db["mentor_notices"].rows_where(f"source_key IN ({marks})", keys, order_by="id")
        )

    def notice(self, notice_id: int) -> dict[str, Any] | None:
        rows = list(self.db["mentor_notices"].rows_where("id = ?", [notice_id]))
        return rows[0] if rows else None

    def unsent_notices(self, cutoff: str, started: str) -> list[dict[str, Any]]:
        """Pending notices last handed to the adapter at `cutoff` or before, or before
        `started` (by an earlier process: they cannot be in flight now)."""
        return list(
            self.db["mentor_notices"].rows_where(
                "status = 'pending' AND (tried_at <= ? OR tried_at < ?)",
                [cutoff, started],
                order_by="id",
            )
        )

    def give_up_notices(self, tries: int, days: float) -> int:
        """Pending notices sent again at least `tries` times, the last one `days` or more after
        they were written, are marked failed: not retried forever when sending keeps failing
        (a bot that was down for days still tries its notices first)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE mentor_notices SET status = 'failed' WHERE status = 'pending' "
                "AND tries >= ? AND julianday(tried_at) - julianday(created_at) >= ?",
                [tries, days],
            )
        return cursor.rowcount

    def set_notice(self, notice_id: int, **fields: Any) -> None:
        with self.db.atomic():
            self.db["mentor_notices"].update(notice_id, fields)

    def tried(self, notice_ids: Iterable[int]) -> None:
        now = self._now()
        with self.db.atomic():
            for notice_id in notice_ids:
                self.db.execute(
                    "UPDATE mentor_notices SET tried_at = ?, tries = tries + 1 WHERE id = ?",
                    [now, notice_id],
                )

    # --- forms in progress -------------------------------------------------------------------

    def draft(self, user_id: int, kind: str) -> dict[str, Any] | None:
        rows = list(
            self.db["mentor_drafts"].rows_where("user_id = ? AND kind = ?", [user_id, kind])
        )
        return json.loads(rows[0]["data"]) if rows else None

    def save_draft(self, user_id: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        with self.db.atomic():
            self.db["mentor_drafts"].upsert(
                {
                    "user_id": user_id,
                    "kind": kind,
                    "data": json.dumps(data, ensure_ascii=False),
                    "updated_at": self._now(),
                },
                pk=("user_id", "kind"),
            )
        return data

    def drop_draft(self, user_id: int, kind: str) -> None:
        with self.db.atomic():
            self.db["mentor_drafts"].delete_where("user_id = ? AND kind = ?", [user_id, kind])

    # --- export and erase --------------------------------------------------------------------

    def export_user(self, user_id: int) -> dict[str, Any]:
        """The user's own mentoring data; nothing about the people they were matched with."""
        volunteer = list(self.db["volunteers"].rows_where("user_id = ?", [user_id]))
        matches = []
        for row in self.db["mentor_matches"].rows_where(
            "newcomer_id = ? OR volunteer_user_id = ?", [user_id, user_id], order_by="id"
        ):
            mine = row["newcomer_id"] == user_id
            item = {
                "id": row["id"],
                "role": "newcomer" if mine else "volunteer",
                "topic": row["topic"],
                "state": row["state"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
            if mine:
                item |= {
                    "my_name": row["newcomer_name"],
                    "my_city": row["newcomer_city"],
                    "my_languages": row["newcomer_languages"],
                    "my_note": row["newcomer_note"],
                }
            if row["closed_by"] == item["role"] and row["report_reason"]:
                item["my_report"] = row["report_reason"]
            consents = list(
                self.db["mentor_consents"].rows_where(
                    "match_id = ? AND user_id = ?", [row["id"], user_id]
                )
            )
            item["my_consent"] = consents[0] if consents else None
            matches.append(item)
        drafts = list(self.db["mentor_drafts"].rows_where("user_id = ?", [user_id]))
        return {
            "volunteer_profile": volunteer[0] if volunteer else None,
            "matches": matches,
            "unfinished_forms": drafts,
            "notices": self._notices_to(user_id),
        }

    def _notices_to(self, user_id: int) -> list[dict[str, Any]]:
        """What was sent to the user and whether it arrived; not the texts, which show the
        other person's name, profile or contact."""
        rows = self.db["mentor_notices"].rows_where(
            "chat_id = ?",
            [user_id],
            select="id, kind, match_id, volunteer_id, status, created_at, delivered_at",
            order_by="id",
        )
        return list(rows)

    def erase_user(self, user_id: int) -> None:
        """Delete the user's volunteer profile, consents, forms and notices; in matches that
        other people remember, blank everything about the user (end them first: see
        Mentoring)."""
        with self.db.atomic():
            self.db["volunteers"].delete_where("user_id = ?", [user_id])
            self.db["mentor_consents"].delete_where("user_id = ?", [user_id])
            self.db["mentor_drafts"].delete_where("user_id = ?", [user_id])
            # notices to the user, and those carrying their contact, profile or report
            self.db.execute(
                "DELETE FROM mentor_notices WHERE chat_id = ? OR about_user = ?",
                [user_id, user_id],
            )
            self.db.execute(
                "UPDATE mentor_matches SET newcomer_id = NULL, newcomer_name = '', "
                "newcomer_city = '', newcomer_country = '', newcomer_languages = '', "
                "newcomer_note = '', report_reason = CASE WHEN closed_by = 'newcomer' "
                "THEN '' ELSE report_reason END WHERE newcomer_id = ?",
                [user_id],
            )
            self.db.execute(
                "UPDATE mentor_matches SET volunteer_user_id = NULL, volunteer_name = '', "
                "report_reason = CASE WHEN closed_by = 'volunteer' THEN '' ELSE report_reason END "
                "WHERE volunteer_user_id = ?",
                [user_id],
            )
