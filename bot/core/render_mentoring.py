"""Pure rendering for buddies and mentors: profile cards and choice keyboards.

A card shows what the other side agreed to show (display name, city, languages, topics,
availability, intro or note), never a Telegram username or id.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.replies import Button, rows
from bot.i18n import t
from bot.knowledge.model import Knowledge
from bot.mentoring_store import Match, Volunteer

Keyboard = tuple[tuple[Button, ...], ...]


def _place(knowledge: Knowledge, city_id: str, country: str, lang: str) -> str:
    city = knowledge.city(city_id)
    land = knowledge.countries.get(country)
    parts = [city.name(lang) if city else "", land.name(lang) if land else ""]
    return ", ".join(p for p in parts if p)


def _languages(knowledge: Knowledge, codes: Iterable[str], lang: str) -> str:
    return ", ".join(knowledge.mentoring.language_label(code, lang) for code in codes)


def volunteer_card(knowledge: Knowledge, volunteer: Volunteer, lang: str) -> str:
    catalog = knowledge.mentoring
    availability = catalog.availability.get(volunteer.availability)
    place = _place(knowledge, volunteer.city, volunteer.country, lang)
    lines = [
        f"👤 {volunteer.display_name} · {place}",
        f"{t(lang, 'mt_field_languages')}: {_languages(knowledge, volunteer.languages, lang)}",
        f"{t(lang, 'mt_field_topics')}: "
        + ", ".join(catalog.topic_label(topic, lang) for topic in volunteer.topics),
        f"{t(lang, 'mt_field_time')}: {availability.label(lang) if availability else '–'}",
        f"“{volunteer.intro}”",
    ]
    return "\n".join(lines)


def draft_card(knowledge: Knowledge, draft: dict, lang: str) -> str:
    """The volunteer's own form before it is sent for approval."""
    volunteer = Volunteer(
        id=0,
        user_id=0,
        status="draft",
        display_name=draft.get("name", ""),
        country=draft.get("country", ""),
        city=draft.get("city", ""),
        languages=tuple(draft.get("languages", ())),
        topics=tuple(draft.get("topics", ())),
        availability=draft.get("availability", ""),
        capacity=1,
        intro=draft.get("intro", ""),
    )
    return volunteer_card(knowledge, volunteer, lang)


def newcomer_card(knowledge: Knowledge, match: Match, lang: str) -> str:
    lines = [
        f"👤 {match.newcomer_name} · "
        f"{_place(knowledge, match.newcomer_city, match.newcomer_country, lang)}",
        f"{t(lang, 'mt_field_languages')}: {_languages(knowledge, match.newcomer_languages, lang)}",
        f"{t(lang, 'mt_field_wants')}: {knowledge.mentoring.topic_label(match.topic, lang)}",
    ]
    if match.newcomer_note:
        lines.append(f"“{match.newcomer_note}”")
    return "\n".join(lines)


def toggles(
    options: Iterable[tuple[str, str]], chosen: Iterable[str], prefix: str, done: str, lang: str
) -> Keyboard:
    """Multiple choice: one button per option (✅ when chosen) and a Done button."""
    picked = set(chosen)
    buttons = [
        Button(f"✅ {label}" if key in picked else label, f"{prefix}:{key}")
        for key, label in options
    ]
    return (*rows(buttons, 3), (Button(t(lang, "mt_done"), done),))


def choices(options: Iterable[tuple[str, str]], prefix: str, per_row: int = 2) -> Keyboard:
    """Single choice: one button per option."""
    return rows([Button(label, f"{prefix}:{key}") for key, label in options], per_row)
