"""Statistics on a seeded database, the chart, /stats access, and the knowledge report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot import stats
from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Incoming
from bot.knowledge.report import knowledge_report
from bot.storage import Profile, Store, open_database
from bot.tickets_store import TicketStore
from tests.conftest import FIXTURE_KNOWLEDGE, NOW, SHIPPED_KNOWLEDGE


def seeded(tmp_path: Path) -> Store:
    clock = [NOW - dt.timedelta(days=3)]
    store = Store(open_database(tmp_path / "s.db"), clock=lambda: clock[0])
    store.save_profile(Profile(user_id=1, country="FI", stage="arrived"))
    store.save_profile(Profile(user_id=2, country="EE", stage="planning"))
    clock[0] = NOW - dt.timedelta(days=20)
    store.save_profile(Profile(user_id=3, country="FI", stage="leaving"))
    clock[0] = NOW - dt.timedelta(days=2)
    q1 = store.record_question(
        1,
        "bank account?",
        lang="en",
        country="FI",
        outcome="answer",
        intent="bank-account",
        score=90,
    )
    store.record_question(
        2, "bank?", lang="en", country="EE", outcome="answer", intent="bank-account", score=80
    )
    store.record_question(
        1,
        "where can I buy a sauna stove",
        lang="en",
        country="FI",
        outcome="unknown",
        intent=None,
        score=10,
    )
    store.record_question(
        2,
        "where can i buy a sauna stove?",
        lang="en",
        country="EE",
        outcome="unknown",
        intent=None,
        score=12,
    )
    store.record_question(
        1,
        "doctor or bank",
        lang="en",
        country="FI",
        outcome="suggest",
        intent="bank-account",
        score=40,
    )
    store.record_feedback(1, q1, -1)
    tickets = TicketStore(store)
    ticket, _ = tickets.create(
        source_key="a",
        user_id=1,
        team_id="t",
        chat_id=-1,
        urgent=0,
        question="q",
        lang="en",
        country="FI",
    )
    clock[0] = NOW - dt.timedelta(days=2) + dt.timedelta(hours=5)
    tickets.update(ticket["id"], answered_at=clock[0].isoformat(), status="answered")
    tickets.create(
        source_key="b",
        user_id=2,
        team_id="t",
        chat_id=-1,
        urgent=0,
        question="q2",
        lang="en",
        country="EE",
    )
    clock[0] = NOW
    return store


def test_figures_on_a_seeded_database(tmp_path: Path) -> None:
    figures = stats.compute(seeded(tmp_path))
    assert figures.users_by_country == {"FI": 2, "EE": 1}
    assert (figures.active_7, figures.active_30) == (2, 3)
    assert figures.outcomes == {"answer": 2, "unknown": 2, "suggest": 1}
    assert figures.top_intents == [("bank-account", 2)]
    assert figures.unanswered == [("where can I buy a sauna stove", 2)]  # near-duplicates grouped
    assert figures.feedback == {"bank-account": (0, 1)}
    assert (figures.tickets_opened, figures.tickets_answered) == (2, 1)
    assert figures.median_first_answer_hours == 5.0
    text = stats.as_text(figures)
    assert "did-you-mean 1" in text and "median time to first answer 5.0 h" in text


def test_figures_for_one_country(tmp_path: Path) -> None:
    figures = stats.compute(seeded(tmp_path), countries=("EE",))
    assert figures.users_by_country == {"EE": 1}
    assert figures.tickets_opened == 1 and figures.top_intents == [("bank-account", 1)]


def test_chart_is_a_png_and_the_cli_writes_it(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    png = stats.chart_png(stats.compute(seeded(tmp_path)))
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    chart = tmp_path / "chart.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "stats",
            "--db",
            str(tmp_path / "s.db"),
            "--chart",
            str(chart),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, LOG_LEVEL="WARNING"),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Users by country: EE 1, FI 2" in done.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_stats_command_is_for_admins_and_provider_groups(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    assistant = Assistant(
        KnowledgeHolder(SHIPPED_KNOWLEDGE),
        store,
        clock=lambda: NOW,
        admin_ids=frozenset({99}),
        provider_chats={"ee-advisers": -500},
    )
    refused = assistant.handle(Incoming(1, "command", "stats"))[0]
    assert "only admins" in refused.text and refused.photo is None
    admin = assistant.handle(Incoming(99, "command", "stats"))[0]
    assert "all countries" in admin.text and admin.photo.content.startswith(b"\x89PNG")
    group = assistant.handle(Incoming(7, "command", "stats", chat_id=-500))[0]
    assert "(EE)" in group.text and "Users by country: EE 1" in group.text
    assert group.chat_id == -500
    assert assistant.handle(Incoming(7, "command", "stats", chat_id=-999)) == []


def test_knowledge_report_lists_what_to_improve(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    store.record_feedback(2, 2, -1)
    q = store.record_question(
        1, "bank", lang="en", country="FI", outcome="answer", intent="bank-account", score=90
    )
    store.record_feedback(1, q, -1)
    report = knowledge_report(FIXTURE_KNOWLEDGE, store)
    assert report.startswith("# Knowledge report")
    assert "## Coverage" in report and "bank-account" in report
    assert "moving-pets" in report.split("## Stale review dates")[1].split("##")[0]
    assert "`bank-account`: 3 👎 of 3 ratings" in report
    assert "`bank-account`: 1 questions" in report
    assert "2× “where can I buy a sauna stove”" in report
