"""Loading and validating the knowledge: every kind of problem names file, line and reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.knowledge.loader import load_knowledge
from tests.conftest import FIXTURE_KNOWLEDGE

TODAY = dt.date(2026, 11, 25)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(folder: Path) -> list[str]:
    knowledge, problems = load_knowledge(folder, today=TODAY)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert knowledge is None if errors else knowledge is not None
    return errors


def test_fixture_knowledge_loads_with_ids_indexed() -> None:
    knowledge, problems = load_knowledge(FIXTURE_KNOWLEDGE, today=TODAY)
    assert knowledge is not None
    assert [p for p in problems if p.severity == "error"] == []
    assert set(knowledge.intents) == {"personal-id-number", "bank-account", "moving-pets"}
    assert knowledge.intents["bank-account"].answer_for("EE").country == "default"
    assert knowledge.intents["personal-id-number"].answer_for("EE").country == "EE"
    assert knowledge.city("tartu").country == "EE"


def test_unknown_field_is_an_error_with_file_and_line(knowledge_dir: Path) -> None:
    faq = knowledge_dir / "faq" / "basics.yaml"
    _edit(faq, "    topic: money\n", "    topic: money\n    paraphrase: oops\n")
    errors = _errors(knowledge_dir)
    assert len(errors) == 1
    assert "basics.yaml:" in errors[0]
    assert "unknown field 'paraphrase'" in errors[0]
    line = int(errors[0].split("basics.yaml:")[1].split(":")[0])
    assert faq.read_text().splitlines()[line - 1].strip() == "paraphrase: oops"


def test_missing_answer_language_claimed_by_paraphrases_is_an_error(knowledge_dir: Path) -> None:
    _edit(
        knowledge_dir / "faq" / "basics.yaml",
        "        uk: У Фінляндії особистий код (henkilötunnus) видає DVV.\n",
        "",
    )
    errors = _errors(knowledge_dir)
    assert any("answer FI has no 'uk' text" in e for e in errors), errors


def test_duplicate_intent_id_names_both_places(knowledge_dir: Path) -> None:
    _edit(knowledge_dir / "faq" / "basics.yaml", "  - id: moving-pets", "  - id: bank-account")
    errors = _errors(knowledge_dir)
    assert any("duplicate id" in e and "bank-account" in e for e in errors), errors


def test_reference_to_missing_service_is_an_error(knowledge_dir: Path) -> None:
    _edit(knowledge_dir / "faq" / "basics.yaml", "[fi-ih-helsinki]", "[fi-nowhere]")
    errors = _errors(knowledge_dir)
    assert any("missing service 'fi-nowhere'" in e for e in errors), errors


def test_unparseable_reviewed_date_is_an_error(knowledge_dir: Path) -> None:
    _edit(knowledge_dir / "faq" / "basics.yaml", "reviewed: 2020-01-01", "reviewed: last spring")
    errors = _errors(knowledge_dir)
    assert any("'reviewed' is not a date" in e and "last spring" in e for e in errors), errors


def test_yaml_syntax_error_names_file_and_line(knowledge_dir: Path) -> None:
    faq = knowledge_dir / "faq" / "basics.yaml"
    lines = faq.read_text().splitlines()
    lines[5] = lines[5] + " ]: ["
    faq.write_text("\n".join(lines))
    errors = _errors(knowledge_dir)
    assert len(errors) == 1
    assert "basics.yaml:6" in errors[0] and "YAML syntax" in errors[0]


def test_duplicate_key_in_a_mapping_is_an_error(knowledge_dir: Path) -> None:
    _edit(
        knowledge_dir / "faq" / "basics.yaml",
        "    topic: money\n",
        "    topic: money\n    topic: work\n",
    )
    errors = _errors(knowledge_dir)
    assert any("duplicate key 'topic'" in e for e in errors), errors


def test_stale_review_date_and_shared_paraphrase_are_warnings(knowledge_dir: Path) -> None:
    _edit(
        knowledge_dir / "faq" / "basics.yaml",
        "- can i bring my dog",
        "- how do i open a bank account",
    )
    knowledge, problems = load_knowledge(knowledge_dir, today=TODAY)
    assert knowledge is not None
    warnings = [str(p) for p in problems if p.severity == "warning"]
    assert any("over a year ago" in w for w in warnings)
    assert any("claimed by 'bank-account' and 'moving-pets'" in w for w in warnings)


def test_unknown_city_in_service_is_an_error(knowledge_dir: Path) -> None:
    _edit(knowledge_dir / "services" / "ee.yaml", "cities: [tartu]", "cities: [atlantis]")
    errors = _errors(knowledge_dir)
    assert any("unknown city 'atlantis'" in e for e in errors), errors


def test_intent_without_default_must_answer_every_country(knowledge_dir: Path) -> None:
    faq = knowledge_dir / "faq" / "basics.yaml"
    text = faq.read_text()
    start = text.index("      EE:\n        reviewed")
    end = text.index("  - id: bank-account")
    faq.write_text(text[:start] + text[end:])
    errors = _errors(knowledge_dir)
    assert any("no 'default' answer and none for ['EE']" in e for e in errors), errors


def test_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    knowledge, problems = load_knowledge(tmp_path / "nope", today=TODAY)
    assert knowledge is None
    assert "not found" in problems[0].message
