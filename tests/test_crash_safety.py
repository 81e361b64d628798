"""Kill the bot at each step of an escalation, or between a buddy match's change and its notice
to the other side; after a restart nothing is lost or doubled."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from bot.mentoring_store import MentoringStore
from bot.storage import Profile, Store, open_database
from tests.fake_bot_api import FakeBotAPI, bot_env, start_bot
from tests.telegram_recorder import callback_update, message_update

GROUP = -1009
USER = 42
PROVIDER = 500
VOLUNTEER = 43


class BotProcess:
    """`softlanding run`, restarted whenever it dies (as a supervisor would)."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path | None = None) -> None:
        self.env = env
        self.cwd = cwd
        self.log = log
        self.crashes = 0
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return start_bot(self.env, self.cwd, log=self.log)

    def keep_alive(self) -> None:
        if self.process.poll() is not None:
            assert self.process.returncode == 137, self.process.returncode
            self.crashes += 1
            self.process = self._start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _wait(api: FakeBotAPI, bot: BotProcess, check, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot.keep_alive()
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out; sent: {api.sent}")


@pytest.mark.parametrize(
    "point",
    [
        "after-journal",
        "after-ticket-insert",
        "after-group-post",
        "after-provider-reply",
        "after-relay",
    ],
)
def test_a_crash_at_any_step_of_an_escalation_loses_and_doubles_nothing(
    point: str, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    with FakeBotAPI() as api:
        env = bot_env(
            api,
            db,
            PROVIDER_CHAT_DEFAULT=str(GROUP),
            REMINDER_INTERVAL_SECONDS="2",
            SOFTLANDING_FAULT=point,
            SOFTLANDING_FAULT_ONCE=str(tmp_path / "crashed"),
        )
        bot = BotProcess(env, tmp_path)
        try:
            api.push(message_update(1, USER, "/human"))
            api.push(message_update(2, USER, "Where can my kids learn ice hockey?"))
            _wait(api, bot, lambda: any("ice hockey" in p["text"] for p in api.sent_to(USER)))
            api.push(callback_update(3, USER, "esc:send"))
            post = _wait(
                api, bot, lambda: [p for p in api.sent_to(GROUP) if "Ticket #1" in p["text"]]
            )
            api.push(
                message_update(
                    4,
                    PROVIDER,
                    "The city sports office lists clubs.",
                    chat_type="supergroup",
                    chat_id=GROUP,
                    reply_to=post[0]["message_id"],
                    message_id=5000,
                    reply_to_text=post[0]["text"],
                )
            )
            _wait(api, bot, lambda: any("sports office" in p["text"] for p in api.sent_to(USER)))
            _wait(api, bot, lambda: any("Delivered" in p["text"] for p in api.sent_to(GROUP)))
        finally:
            bot.stop()
        assert bot.crashes == 1, f"the fault at {point} never fired"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
        messages = conn.execute("SELECT direction, status FROM ticket_messages").fetchall()
        assert messages == [("provider", "delivered")]
        unfinished = conn.execute(
            "SELECT COUNT(*) FROM journal WHERE update_id NOT IN "
            "(SELECT update_id FROM processed_updates)"
        ).fetchone()[0]
        assert unfinished == 0


def _seed_volunteer(db: Path) -> None:
    """An approved volunteer in Helsinki (the admins' part is tested elsewhere), two people."""
    store = Store(open_database(db))
    store.save_profile(Profile(VOLUNTEER, lang="en"))
    store.save_profile(Profile(USER, lang="en", country="FI", city="helsinki", stage="arrived"))
    data = MentoringStore(store)
    form = {
        "name": "Mika",
        "country": "FI",
        "city": "helsinki",
        "languages": ["en"],
        "topics": ["jobs"],
        "availability": "weekly",
        "intro": "HR at a tech company, happy to read CVs.",
    }
    volunteer = data.submit_volunteer(VOLUNTEER, form, 2)
    assert data.set_status(volunteer.id, ("pending",), "approved")
    store.db.close()


@pytest.mark.parametrize("point", ["after-match-request", "after-match-active"])
def test_a_crash_between_a_match_change_and_its_notice_loses_no_notice(
    point: str, tmp_path: Path
) -> None:
    """The newcomer accepts (the volunteer's request is stored), the volunteer accepts (the
    newcomer's contact notice is stored); the process dies right after one of these commits,
    before anything is sent. After the restart the other side still gets it, once."""
    db = tmp_path / "bot.db"
    _seed_volunteer(db)
    log = tmp_path / "bot.log"
    with FakeBotAPI() as api:
        env = bot_env(
            api,
            db,
            REMINDER_INTERVAL_SECONDS="2",
            SOFTLANDING_FAULT=point,
            SOFTLANDING_FAULT_ONCE=str(tmp_path / "crashed"),
        )
        env.pop("ADMIN_IDS", None)
        bot = BotProcess(env, tmp_path, log)

        def to(chat: int, text: str) -> list[dict]:
            return [p for p in api.sent_to(chat) if text in p["text"]]

        try:
            steps = [
                (message_update(1, USER, "/buddy"), "What would you like help with?"),
                (callback_update(2, USER, "mt:bt:jobs"), "Which languages can you talk in?"),
                (callback_update(3, USER, "mt:bL"), "What name should your buddy see?"),
                (message_update(4, USER, "Sam"), "Anything your buddy should know"),
                (callback_update(5, USER, "mt:bs"), "Here is someone who could help"),
            ]
            for update, expected in steps:
                api.push(update)
                _wait(api, bot, lambda e=expected: to(USER, e))
            api.push(callback_update(6, USER, "mt:na:1"))
            _wait(api, bot, lambda: to(VOLUNTEER, "A newcomer would like your help"))
            api.push(callback_update(7, VOLUNTEER, "mt:aa:1"))
            _wait(api, bot, lambda: to(USER, "You and Mika are buddies"))
            _wait(api, bot, lambda: to(VOLUNTEER, "You and Sam are buddies"))
            time.sleep(2.5)  # one more housekeeping tick: nothing is sent twice
        finally:
            bot.stop()
        assert bot.crashes == 1, f"the fault at {point} never fired"
        assert len(to(VOLUNTEER, "A newcomer would like your help")) == 1
        assert len(to(USER, "You and Mika are buddies")) == 1
        assert "Telegram: @ana" in to(USER, "You and Mika are buddies")[0]["text"]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, chat_id, status FROM mentor_notices ORDER BY id")
        assert rows.fetchall() == [
            ("request", VOLUNTEER, "delivered"),
            ("active", USER, "delivered"),
        ]
    assert "ADMIN_IDS is empty" in log.read_text()  # the warning at start


def test_a_migration_that_fails_halfway_leaves_no_half_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is in autocommit mode: without a real transaction, a migration cut off
    halfway (a crash, a full disk) would leave tables that the next start then trips over."""
    import bot.storage as storage

    def broken(db) -> None:
        db["half_done"].create({"id": int}, pk="id")
        raise OSError("disk full")

    path = tmp_path / "bot.db"
    open_database(path).conn.close()
    monkeypatch.setattr(storage, "MIGRATIONS", [*storage.MIGRATIONS, ("999_broken", broken)])
    with pytest.raises(OSError):
        open_database(path)
    monkeypatch.setattr(storage, "MIGRATIONS", storage.MIGRATIONS[:-1])
    db = open_database(path)
    assert "half_done" not in db.table_names()
    assert "999_broken" not in {row["name"] for row in db["_migrations"].rows}


def test_a_failing_multi_row_write_is_rolled_back_whole(tmp_path: Path) -> None:
    store = Store(open_database(tmp_path / "bot.db"))
    store.save_profile(Profile(user_id=5, lang="en"))
    with pytest.raises(RuntimeError), store.db.atomic():
        store.db["users"].update(5, {"lang": "ru"})
        raise RuntimeError("killed between two writes")
    assert store.get_profile(5).lang == "en"
