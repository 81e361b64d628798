"""Matching a newcomer's request to volunteers, and the one proposal at a time they see.

`candidates` ranks approved volunteers for a `Request`; `Proposals` turns the best one into
a proposal (stored as a match in state "proposed") or says honestly that nobody fits yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core import render_mentoring as render
from bot.core.mentoring_context import MentoringContext
from bot.core.replies import Button, Reply
from bot.i18n import t
from bot.mentoring_store import Match, Volunteer
from bot.storage import Profile


@dataclass(frozen=True)
class Request:
    """What a newcomer asks for; matched against approved volunteers."""

    newcomer_id: int
    topic: str
    country: str
    city: str
    languages: tuple[str, ...]


def candidates(
    request: Request,
    volunteers: Iterable[Volunteer],
    *,
    busy: Mapping[int, int],
    excluded: set[int],
    city_only: bool,
) -> list[Volunteer]:
    """Volunteers who fit, best first.

    A fit: approved, not the newcomer themselves, in the newcomer's country (their city when
    the topic is local), offering the topic, sharing a language, with capacity left, and
    never proposed to this newcomer before. Ranked by same city first, then the number of
    shared languages, then the fewest current matches, then the longest-standing volunteer.
    """
    wanted = set(request.languages)

    def fits(v: Volunteer) -> bool:
        return (
            v.status == "approved"
            and v.user_id != request.newcomer_id
            and v.user_id not in excluded
            and v.country == request.country
            and (v.city == request.city or not city_only)
            and request.topic in v.topics
            and bool(wanted & set(v.languages))
            and busy.get(v.user_id, 0) < v.capacity
        )

    return sorted(
        filter(fits, volunteers),
        key=lambda v: (
            v.city != request.city,
            -len(wanted & set(v.languages)),
            busy.get(v.user_id, 0),
            v.id,
        ),
    )


class Proposals:
    """Proposals for a request: the first, and the next after a decline."""

    def __init__(self, ctx: MentoringContext) -> None:
        self.ctx = ctx
        self.data = ctx.data

    def propose(self, profile: Profile, request: dict[str, Any]) -> list[Reply]:
        """The best volunteer for the request, as a proposal; or an honest "nobody yet"."""
        lang = profile.lang
        topic = self.ctx.catalog.topics.get(request["topic"])
        wanted = Request(
            newcomer_id=profile.user_id,
            topic=request["topic"],
            country=request["country"],
            city=request["city"],
            languages=tuple(request["languages"]),
        )
        found = candidates(
            wanted,
            self.data.approved_in(wanted.country),
            busy=self.data.busy_counts(),
            excluded=self.data.earlier_partners(profile.user_id),
            city_only=topic is not None and topic.scope == "city",
        )
        if not found:
            city = self.ctx.knowledge.city(wanted.city)
            text = t(
                lang,
                "mt_buddy_none",
                topic=self.ctx.catalog.topic_label(wanted.topic, lang),
                place=city.name(lang) if city else wanted.city,
            )
            return [Reply(text, ((Button(t(lang, "mt_other_topic"), "mt:new"),),))]
        match = self.data.propose(request, found[0])
        return [self.proposal(lang, match, found[0])]

    def proposal(self, lang: str, match: Match, volunteer: Volunteer) -> Reply:
        text = "\n\n".join(
            [
                t(lang, "mt_proposal", topic=self.ctx.catalog.topic_label(match.topic, lang)),
                render.volunteer_card(self.ctx.knowledge, volunteer, lang),
                t(lang, "mt_proposal_consent", name=volunteer.display_name),
            ]
        )
        buttons = (
            (Button(t(lang, "mt_accept"), f"mt:na:{match.id}"),),
            (Button(t(lang, "mt_someone_else"), f"mt:nd:{match.id}"),),
            (Button(t(lang, "consent_cancel"), f"mt:nx:{match.id}"),),
        )
        return Reply(text, buttons)

    def next_proposal(self, profile: Profile, match: Match) -> list[Reply]:
        """Another proposal for the same request (after a decline)."""
        request = {
            "newcomer_id": profile.user_id,
            "topic": match.topic,
            "country": match.newcomer_country,
            "city": match.newcomer_city,
            "languages": list(match.newcomer_languages),
            "name": match.newcomer_name,
            "note": match.newcomer_note,
        }
        self.data.drop_note(match.id)  # it moves on to the new proposal
        return self.propose(profile, request)
