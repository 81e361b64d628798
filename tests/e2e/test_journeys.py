"""Whole journeys through the real `softlanding run` process, over HTTP, as people live them.

Each test starts the bot against the local Bot API server (tests/fake_bot_api.py) with a
temporary database and a clock file, and checks what people see: texts, buttons, edits.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.knowledge_holder import KnowledgeHolder
from bot.storage import Profile
from tests.conftest import NOW, SHIPPED_KNOWLEDGE
from tests.e2e.harness import RunningBot, labels, missing_buttons, seed_profiles, text_of
from tests.fake_bot_api import SECRET_HEADER, FakeBotAPI

pytestmark = pytest.mark.e2e

ADMIN = 77
PROVIDERS = -100500  # the Finnish advisers' forum group


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge (KNOWLEDGE_DIR)."""
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED_KNOWLEDGE, target)
    return target


def test_onboarding_with_buttons_then_an_answer(api: FakeBotAPI, tmp_path: Path) -> None:
    olena = api.user(101, first_name="Olena", language_code="uk")
    with RunningBot(api, tmp_path) as bot:
        first = bot.say(olena, "/start")
        assert "Якою мовою" in text_of(first)  # greeted in the language of her Telegram app
        assert labels(first) == ["English", "Русский", "Українська"]
        assert "Which country" in text_of(bot.press(olena, "English"))
        assert "Helsinki" in labels(bot.press(olena, "Finland"))
        assert "Already arrived" in labels(bot.press(olena, "Helsinki"))
        assert "When did you arrive" in text_of(bot.press(olena, "Already arrived"))
        assert "EU/EEA" in text_of(bot.say(olena, "2026-10-01"))
        assert "Work" in labels(bot.press(olena, "No, another country"))
        assert "children" in text_of(bot.press(olena, "Work"))
        done = bot.press(olena, "No")
        assert "all set" in text_of(done)
        assert "Your checklist: 0 of" in text_of(done)  # planned from her answers
        profile = text_of(bot.say(olena, "/profile"))
        for line in ("Country: Finland", "City: Helsinki", "Arrival date: 1 October 2026"):
            assert line in profile
        answer = bot.say(olena, "how do i get a finnish personal identity code?")
        assert "Source:" in text_of(answer) and "Reviewed:" in text_of(answer)
        assert not missing_buttons(answer, "👍", "👎", "Who can help?", "Talk to a person")


def test_answers_come_in_the_users_language(
    api: FakeBotAPI, tmp_path: Path, shipped_holder: KnowledgeHolder
) -> None:
    people = {
        "en": (201, "EE", "how do i register my address in estonia", ["Source:", "Reviewed:"]),
        "ru": (202, "SE", "как получить personnummer", ["Источник:", "Проверено:"]),
        "uk": (203, "LV", "як продовжити тимчасовий захист у латвії", ["Джерело:", "Перевірено:"]),
    }
    seed_profiles(
        tmp_path / "bot.db",
        shipped_holder,
        [Profile(user_id=uid, lang=lang, country=c) for lang, (uid, c, _, _) in people.items()],
    )
    with RunningBot(api, tmp_path) as bot:
        for uid, _, question, fragments in people.values():
            answer = bot.say(api.user(uid, language_code=None), question)
            for fragment in fragments:
                assert fragment in text_of(answer), (question, text_of(answer))
            assert not missing_buttons(answer, "👍", "👎")
        thanks = bot.press(api.user(202, language_code=None), "👍")
        assert "Спасибо за отзыв" in text_of(thanks)


def test_did_you_mean_offers_topics_as_buttons(
    api: FakeBotAPI, tmp_path: Path, shipped_holder: KnowledgeHolder
) -> None:
    seed_profiles(tmp_path / "bot.db", shipped_holder, [Profile(301, country="FI")])
    ana = api.user(301)
    with RunningBot(api, tmp_path) as bot:
        options = bot.say(ana, "permit")
        assert "Did you mean" in text_of(options)
        assert not missing_buttons(options, "Residence permit", "Extending your permit")
        answer = bot.press(ana, "Extending your permit")
        assert "Did you mean" not in text_of(answer)
        assert "Source:" in text_of(answer) and "migri.fi" in text_of(answer)


