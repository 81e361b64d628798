"""/return: the departure and return pathway (knowledge/pathways/return.yaml) per profile.

Checked on the shipped knowledge, so an edit that shows Swedish grants in Estonia, offers
assisted return to EU citizens or drops the pension step fails here.
"""

from __future__ import annotations

from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Incoming, Reply
from bot.storage import Profile, Store, open_database
from tests.conftest import NOW

USER = 88


def make(holder: KnowledgeHolder, **fields: object) -> Assistant:
    assistant = Assistant(
        holder, Store(open_database(":memory:"), clock=lambda: NOW), clock=lambda: NOW
    )
    assistant.store.save_profile(Profile(user_id=USER, **fields))
    return assistant


def send(assistant: Assistant, kind: str, text: str) -> list[Reply]:
    return assistant.handle(Incoming(USER, kind, text))


def shown(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for row in r.buttons for b in row]


def test_non_eu_user_leaving_sweden_gets_the_remigration_grant_and_its_limits(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make(shipped_holder, lang="en", country="SE", stage="leaving", citizenship="other")
    text = shown(send(assistant, "command", "return"))
    assert "Skatteverket" in text and "Pensionsmyndigheten" in text
    assert "återvandringsbidrag" in text and "temporary protection" in text
    assert "form U2" not in text  # EU benefit export is for EU citizens
    assert "IOM Estonia" not in text and "PMLP" not in text  # other countries' programmes
    assert "https://www.migrationsverket.se" in text and "Reviewed:" in text


def test_eu_citizen_gets_benefit_export_but_no_assisted_return(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make(shipped_holder, lang="en", country="FI", stage="leaving", citizenship="eu")
    text = shown(send(assistant, "command", "return"))
    assert "form U2" in text and "DVV" in text and "https://www.tyoelake.fi" in text
    assert "assisted voluntary return" not in text


def test_estonia_in_ukrainian_points_to_iom_reintegration_and_diia_business(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make(shipped_holder, lang="uk", country="EE", stage="leaving", citizenship="other")
    replies = send(assistant, "command", "return")
    text = shown(replies)
    assert "IOM Estonia" in text and "https://estonia.iom.int" in text
    assert "малого бізнесу" in text and "https://business.diia.gov.ua" in text
    assert "📋 Додати кроки до мого списку справ" in labels(replies)


def test_finishing_onboarding_as_leaving_offers_the_pathway(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make(
        shipped_holder,
        lang="en",
        country="LV",
        stage="leaving",
        citizenship="other",
        onboarding_step="children",
    )
    replies = send(assistant, "button", "ob:children:no")
    assert "🧳 Leaving and going home" in labels(replies)
    text = shown(send(assistant, "button", "pw:return:go"))
    assert "IOM office in Riga" in text and "PMLP" in text


def test_people_who_stay_are_not_offered_the_pathway(shipped_holder: KnowledgeHolder) -> None:
    assistant = make(
        shipped_holder, lang="en", country="LV", stage="arrived", onboarding_step="children"
    )
    replies = send(assistant, "button", "ob:children:no")
    assert "🧳 Leaving and going home" not in labels(replies)


def test_return_steps_can_be_added_to_the_checklist(shipped_holder: KnowledgeHolder) -> None:
    assistant = make(shipped_holder, lang="en", country="SE", stage="leaving", citizenship="other")
    send(assistant, "command", "return")
    added = shown(send(assistant, "button", "pw:return:ck"))
    assert "Steps added to your checklist" in added
    checklist = shown(send(assistant, "command", "checklist"))
    assert "Re-migration grant (Sweden)" in checklist


def test_choosing_leaving_asks_the_departure_date_and_dates_the_leaving_checklist(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make(shipped_holder, lang="en", country="FI", onboarding_step="stage")
    asked = shown(send(assistant, "button", "ob:stage:leaving"))
    assert "When do you plan to leave?" in asked
    assert "citizen" not in asked  # the date comes first
    after = shown(send(assistant, "text", "31.1.2027"))
    assert "citizen of an EU/EEA country" in after
    for answer in ("ob:citizenship:other", "ob:purpose:work"):
        send(assistant, "button", answer)
    checklist = shown(send(assistant, "button", "ob:children:no"))  # the end of /start
    assert "Notify DVV of your move abroad — due" in checklist
    assert "January 2027" in checklist and "no date" not in checklist


def test_a_leaving_checklist_without_a_date_asks_for_the_departure_date(
    shipped_holder: KnowledgeHolder,
) -> None:
    assistant = make(
        shipped_holder, lang="ru", country="FI", stage="leaving", onboarding_step="departure"
    )
    send(assistant, "button", "ob:departure:-")  # skipped
    for answer in ("ob:citizenship:other", "ob:purpose:work"):
        send(assistant, "button", answer)
    checklist = shown(send(assistant, "button", "ob:children:no"))
    assert "без даты (укажите дату отъезда в /profile)" in checklist
    assert "дату приезда" not in checklist
