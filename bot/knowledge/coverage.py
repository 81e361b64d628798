"""Coverage of the knowledge: intents × countries × languages, and catalog completeness."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.knowledge.model import BOT_LANGUAGES, DEFAULT_ANSWER, Knowledge


def coverage_cell(knowledge: Knowledge, intent_id: str, country: str) -> str:
    """Languages the user in `country` gets an answer in: upper case = country-specific,
    lower case = the general answer, '-' = none."""
    intent = knowledge.intents[intent_id]
    answer = intent.answers.get(country)
    specific = answer is not None
    answer = answer or intent.answers.get(DEFAULT_ANSWER)
    if answer is None:
        return "-" * len(BOT_LANGUAGES)
    return "".join(
        (lang[0].upper() if specific else lang[0]) if lang in answer.texts else "."
        for lang in BOT_LANGUAGES
    )


def coverage_table(knowledge: Knowledge) -> str:
    countries = list(knowledge.countries)
    width = max((len(i) for i in knowledge.intents), default=10)
    head = f"{'intent':<{width}}  " + "  ".join(f"{c:^3}" for c in countries) + "  paraphrases"
    lines = [head, "-" * len(head)]
    full = cells = 0
    for intent_id in sorted(knowledge.intents):
        intent = knowledge.intents[intent_id]
        row = [coverage_cell(knowledge, intent_id, c) for c in countries]
        cells += len(row) * len(BOT_LANGUAGES)
        full += sum(ch not in ".-" for cell in row for ch in cell)
        counts = "/".join(str(len(intent.paraphrases.get(lang, ()))) for lang in BOT_LANGUAGES)
        lines.append(f"{intent_id:<{width}}  " + "  ".join(row) + f"  {counts}")
    lines.append("")
    lines.append(
        f"{len(knowledge.intents)} intents, {len(knowledge.services)} services, "
        f"{len(countries)} countries; answers for {full} of {cells} intent×country×language "
        f"cells (E/R/U = country answer in en/ru/uk, e/r/u = general answer, . = missing)"
    )
    return "\n".join(lines)


def catalog_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return [item["id"] for item in data["intents"]]


def missing_from_catalog(knowledge: Knowledge, catalog: Path) -> list[str]:
    """Catalog intent ids that the knowledge does not contain."""
    return [i for i in catalog_ids(catalog) if i not in knowledge.intents]
