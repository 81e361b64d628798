"""The profile questions asked by /start and changed by /profile, one step at a time.

Each step shows buttons `ob:<step>:<value>`; `ob:<step>:-` skips. During /start the steps
run in order; from /profile a single step is asked and the profile is shown again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from bot.core.replies import Button, Reply, rows
from bot.i18n import LANGUAGES, catalogue, format_date, t
from bot.knowledge.model import Knowledge
from bot.storage import Profile

STEPS: tuple[str, ...] = (
    "lang",
    "country",
    "city",
    "stage",
    "arrival",
    "departure",
    "citizenship",
    "purpose",
    "children",
)
STAGES = ("planning", "arrived", "leaving")
PURPOSES = ("work", "study", "family", "business", "protection")
SKIP = "-"
_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{2})$"), ("d", "m", "yy")),
)


def parse_date(text: str, *, today: dt.date) -> dt.date | None:
    """A plausible date in ISO or day.month.year form; None if unreadable or absurd."""
    value = text.strip()
    for pattern, order in _DATE_PATTERNS:
        found = pattern.match(value)
        if not found:
            continue
        parts = dict(zip(order, (int(g) for g in found.groups()), strict=True))
        year = parts.get("y") or 2000 + parts["yy"]
        try:
            day = dt.date(year, parts["m"], parts["d"])
        except ValueError:
            return None
        if abs((day - today).days) > 366 * 5:
            return None
        return day
    return None


def next_step(profile: Profile, after: str | None) -> str | None:
    """The step that follows `after` in /start, skipping ones that do not apply."""
    start = 0 if after is None else STEPS.index(after) + 1
    for step in STEPS[start:]:
        if step == "city" and not profile.country:
            continue
        if step == "arrival" and profile.stage not in ("planning", "arrived"):
            continue
        if step == "departure" and profile.stage != "leaving":
            continue
        return step
    return None


def prompt(step: str, profile: Profile, knowledge: Knowledge) -> Reply:
    """The question of one step with its buttons."""
    lang = profile.lang
    skip = Button(t(lang, "skip"), f"ob:{step}:{SKIP}")
    if step == "lang":
        choices = [
            Button(catalogue(code)["language_name"], f"ob:lang:{code}") for code in LANGUAGES
        ]
        return Reply(t(lang, "choose_language"), rows(choices, 3))
    if step == "country":
        choices = [
            Button(c.name(lang), f"ob:country:{c.code}") for c in knowledge.countries.values()
        ]
        return Reply(t(lang, "choose_country"), (*rows(choices), (skip,)))
    if step == "city":
        country = knowledge.countries.get(profile.country or "")
        cities = country.cities if country else ()
        choices = [Button(c.name(lang), f"ob:city:{c.id}") for c in cities]
        return Reply(t(lang, "choose_city"), (*rows(choices, 3), (skip,)))
    if step == "stage":
        choices = [Button(t(lang, f"stage_{s}"), f"ob:stage:{s}") for s in STAGES]
        return Reply(t(lang, "choose_stage"), (*rows(choices, 1), (skip,)))
    if step == "arrival":
        key = "ask_arrival_arrived" if profile.stage == "arrived" else "ask_arrival_planning"
        return Reply(t(lang, key), ((Button(t(lang, "today"), "ob:arrival:today"), skip),))
    if step == "departure":
        return Reply(
            t(lang, "ask_departure"), ((Button(t(lang, "today"), "ob:departure:today"), skip),)
        )
    if step == "citizenship":
        choices = [
            Button(t(lang, f"citizenship_{c}"), f"ob:citizenship:{c}") for c in ("eu", "other")
        ]
        return Reply(t(lang, "choose_citizenship"), (*rows(choices, 1), (skip,)))
    if step == "purpose":
        choices = [Button(t(lang, f"purpose_{p}"), f"ob:purpose:{p}") for p in PURPOSES]
        return Reply(t(lang, "choose_purpose"), (*rows(choices), (skip,)))
    if step == "children":
        choices = [
            Button(t(lang, "answer_yes"), "ob:children:yes"),
            Button(t(lang, "answer_no"), "ob:children:no"),
        ]
        return Reply(t(lang, "choose_children"), (tuple(choices), (skip,)))
    raise ValueError(f"unknown onboarding step {step!r}")


def apply(
    step: str, value: str, profile: Profile, knowledge: Knowledge, *, today: dt.date
) -> Profile | None:
    """The profile with the answer of `step` applied, or None if the value is not valid."""
    if value == SKIP:
        return profile
    if step == "lang" and value in LANGUAGES:
        return replace(profile, lang=value)
    if step == "country" and value in knowledge.countries:
        city = profile.city if profile.country == value else None
        return replace(profile, country=value, city=city)
    if step == "city":
        city = knowledge.city(value)
        if city and city.country == profile.country:
            return replace(profile, city=value)
        return None
    if step == "stage" and value in STAGES:
        return replace(profile, stage=value)
    if step in ("arrival", "departure"):
        day = today if value == "today" else parse_date(value, today=today)
        if day is None:
            return None
        return replace(profile, **{f"{step}_date": day})
    if step == "citizenship" and value in ("eu", "other"):
        return replace(profile, citizenship=value)
    if step == "purpose" and value in PURPOSES:
        return replace(profile, purpose=value)
    if step == "children" and value in ("yes", "no"):
        return replace(profile, children=value == "yes")
    return None


def summary(profile: Profile, knowledge: Knowledge) -> Reply:
    """The profile as text with one button per field to change it."""
    lang = profile.lang
    unset = t(lang, "not_set")
    country = knowledge.countries.get(profile.country or "")
    city = knowledge.city(profile.city)
    values = {
        "lang": catalogue(lang)["language_name"],
        "country": country.name(lang) if country else unset,
        "city": city.name(lang) if city else unset,
        "stage": t(lang, f"stage_{profile.stage}") if profile.stage else unset,
        "arrival_date": format_date(lang, profile.arrival_date) if profile.arrival_date else unset,
        "departure_date": format_date(lang, profile.departure_date)
        if profile.departure_date
        else unset,
        "citizenship": t(lang, f"citizenship_{profile.citizenship}")
        if profile.citizenship
        else unset,
        "purpose": t(lang, f"purpose_{profile.purpose}") if profile.purpose else unset,
        "children": unset
        if profile.children is None
        else t(lang, "answer_yes" if profile.children else "answer_no"),
    }
    lines = [t(lang, "profile_title"), ""]
    lines += [f"{t(lang, 'field_' + key)}: {value}" for key, value in values.items()]
    lines += ["", t(lang, "profile_hint")]
    step_of = {"arrival_date": "arrival", "departure_date": "departure"}
    buttons = [Button(t(lang, "field_" + key), f"pf:{step_of.get(key, key)}") for key in values]
    return Reply("\n".join(lines), rows(buttons, 2))
