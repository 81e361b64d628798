"""Shared fixtures: a tiny knowledge folder, an in-memory database, a fixed clock."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.storage import Store, open_database
from bot.telegram_app import build_application
from tests.telegram_recorder import RecordingRequest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KNOWLEDGE = ROOT / "tests" / "fixtures" / "knowledge"
SHIPPED_KNOWLEDGE = ROOT / "knowledge"
CATALOG = ROOT / "tests" / "fixtures" / "knowledge-catalog.yaml"
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A writable copy of the small test knowledge."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    return target


@pytest.fixture
def store() -> Store:
    return Store(open_database(":memory:"), clock=lambda: NOW)


@pytest.fixture
def assistant(store: Store) -> Assistant:
    return Assistant(KnowledgeHolder(FIXTURE_KNOWLEDGE), store, clock=lambda: NOW)


@pytest.fixture(scope="session")
def shipped_holder() -> KnowledgeHolder:
    holder = KnowledgeHolder(SHIPPED_KNOWLEDGE)
    holder.reload()
    return holder


@pytest.fixture
async def app_and_calls(
    assistant: Assistant,
) -> AsyncIterator[tuple[Application, RecordingRequest]]:
    recorder = RecordingRequest()
    settings = Settings(bot_token="123:TEST", api_url="http://127.0.0.1:9/bot")
    application = build_application(settings, assistant, updater=False, request=recorder)
    await application.initialize()
    yield application, recorder
    await application.shutdown()