def test_checklist_ticks_and_a_reminder_at_the_users_hour(
    api: FakeBotAPI, tmp_path: Path, shipped_holder: KnowledgeHolder
) -> None:
    early = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)  # 07:00 in Helsinki: quiet hours
    arrived = Profile(
        401,
        country="FI",
        city="helsinki",
        stage="arrived",
        arrival_date=dt.date(2026, 11, 1),
        citizenship="other",
        purpose="work",
    )
    seed_profiles(tmp_path / "bot.db", shipped_holder, [arrived], now=early)
    ana = api.user(401)
    with RunningBot(api, tmp_path, now=early, REMINDER_INTERVAL_SECONDS="1") as bot:
        checklist = bot.say(ana, "/checklist")
        assert "Your checklist: 0 of" in text_of(checklist)
        assert "Register as a resident at DVV" in text_of(checklist)
        number = next(
            line.split(".")[0]
            for line in text_of(checklist).splitlines()
            if "Register as a resident at DVV" in line
        )
        card = bot.press(ana, number)
        assert not missing_buttons(card, "✅ Done", "💤 In 3 days", "❓ How?")
        ticked = bot.press(ana, "✅ Done")
        assert "Marked as done: Register as a resident at DVV" in text_of(ticked)
        assert "Your checklist: 1 of" in text_of(ticked)
        assert "1 of" in text_of(bot.say(ana, "/checklist"))  # kept

        bot.set_clock(early + dt.timedelta(hours=2, minutes=30))  # 09:30 in Helsinki
        reminder = bot.wait_for(
            lambda: [m for m in ana.messages() if "Reminder from your checklist" in m["text"]],
            "the daily reminder at 09:00",
        )
        assert "Get a Finnish SIM card" in reminder[0]["text"]  # overdue
        assert "Register as a resident at DVV" not in reminder[0]["text"]  # done


def test_escalation_reply_in_the_forum_topic_reaches_the_user(
    api: FakeBotAPI, tmp_path: Path, knowledge: Path, shipped_holder: KnowledgeHolder
) -> None:
    teams = knowledge / "providers.yaml"
    teams.write_text(
        teams.read_text().replace(
            "chat_id_env: PROVIDER_CHAT_FI\n", "chat_id_env: PROVIDER_CHAT_FI\n    forum: true\n"
        )
    )
    seed_profiles(
        tmp_path / "bot.db",
        shipped_holder,
        [Profile(501, country="FI", city="helsinki", stage="arrived")],
    )
    ana = api.user(501)
    pia = api.user(900, first_name="Pia", last_name="Virtanen")
    group = api.group(PROVIDERS, forum=True)
    env = {"KNOWLEDGE_DIR": str(knowledge), "PROVIDER_CHAT_FI": str(PROVIDERS)}
    with RunningBot(api, tmp_path, **env) as bot:
        assert "Write your question for a person" in text_of(bot.say(ana, "/human"))
        question = "Can a tenant keep chickens on the balcony of a rental flat?"
        consent = bot.say(ana, question)
        assert "Soft Landing advisers (Finland)" in text_of(consent)
        assert labels(consent) == ["✅ Send", "Send with my name", "✖ Cancel"]
        mark = api.mark()
        assert "ticket #1" in text_of(bot.press(ana, "Send"))
        post = api.activity(group.id, mark)[0]
        assert "Ticket #1" in post["text"] and question in post["text"]
        assert post["is_topic_message"]  # its own forum topic
        assert not missing_buttons([post], "🙋 Claim")

        claimed = bot.in_group(group, lambda: group.press(pia, "Claim"))
        assert "#1 claimed by Pia Virtanen" in text_of(claimed)
        mark = api.mark()
        relay = bot.turn(
            ana.id, lambda: group.reply(pia, post["message_id"], "Only if the contract allows.")
        )
        assert "Soft Landing advisers (Finland) (ticket #1)" in text_of(relay)
        assert "Only if the contract allows." in text_of(relay)
        assert not missing_buttons(relay, "✅ That solved it", "I have a follow-up")
        assert "Delivered to the user (#1)" in text_of(api.activity(group.id, mark))
        answer_id = api.messages_from(pia.id, group.id)[-1]["message_id"]

        bot.turn(ana.id, lambda: group.edit(pia, answer_id, "Only if the lease allows pets."))
        shown = ana.messages()[-1]  # the same message, edited in place
        assert shown["message_id"] == relay[0]["message_id"]
        assert "Only if the lease allows pets." in shown["text"] and "edit_date" in shown

        ana.block()
        mark = api.mark()
        bot.in_group(group, lambda: group.reply(pia, post["message_id"], "Any news?"))
        assert "Not delivered (#1): the user has blocked the bot" in text_of(
            api.activity(group.id, mark)
        )


