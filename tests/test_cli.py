"""The command line as users and evaluations call it: chat, match --jsonl, knowledge check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CATALOG, FIXTURE_KNOWLEDGE, ROOT


def run(args: list[str], tmp_path: Path, stdin: str = "", knowledge: Path = FIXTURE_KNOWLEDGE):
    env = dict(
        os.environ,
        KNOWLEDGE_DIR=str(knowledge),
        DATABASE_PATH=str(tmp_path / "t.db"),
        LOG_LEVEL="WARNING",
        TELEGRAM_BOT_TOKEN="",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_piped_chat_prints_the_answer_and_exits(tmp_path: Path) -> None:
    done = run(
        ["chat", "--country", "FI", "--lang", "en"], tmp_path, "how do I open a bank account?\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Bank account" in done.stdout and "Source: https://europa.eu/youreurope" in done.stdout
    assert "[1] 👍" in done.stdout


def test_chat_without_profile_starts_onboarding_and_buttons_are_pressed_by_number(
    tmp_path: Path,
) -> None:
    done = run(["chat"], tmp_path, "2\n2\n")
    assert done.returncode == 0, done.stderr
    assert "Which language" in done.stdout
    assert "В какую страну" in done.stdout  # [2] = Русский
    assert "В какой город" in done.stdout  # [2] = the second country's cities
    assert (tmp_path / "t.db").exists()


def test_chat_keeps_the_profile_in_the_sqlite_file_between_runs(tmp_path: Path) -> None:
    run(["chat", "--country", "EE", "--lang", "uk"], tmp_path, "")
    done = run(["chat"], tmp_path, "isikukood?\n")
    assert "В Естонії особистий код" in done.stdout


def test_match_jsonl_writes_one_line_per_question(tmp_path: Path) -> None:
    lines = [
        {"q": "how do I open a bank account?", "country": "FI", "lang": "en"},
        {"q": "will it rain on saturday?", "country": "EE", "lang": "en"},
        {"q": "спасибо!", "country": "EE", "lang": "ru"},
    ]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n"
    done = run(["match", "--jsonl"], tmp_path, stdin)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out[0]["intent"] == "bank-account" and out[0]["outcome"] == "answer"
    assert out[0]["candidates"][0] == "bank-account" and 0 <= out[0]["score"] <= 100
    assert out[1] == {
        "intent": None,
        "outcome": "unknown",
        "score": out[1]["score"],
        "candidates": out[1]["candidates"],
    }
    assert out[2]["smalltalk"] == "thanks" and out[2]["intent"] is None
    assert "error" in out[3]


def test_knowledge_check_passes_on_the_fixture_and_prints_coverage(tmp_path: Path) -> None:
    done = run(["knowledge", "check"], tmp_path)
    assert done.returncode == 0, done.stdout
    assert "bank-account" in done.stdout and "0 error(s)" in done.stdout
    assert "EEU" not in done.stdout and "ERU" in done.stdout  # FI answer in en, ru, uk


def test_knowledge_check_fails_with_file_and_line_on_errors(tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    import shutil

    shutil.copytree(FIXTURE_KNOWLEDGE, broken)
    faq = broken / "faq" / "basics.yaml"
    faq.write_text(faq.read_text().replace("topic: money", "topic: moneyy"))
    done = run(["knowledge", "check", "--dir", str(broken)], tmp_path)
    assert done.returncode == 1
    assert "basics.yaml:" in done.stdout and "unknown topic 'moneyy'" in done.stdout


def test_knowledge_check_reports_missing_catalog_intents(tmp_path: Path) -> None:
    done = run(["knowledge", "check", "--catalog", str(CATALOG)], tmp_path)
    assert done.returncode == 1
    assert "catalog intent 'residence-permit' is missing" in done.stdout


def test_shipped_knowledge_check_passes_with_the_catalog(tmp_path: Path) -> None:
    done = run(
        ["knowledge", "check", "--catalog", str(CATALOG)], tmp_path, knowledge=ROOT / "knowledge"
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 error(s)" in done.stdout


def test_run_without_token_explains_what_is_missing(tmp_path: Path) -> None:
    done = run(["run"], tmp_path)
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in done.stderr


def test_terminal_demo_plays_both_sides_of_a_ticket(tmp_path: Path) -> None:
    script = (
        "/human\nIs there a choir for beginners in Turku?\n1\n"
        "/as provider\n/reply 1 Try the adult education centre.\n3\n/as user\n/tickets\n"
    )
    done = run(
        ["chat", "--country", "FI", "--lang", "en"], tmp_path, script, knowledge=ROOT / "knowledge"
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Sent! Your question is ticket #1" in out
    assert "── to the provider group ──" in out and "Ticket #1" in out
    assert "Try the adult education centre." in out and "Delivered to the user (#1)" in out
    assert "#1 · answered" in out
    suggestions = run(["knowledge", "suggestions"], tmp_path)
    assert suggestions.returncode == 0 and "version: 1" in suggestions.stdout
