"""Notices of the mentoring outbox as the core sees them: a stored row from a `Reply`, and back.

A notice is a message to someone other than the person who acted (the volunteer's request,
the newcomer's contact, an admin's approval queue, ...). It is stored in the same transaction
as the change it announces (see `MentoringStore.move`), handed to the adapter tagged
`mnotice:<id>`, and marked delivered or failed when the adapter reports back; housekeeping
sends the pending ones again.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.replies import Button, Reply
from bot.mentoring_store import Match

TAG = "mnotice"


def notice_row(
    reply: Reply,
    *,
    kind: str,
    key: str,
    lang: str,
    match: Match | None = None,
    volunteer_id: int | None = None,
    about: int | None = None,
) -> dict[str, Any]:
    """The row to store for `reply` (which must name its recipient in `chat_id`).

    `key` is unique per event and recipient, so storing the same event twice keeps one row;
    a notice about a match belongs to it and to its volunteer (`volunteer_id` is for one
    about a volunteer alone); `about` is the user whose details the text carries (erased
    with them)."""
    assert reply.chat_id is not None, "a notice goes to another chat"
    return {
        "source_key": key,
        "kind": kind,
        "match_id": match.id if match else None,
        "volunteer_id": match.volunteer_id if match else volunteer_id,
        "chat_id": reply.chat_id,
        "about_user": about,
        "lang": lang,
        "text": reply.text,
        "buttons": json.dumps(
            [[[b.label, b.data] for b in row] for row in reply.buttons], ensure_ascii=False
        ),
        "links": json.dumps([list(link) for link in reply.links], ensure_ascii=False),
    }


def notice_reply(row: dict[str, Any]) -> Reply:
    """The stored notice as the adapter sends it, tagged so that it reports back."""
    buttons = tuple(
        tuple(Button(label, data) for label, data in line) for line in json.loads(row["buttons"])
    )
    links = tuple((fragment, url) for fragment, url in json.loads(row["links"]))
    return Reply(
        row["text"], buttons, chat_id=row["chat_id"], links=links, tag=f"{TAG}:{row['id']}"
    )
