"""Pure functions from domain values to replies: unit-testable without Telegram."""

from __future__ import annotations

import json

from bot.core.replies import Button, Document, Reply, rows
from bot.i18n import format_date, t
from bot.knowledge.model import City, Intent, Knowledge, Service
from bot.matching.matcher import Candidate
from bot.storage import Profile

MAX_RELATED = 3
MAX_SERVICES = 6
HUMAN_KINDS = ("international-house", "information-portal", "ngo", "municipality")


def answer_reply(
    knowledge: Knowledge, intent: Intent, profile: Profile, question_id: int | None
) -> Reply:
    """The answer for the user's country and language, with source, date and buttons."""
    lang = profile.lang
    answer = intent.answer_for(profile.country)
    if answer is None:  # only per-country answers and no country in the profile
        buttons = [
            Button(knowledge.countries[code].name(lang), f"ans:{intent.id}:{code}")
            for code in sorted(intent.answers)
            if code in knowledge.countries
        ]
        return Reply(t(lang, "answer_choose_country"), rows(buttons))
    parts = [intent.title(lang)]
    text = answer.texts.get(lang)
    if text is None:
        parts.append(t(lang, "translation_missing"))
        text = answer.texts["en"]
    parts += ["", text, ""]
    parts.append(f"{t(lang, 'sources')}: " + " · ".join(answer.sources))
    parts.append(f"{t(lang, 'reviewed')}: {format_date(lang, answer.reviewed)}")
    buttons: list[tuple[Button, ...]] = []
    if question_id is not None:
        buttons.append(
            (
                Button(t(lang, "feedback_label_up"), f"fb:up:{question_id}"),
                Button(t(lang, "feedback_label_down"), f"fb:dn:{question_id}"),
            )
        )
    related = [knowledge.intents[r] for r in intent.related if r in knowledge.intents]
    buttons += rows([Button(r.title(lang), f"ask:{r.id}") for r in related[:MAX_RELATED]], 1)
    buttons.append(
        (
            Button(t(lang, "who_can_help"), f"svc:{intent.id}"),
            Button(t(lang, "talk_to_person"), "human"),
        )
    )
    return Reply("\n".join(parts), tuple(buttons))


def suggestions_reply(
    knowledge: Knowledge, candidates: tuple[Candidate, ...], lang: str, *, none_data: str = "human"
) -> Reply:
    """ "Did you mean" buttons; "none of these" asks a person (with the question, if possible)."""
    buttons = [
        Button(knowledge.intents[c.intent_id].title(lang), f"ask:{c.intent_id}")
        for c in candidates
        if c.intent_id in knowledge.intents
    ]
    buttons.append(Button(t(lang, "none_of_these"), none_data))
    return Reply(t(lang, "did_you_mean"), rows(buttons, 1))


def _service_line(service: Service, lang: str) -> str:
    helps = service.helps_with.get(lang) or service.helps_with["en"]
    langs = ", ".join(service.languages)
    return (
        f"• {service.name}\n  {helps}\n  {service.website} ({t(lang, 'languages_label')}: {langs})"
    )


def services_reply(
    knowledge: Knowledge, intent: Intent, profile: Profile, city: City | None
) -> Reply:
    """Who can help with `intent` in the user's country (city-specific services first)."""
    lang = profile.lang
    country = city.country if city else profile.country
    city_id = city.id if city else profile.city
    found = knowledge.services_for(intent, country, city_id)[:MAX_SERVICES]
    place = t(lang, "services_in", city=city.name(lang)) if city else ""
    if not found:
        return Reply(t(lang, "no_services"), ((Button(t(lang, "talk_to_person"), "human"),),))
    lines = [t(lang, "services_title", topic=intent.title(lang), place=place), ""]
    lines += [_service_line(s, lang) for s in found]
    return Reply("\n".join(lines))


def human_services(knowledge: Knowledge, profile: Profile) -> list[Service]:
    """Advisers a newcomer can ask in person: international houses and info services."""
    found = [
        s
        for s in knowledge.services.values()
        if s.kind in HUMAN_KINDS
        and s.serves(profile.country, profile.city)
        and (profile.country is None or profile.country in s.countries)
    ]
    return sorted(
        found,
        key=lambda s: (HUMAN_KINDS.index(s.kind), profile.city not in s.cities, s.name),
    )[:MAX_SERVICES]


def human_reply(knowledge: Knowledge, profile: Profile, *, intro_key: str = "human_intro") -> Reply:
    lang = profile.lang
    found = human_services(knowledge, profile)
    lines = [t(lang, intro_key), ""] + [_service_line(s, lang) for s in found]
    return Reply("\n".join(lines).strip())


def unknown_reply(knowledge: Knowledge, profile: Profile) -> Reply:
    return human_reply(knowledge, profile, intro_key="unknown")


def export_reply(data: dict, lang: str) -> Reply:
    """Everything stored about the user, as a JSON file."""
    content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    return Reply(t(lang, "export_ready"), document=Document("softlanding-my-data.json", content))


def forget_confirm_reply(lang: str) -> Reply:
    buttons = (Button(t(lang, "forget_yes"), "fg:yes"), Button(t(lang, "forget_no"), "fg:no"))
    return Reply(t(lang, "forget_confirm"), (buttons,))
