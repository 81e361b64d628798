"""Guided pathways (knowledge/pathways/*.yaml): a self-assessment and a list of steps.

A pathway is data: questions whose options score dimensions, thresholds that turn a
dimension's score into a strength or a gap, and steps with conditions on the profile and on
the gaps. The step model does not depend on the questions, so a pathway without any
questions (e.g. departure and return) is a plain, profile-conditioned step list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

# The conditions a step may have, besides `gap` (dimension ids of the same pathway).
PROFILE_CONDITIONS = ("country", "city", "stage", "citizenship", "purpose")
STEP_CONDITIONS = (*PROFILE_CONDITIONS, "gap")


def _pick(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or ""


@dataclass(frozen=True)
class Option:
    id: str
    labels: Mapping[str, str]
    scores: Mapping[str, int]  # dimension id -> points

    def label(self, lang: str) -> str:
        return _pick(self.labels, lang)


@dataclass(frozen=True)
class Question:
    id: str
    texts: Mapping[str, str]
    options: tuple[Option, ...]

    def text(self, lang: str) -> str:
        return _pick(self.texts, lang)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Dimension:
    """What the questions measure (e.g. finances). A score at or below `gap_at_most` is a
    gap, at or above `strength_at_least` a strength; in between it is neither."""

    id: str
    names: Mapping[str, str]
    gap_at_most: int
    strength_at_least: int
    gap_texts: Mapping[str, str]
    strength_texts: Mapping[str, str]

    def name(self, lang: str) -> str:
        return _pick(self.names, lang)

    def gap(self, lang: str) -> str:
        return _pick(self.gap_texts, lang)

    def strength(self, lang: str) -> str:
        return _pick(self.strength_texts, lang)


@dataclass(frozen=True)
class Step:
    """One thing to do, with the services that help and the conditions it is shown under."""

    id: str
    titles: Mapping[str, str]
    texts: Mapping[str, str]
    reviewed: dt.date
    services: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # official pages beyond the services' own websites
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    focus: tuple[str, ...] = ()  # dimensions: the step comes first when one of them is a gap
    due: int | None = None  # days from the day it is added to the checklist

    def title(self, lang: str) -> str:
        return _pick(self.titles, lang)

    def text(self, lang: str) -> str:
        return _pick(self.texts, lang)


@dataclass(frozen=True)
class Pathway:
    id: str
    titles: Mapping[str, str]
    intros: Mapping[str, str]
    dimensions: tuple[Dimension, ...]
    questions: tuple[Question, ...]
    steps: tuple[Step, ...]
    source_file: str = ""

    def title(self, lang: str) -> str:
        return _pick(self.titles, lang)

    def intro(self, lang: str) -> str:
        return _pick(self.intros, lang)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def dimension(self, dimension_id: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.id == dimension_id), None)
