"""Providers' answers suggested as FAQ entries, printed as YAML intents for admins to edit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml


def suggestions_yaml(rows: list[dict[str, Any]], *, today: dt.date | None = None) -> str:
    """A `faq/*.yaml` document with one draft intent per suggestion (ids to be chosen)."""
    today = today or dt.date.today()
    intents = []
    for row in rows:
        lang = row["lang"] or "en"
        country = row["country"] or "default"
        intents.append(
            {
                "id": f"suggested-{row['ticket_id']}",
                "title": {"en": "TODO: a short title"},
                "topic": "TODO",
                "phase": "any",
                "paraphrases": {lang: [row["question"]]},
                "keywords": [],
                "answers": {
                    country: {
                        "reviewed": today.isoformat(),
                        "sources": ["TODO: the official page this answer is based on"],
                        lang: row["answer"],
                    }
                },
            }
        )
    header = (
        f"# {len(intents)} FAQ suggestion(s) from providers' answers. Give each an id, title,\n"
        "# topic and sources, add paraphrases and translations, then move it to faq/.\n"
    )
    body = yaml.safe_dump(
        {"version": 1, "intents": intents}, allow_unicode=True, sort_keys=False, width=100
    )
    return header + body
