"""Scoring a pathway's self-assessment and choosing its steps for a profile.

Pure functions of the knowledge, the answers and the profile; the step selection does not
need an assessment at all (`gaps` empty), so any pathway's step list can be planned with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.knowledge.model import Knowledge, Service
from bot.knowledge.pathway_model import Dimension, Pathway, Question, Step
from bot.storage import Profile


@dataclass(frozen=True)
class Assessment:
    scores: Mapping[str, int]  # dimension id -> points
    strengths: tuple[Dimension, ...]
    gaps: tuple[Dimension, ...]

    @property
    def gap_ids(self) -> frozenset[str]:
        return frozenset(d.id for d in self.gaps)


@dataclass(frozen=True)
class PlannedStep:
    step: Step
    services: tuple[Service, ...]  # those for the user's place, city-specific ones first
    first: bool  # it helps with one of the user's gaps, so it comes first and is marked


def valid_answers(pathway: Pathway, answers: Mapping[str, str]) -> dict[str, str]:
    """The answers that still fit the pathway (an admin may have changed the questions)."""
    out = {}
    for question in pathway.questions:
        option_id = answers.get(question.id)
        if option_id is not None and question.option(option_id) is not None:
            out[question.id] = option_id
    return out


def next_question(pathway: Pathway, answers: Mapping[str, str]) -> Question | None:
    """The first question without a valid answer; None when all are answered."""
    done = valid_answers(pathway, answers)
    return next((q for q in pathway.questions if q.id not in done), None)


def assess(pathway: Pathway, answers: Mapping[str, str]) -> Assessment:
    """Sum the points of the chosen options per dimension and compare with the thresholds."""
    scores = {d.id: 0 for d in pathway.dimensions}
    for question_id, option_id in valid_answers(pathway, answers).items():
        question = pathway.question(question_id)
        option = question.option(option_id) if question else None
        for dim, points in (option.scores if option else {}).items():
            scores[dim] = scores.get(dim, 0) + points
    strengths = tuple(d for d in pathway.dimensions if scores[d.id] >= d.strength_at_least)
    gaps = tuple(d for d in pathway.dimensions if scores[d.id] <= d.gap_at_most)
    return Assessment(scores, strengths, gaps)


def step_applies(step: Step, profile: Profile, gaps: frozenset[str]) -> bool:
    """True when every condition of the step holds.

    Country and city must be known and listed (a local step is wrong for someone elsewhere);
    a skipped stage, citizenship or purpose counts as met, as in the checklist planning.
    """
    values = {
        "country": profile.country,
        "city": profile.city,
        "stage": profile.stage,
        "citizenship": profile.citizenship,
        "purpose": profile.purpose,
    }
    for field, allowed in step.when.items():
        if field == "gap":
            if not gaps & set(allowed):
                return False
        elif field in ("country", "city"):
            if values[field] not in allowed:
                return False
        elif values[field] is not None and values[field] not in allowed:
            return False
    return True


def services_for(knowledge: Knowledge, step: Step, profile: Profile) -> tuple[Service, ...]:
    """The step's services for the user's country and city, the city's own first.

    A city service is shown only in that city: with no city (or another one) the user gets
    the nationwide services, which always exist for a country's steps.
    """
    found = []
    for service_id in step.services:
        service = knowledge.services.get(service_id)
        if service is None:
            continue
        if profile.country and profile.country not in service.countries:
            continue
        if service.cities and profile.city not in service.cities:
            continue
        found.append(service)
    return tuple(sorted(found, key=lambda s: not s.cities))  # stable: file order otherwise


def plan(
    knowledge: Knowledge,
    pathway: Pathway,
    profile: Profile,
    gaps: frozenset[str] = frozenset(),
) -> list[PlannedStep]:
    """The steps for this profile: those helping with a gap first, then the rest, each in
    file order. A step whose services all belong to other places is left out."""
    planned = []
    for step in pathway.steps:
        if not step_applies(step, profile, gaps):
            continue
        services = services_for(knowledge, step, profile)
        if step.services and not services:
            continue
        planned.append(PlannedStep(step, services, first=bool(gaps & set(step.focus))))
    return sorted(planned, key=lambda p: not p.first)