def test_admin_reload_with_a_broken_file_keeps_the_last_good_knowledge(
    api: FakeBotAPI, tmp_path: Path, knowledge: Path, shipped_holder: KnowledgeHolder
) -> None:
    seed_profiles(tmp_path / "bot.db", shipped_holder, [Profile(601, country="FI")])
    ana, admin = api.user(601), api.user(ADMIN)
    question = "how do i get a finnish personal identity code?"
    with RunningBot(api, tmp_path, KNOWLEDGE_DIR=str(knowledge), ADMIN_IDS=str(ADMIN)) as bot:
        answer = text_of(bot.say(ana, question))
        assert "Source:" in answer
        assert "only admins" in text_of(bot.say(ana, "/reload"))

        broken = knowledge / "faq" / "first-weeks.yaml"
        good = broken.read_text(encoding="utf-8")
        lines = good.splitlines()
        line = lines.index("    topic: registration") + 1
        lines[line - 1] = "    topic: registration: x"  # mapping values are not allowed
        broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
        refused = text_of(bot.say(admin, "/reload"))
        assert "I keep using the previous version" in refused
        assert f"faq/first-weeks.yaml:{line}: error: YAML syntax" in refused
        assert text_of(bot.say(ana, question)) == answer  # still answered, unchanged

        old, new = "The code itself is free.", "The code itself costs nothing."
        assert old in answer
        broken.write_text(good.replace(old, new, 1), encoding="utf-8")  # fixed, and edited
        assert "Knowledge reloaded" in text_of(bot.say(admin, "/reload"))
        assert new in text_of(bot.say(ana, question))


def test_forget_erases_what_export_showed(
    api: FakeBotAPI, tmp_path: Path, shipped_holder: KnowledgeHolder
) -> None:
    seed_profiles(tmp_path / "bot.db", shipped_holder, [Profile(701, lang="uk", country="FI")])
    taras = api.user(701, language_code="uk")
    question = "які дані про мене ви зберігаєте?"

    def exported() -> dict:
        file = bot.say(taras, "/export")[0]["document"]
        return json.loads(api.files[file["file_id"]][1])

    with RunningBot(api, tmp_path) as bot:
        bot.say(taras, question)
        before = exported()
        assert [q["text"] for q in before["questions"]] == [question]
        assert before["profile"]["country"] == "FI"

        keep = bot.say(taras, "/forget")
        assert labels(keep) == ["Так, видалити все", "Ні, залишити"]
        assert "нічого не видалено" in text_of(bot.press(taras, "Ні, залишити"))
        assert exported()["questions"]

        bot.say(taras, "/forget")
        assert "видалено" in text_of(bot.press(taras, "Так, видалити все"))
        after = exported()
    assert after["questions"] == [] and after["profile"]["country"] is None
    assert question not in json.dumps(after, ensure_ascii=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # not listening yet


def test_webhook_mode_serves_telegrams_posts_and_refuses_others(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = {
        "WEBHOOK_URL": url,
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_PATH": "hook",
        "WEBHOOK_SECRET": "s3cret-token",
    }
    ana = api.user(801)
    forged = {
        "update_id": 999_999,
        "message": {
            "message_id": 1,
            "date": int(NOW.timestamp()),
            "chat": {"id": 802, "type": "private"},
            "from": {"id": 802, "is_bot": False, "first_name": "Mallory"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    with RunningBot(api, tmp_path, "--webhook", **env) as bot:
        assert bot.wait_for(lambda: _post(url, forged, "wrong"), "the webhook listening") == 403
        assert _post(url, forged, None) == 403
        # Telegram (the local server) posts ana's updates to the webhook with the secret
        delivered = [ana.send("/start")]
        bot.wait_for(
            lambda: any("Which language" in m.get("text", "") for m in ana.messages()),
            "the greeting",
        )
        press = ana.press("English")
        delivered.append(press)
        bot.wait_for(
            lambda: any("Which country" in m.get("text", "") for m in ana.messages()),
            "the next onboarding step",
        )
        assert api.answer_to(press) is not None  # no spinner left
    assert api.webhook is not None and api.webhook["secret_token"] == "s3cret-token"
    assert {update for update, status in api.webhook_posts if status == 200} == set(delivered)
    assert api.bot_messages(802) == []  # the forged update was never handled
