"""Buddies and mentors: matching rules, consent before contacts, approval, ending, reporting,
restarts, export and forget. Driven through `Assistant.handle`, as a user would."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from telegram import Update

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.mentoring import Request, candidates
from bot.core.replies import Incoming, Reply
from bot.knowledge.loader import load_knowledge
from bot.mentoring_store import Volunteer
from bot.storage import Profile, Store, open_database
from bot.telegram_app import build_application
from tests.conftest import FIXTURE_KNOWLEDGE, NOW, ROOT
from tests.telegram_recorder import RecordingRequest, callback_update

ADMIN = 700001
NEWCOMER = 800001
ANNA, BORIS, CARL = 900001, 900002, 900003  # volunteers
PEOPLE = (ADMIN, NEWCOMER, ANNA, BORIS, CARL)
STALE = {"en": "no longer open", "uk": "уже не діє"}  # the newcomer speaks Ukrainian
ENDED = {"en": "has ended", "uk": "завершено"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small test knowledge with the shipped mentoring.yaml."""
    target = tmp_path_factory.mktemp("mentoring") / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    shutil.copy(ROOT / "knowledge" / "mentoring.yaml", target / "mentoring.yaml")
    return target


def make(folder: Path, db: str = ":memory:") -> Assistant:
    store = Store(open_database(db), clock=lambda: NOW)
    return Assistant(KnowledgeHolder(folder), store, clock=lambda: NOW, admin_ids={ADMIN})


@pytest.fixture
def bot(folder: Path) -> Assistant:
    return make(folder)


class Log:
    """Everything the bot sent, to whom (a reply without chat_id goes to whoever acted)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Reply]] = []

    def add(self, actor: int, replies: list[Reply]) -> list[Reply]:
        self.sent += [(r.chat_id if r.chat_id is not None else actor, r) for r in replies]
        return replies

    def to(self, user_id: int) -> list[Reply]:
        return [r for who, r in self.sent if who == user_id]


def everything(replies: Iterable[Reply]) -> str:
    """All a person can see or tap: texts, link targets, button labels and callback data."""
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts += [url for _, url in reply.links]
        parts += [f"{b.label} {b.data}" for row in reply.buttons for b in row]
    return "\n".join(parts)


def press(bot: Assistant, who: int, data: str, log: Log | None = None, **kw: str) -> list[Reply]:
    replies = bot.handle(Incoming(who, "button", data, **kw))
    return log.add(who, replies) if log else replies


def say(bot: Assistant, who: int, text: str, log: Log | None = None) -> list[Reply]:
    kind = "command" if text.startswith("/") else "text"
    replies = bot.handle(Incoming(who, kind, text.removeprefix("/") if kind == "command" else text))
    return log.add(who, replies) if log else replies


def volunteer(
    bot: Assistant,
    who: int,
    *,
    name: str,
    country: str = "EE",
    city: str = "tartu",
    languages: tuple[str, ...] = ("en", "uk"),
    topics: tuple[str, ...] = ("first-weeks",),
    availability: str = "weekly",
    approve: bool = True,
    log: Log | None = None,
) -> int:
    """Fill the /volunteer form through its buttons; returns the volunteer number."""
    bot.store.save_profile(Profile(user_id=who, lang="en"))
    say(bot, who, "/volunteer", log)
    press(bot, who, f"mt:vc:{country}", log)
    press(bot, who, f"mt:vt:{city}", log)
    for code in set(languages) ^ {"en"}:  # English is ticked to start with
        press(bot, who, f"mt:vl:{code}", log)
    press(bot, who, "mt:vL", log)
    for topic in topics:
        press(bot, who, f"mt:vp:{topic}", log)
    press(bot, who, "mt:vP", log)
    press(bot, who, f"mt:va:{availability}", log)
    say(bot, who, f"Hi, I am {name} and I like to help.", log)
    say(bot, who, name, log)
    press(bot, who, "mt:vs", log)
    number = bot.mentoring.data.volunteer_of(who).id
    if approve:
        press(bot, ADMIN, f"mt:ok:{number}", log)
    return number


def ask(
    bot: Assistant,
    who: int = NEWCOMER,
    *,
    topic: str = "first-weeks",
    city: str = "tartu",
    country: str = "EE",
    languages: tuple[str, ...] = ("uk",),
    log: Log | None = None,
) -> list[Reply]:
    """A newcomer asks for a buddy through /buddy; returns the last replies (the proposal)."""
    bot.store.save_profile(Profile(user_id=who, lang="uk", country=country, city=city))
    say(bot, who, "/buddy", log)
    press(bot, who, f"mt:bt:{topic}", log)
    for code in set(languages) ^ {"uk"}:  # the user's language is ticked to start with
        press(bot, who, f"mt:bl:{code}", log)
    press(bot, who, "mt:bL", log)
    say(bot, who, "Олена", log)
    return say(bot, who, "Щойно приїхала з дітьми.", log)


def proposed_match(replies: list[Reply]) -> int | None:
    datas = [b.data for r in replies for row in r.buttons for b in row]
    accept = [d for d in datas if d.startswith("mt:na:")]
    return int(accept[0].split(":")[2]) if accept else None


def proposed_name(bot: Assistant, replies: list[Reply]) -> str | None:
    match_id = proposed_match(replies)
    return bot.mentoring.data.match(match_id).volunteer_name if match_id else None


# --- ranking (pure) ---------------------------------------------------------------------------


def _vol(number: int, city: str, languages: tuple[str, ...], **kw: object) -> Volunteer:
    fields = {
        "id": number,
        "user_id": 1000 + number,
        "status": "approved",
        "display_name": f"v{number}",
        "country": "EE",
        "city": city,
        "languages": languages,
        "topics": ("jobs",),
        "availability": "weekly",
        "capacity": 2,
        "intro": "",
    } | kw
    return Volunteer(**fields)  # type: ignore[arg-type]


REQUEST = Request(newcomer_id=1, topic="jobs", country="EE", city="tartu", languages=("uk", "en"))


def _rank(volunteers: list[Volunteer], **kw: object) -> list[int]:
    options = {"busy": {}, "excluded": set(), "city_only": False} | kw
    return [v.id for v in candidates(REQUEST, volunteers, **options)]  # type: ignore[arg-type]


def test_same_city_comes_first_then_more_shared_languages_then_less_busy() -> None:
    volunteers = [
        _vol(1, "tallinn", ("uk", "en")),
        _vol(2, "tartu", ("en",)),
        _vol(3, "tartu", ("uk", "en")),
        _vol(4, "tartu", ("uk", "en")),
    ]
    assert _rank(volunteers, busy={1003: 1}) == [4, 3, 2, 1]


def test_nobody_unfit_is_ever_proposed() -> None:
    volunteers = [
        _vol(1, "tartu", ("et", "fi")),  # no shared language
        _vol(2, "tartu", ("uk",), topics=("business",)),  # another topic
        _vol(3, "tartu", ("uk",), status="paused"),
        _vol(4, "tartu", ("uk",), status="pending"),
        _vol(5, "tartu", ("uk",), capacity=1),  # full
        _vol(6, "tartu", ("uk",)),  # declined before
        _vol(7, "tartu", ("uk",), user_id=1),  # the newcomer themselves
        _vol(8, "helsinki", ("uk",), country="FI"),  # another country
        _vol(9, "tallinn", ("uk",)),  # fits
    ]
    assert _rank(volunteers, busy={1005: 1}, excluded={1006}) == [9]


def test_a_city_topic_needs_a_helper_in_the_same_city() -> None:
    assert _rank([_vol(1, "tallinn", ("uk",))], city_only=True) == []
    assert _rank([_vol(1, "tallinn", ("uk",))], city_only=False) == [1]


# --- approval -----------------------------------------------------------------------------------


def test_a_volunteer_is_matched_only_after_an_admin_approves(bot: Assistant) -> None:
    log = Log()
    number = volunteer(bot, ANNA, name="Anna", approve=False, log=log)
    notice = log.to(ADMIN)[-1]
    assert "Anna · Tartu, Estonia" in notice.text
    assert [b.data for row in notice.buttons for b in row] == [
        f"mt:ok:{number}",
        f"mt:no:{number}",
    ]
    assert proposed_match(ask(bot)) is None
    assert "Зараз ніхто не підходить" in everything(ask(bot))
    replies = press(bot, ADMIN, f"mt:ok:{number}")
    assert "approved" in replies[0].text
    assert replies[1].chat_id == ANNA and "approved" in replies[1].text
    assert proposed_name(bot, ask(bot)) == "Anna"


def test_only_admins_can_list_approve_or_reject(bot: Assistant) -> None:
    number = volunteer(bot, ANNA, name="Anna", approve=False)
    bot.store.save_profile(Profile(user_id=BORIS, lang="en"))
    for data in (f"mt:ok:{number}", f"mt:no:{number}"):
        assert "only admins" in press(bot, BORIS, data)[0].text
    assert "only admins" in say(bot, BORIS, "/volunteers")[0].text
    assert bot.mentoring.data.volunteer(number).status == "pending"
    listed = say(bot, ADMIN, "/volunteers")
    assert "Anna" in everything(listed) and f"mt:ok:{number}" in everything(listed)


def test_a_second_admin_decision_changes_nothing(bot: Assistant) -> None:
    number = volunteer(bot, ANNA, name="Anna")
    replies = press(bot, ADMIN, f"mt:no:{number}")
    assert "not approved" in replies[0].text  # switched off
    again = press(bot, ADMIN, f"mt:ok:{number}")
    assert "already not approved" in again[0].text
    assert bot.mentoring.data.volunteer(number).status == "rejected"
    assert proposed_match(ask(bot)) is None


# --- matching through the flows --------------------------------------------------------------


def test_the_best_fit_is_proposed_and_someone_else_never_brings_them_back(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna", city="tallinn", topics=("paperwork",))
    volunteer(bot, BORIS, name="Boris", topics=("paperwork",), languages=("en",))
    volunteer(bot, CARL, name="Carl", topics=("paperwork",), languages=("uk", "ru"))
    first = ask(bot, topic="paperwork", languages=("uk", "ru"))
    assert proposed_name(bot, first) == "Carl"  # Tartu, two shared languages
    second = press(bot, NEWCOMER, f"mt:nd:{proposed_match(first)}")
    assert proposed_name(bot, second) == "Anna"  # Boris shares no language; Anna is in Tallinn
    third = press(bot, NEWCOMER, f"mt:nd:{proposed_match(second)}")
    assert proposed_match(third) is None
    assert proposed_name(bot, ask(bot, topic="paperwork", languages=("uk", "ru"))) is None


def test_a_volunteer_is_never_proposed_to_themselves(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna", languages=("uk",))
    assert proposed_match(ask(bot, ANNA)) is None


def test_a_full_volunteer_gets_no_more_requests(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna", availability="monthly")  # capacity 1
    match_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{match_id}")
    assert proposed_match(ask(bot, BORIS)) is None
    press(bot, ANNA, f"mt:ad:{match_id}")  # declined: capacity again
    assert proposed_name(bot, ask(bot, BORIS)) == "Anna"


def test_a_paused_volunteer_is_skipped_until_resumed(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna")
    assert "Paused" in press(bot, ANNA, "mt:pause")[0].text
    assert proposed_match(ask(bot)) is None
    press(bot, ANNA, "mt:resume")
    assert proposed_name(bot, ask(bot)) == "Anna"


def test_accepting_a_volunteer_who_paused_meanwhile_proposes_the_next(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna")
    volunteer(bot, BORIS, name="Boris", city="tallinn", topics=("paperwork", "first-weeks"))
    first = ask(bot, topic="paperwork")
    assert proposed_name(bot, first) == "Boris"
    press(bot, BORIS, "mt:pause")
    replies = press(bot, NEWCOMER, f"mt:na:{proposed_match(first)}")
    assert "Boris" in replies[0].text and all(r.chat_id is None for r in replies)
    assert proposed_match(replies) is None  # Anna does not do paperwork


def test_declined_volunteer_tells_the_newcomer_kindly_who_can_look_again(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna")
    volunteer(bot, BORIS, name="Boris")
    match_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{match_id}")
    replies = press(bot, ANNA, f"mt:ad:{match_id}")
    to_newcomer = next(r for r in replies if r.chat_id == NEWCOMER)
    assert "Anna" in to_newcomer.text
    again = press(bot, NEWCOMER, to_newcomer.buttons[0][0].data)
    assert proposed_name(bot, again) == "Boris"
    request = press(bot, NEWCOMER, f"mt:na:{proposed_match(again)}")[1]
    assert request.chat_id == BORIS and "Щойно приїхала з дітьми." in request.text  # the note
    assert bot.mentoring.data.match(match_id).newcomer_note == ""  # moved, not copied


# --- consent ----------------------------------------------------------------------------------


def test_no_contact_detail_reaches_anyone_before_both_accept(bot: Assistant) -> None:
    log = Log()
    volunteer(bot, ANNA, name="Anna", log=log)
    match_id = proposed_match(ask(bot, log=log))
    press(bot, NEWCOMER, f"mt:na:{match_id}", log, username="olena_k")
    say(bot, NEWCOMER, "/buddy", log)
    say(bot, ANNA, "/buddy", log)
    say(bot, ANNA, "/volunteer", log)
    secrets = ("olena_k", "anna_t", "tg://", str(ANNA), str(NEWCOMER))
    for person in PEOPLE:
        seen = everything(log.to(person))
        assert not [s for s in secrets if s in seen], person
    assert any("Олена" in r.text for r in log.to(ANNA))  # the short profile, though

    press(bot, ANNA, f"mt:aa:{match_id}", log, username="anna_t")
    after = log.sent[-2:]
    assert [who for who, _ in after] == [ANNA, NEWCOMER]
    assert "@olena_k" in after[0][1].text and "@anna_t" not in after[0][1].text
    assert "@anna_t" in after[1][1].text and "@olena_k" not in after[1][1].text
    assert "olena_k" not in everything(log.to(ADMIN)) and "anna_t" not in everything(log.to(ADMIN))


def test_without_a_username_the_contact_is_a_link_to_the_chat(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{match_id}", username="olena_k")
    replies = press(bot, ANNA, f"mt:aa:{match_id}")  # Anna has no username
    to_newcomer = next(r for r in replies if r.chat_id == NEWCOMER)
    ((label, url),) = to_newcomer.links
    assert url == f"tg://user?id={ANNA}" and label in to_newcomer.text
    assert str(ANNA) not in to_newcomer.text


def test_the_volunteer_learns_nothing_of_a_newcomer_who_has_not_accepted(bot: Assistant) -> None:
    log = Log()
    volunteer(bot, ANNA, name="Anna", log=log)
    bot.store.update_profile(bot.store.get_profile(ANNA), country="EE", city="tartu")
    seen_before = len(log.to(ANNA))
    match_id = proposed_match(ask(bot, log=log))
    press(bot, NEWCOMER, f"mt:nd:{match_id}", log)  # "someone else"
    shown = say(bot, ANNA, "/buddy", log)
    assert len(log.to(ANNA)) == seen_before + 1
    assert "Олена" not in everything(shown) and f"mt:aa:{match_id}" not in everything(shown)
    assert "What would you like help with?" in shown[0].text  # her own /buddy, nothing else


def test_the_volunteer_cannot_accept_before_the_newcomer(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot, log=None))
    replies = press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")
    assert "no longer open" in replies[0].text and len(replies) == 1
    assert bot.mentoring.data.match(match_id).state == "proposed"


def test_someone_elses_buttons_and_stale_buttons_change_nothing(bot: Assistant) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    bot.store.save_profile(Profile(user_id=CARL, lang="en"))
    for data in (f"mt:na:{match_id}", f"mt:end:{match_id}", f"mt:endy:{match_id}", "mt:na:999"):
        assert "no longer open" in press(bot, CARL, data, username="carl")[0].text
    for data in ("mt:", "mt:vt:tartu", "mt:bl:xx", "mt:more:x", "mt:nope"):
        assert STALE["uk"] in press(bot, NEWCOMER, data)[0].text
    assert bot.mentoring.data.match(match_id).state == "proposed"
    press(bot, NEWCOMER, f"mt:nx:{match_id}")
    assert STALE["uk"] in press(bot, NEWCOMER, f"mt:na:{match_id}")[0].text


def test_profiles_with_telegram_handles_or_links_are_refused(bot: Assistant) -> None:
    bot.store.save_profile(Profile(user_id=NEWCOMER, lang="en", country="EE", city="tartu"))
    say(bot, NEWCOMER, "/buddy")
    press(bot, NEWCOMER, "mt:bt:jobs")
    press(bot, NEWCOMER, "mt:bL")
    for text in ("@olena_k", "see t.me/olena", "Olena tg://user?id=5"):
        assert "leave out Telegram usernames" in say(bot, NEWCOMER, text)[0].text
    assert "Anything your buddy should know" in say(bot, NEWCOMER, "Olena")[0].text


# --- ending and reporting -----------------------------------------------------------------------


def _active(bot: Assistant) -> int:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    press(bot, NEWCOMER, f"mt:na:{match_id}", username="olena_k")
    press(bot, ANNA, f"mt:aa:{match_id}", username="anna_t")
    return match_id


def test_buddy_shows_the_active_match_with_end_and_report(bot: Assistant) -> None:
    match_id = _active(bot)
    for who in (NEWCOMER, ANNA):
        shown = say(bot, who, "/buddy")
        datas = [b.data for r in shown for row in r.buttons for b in row]
        assert f"mt:end:{match_id}" in datas and f"mt:rep:{match_id}" in datas


def test_ending_a_match_tells_the_other_side_without_details(bot: Assistant) -> None:
    match_id = _active(bot)
    assert "End match" in press(bot, ANNA, f"mt:end:{match_id}")[0].text
    replies = press(bot, ANNA, f"mt:endy:{match_id}")
    assert "has ended" in replies[0].text
    notice = replies[1]
    assert notice.chat_id == NEWCOMER and "Anna" in notice.text and ENDED["uk"] in notice.text
    assert bot.mentoring.data.match(match_id).state == "ended"
    assert bot.mentoring.data.contact_of(match_id, ANNA) is None  # contacts are blanked
    assert STALE["uk"] in press(bot, NEWCOMER, f"mt:endy:{match_id}")[0].text


def test_a_report_reaches_the_admins_and_the_reported_side_learns_only_the_end(
    bot: Assistant,
) -> None:
    match_id = _active(bot)
    log = Log()
    asked = press(bot, NEWCOMER, f"mt:rep:{match_id}", log)
    assert f"#{match_id}" in asked[0].text
    say(bot, NEWCOMER, "Вона не прийшла і писала грубощі", log)
    admin = log.to(ADMIN)
    assert len(admin) == 1 and f"#{match_id}" in admin[0].text
    assert "Вона не прийшла і писала грубощі" in admin[0].text and "newcomer" in admin[0].text
    number = bot.mentoring.data.volunteer_of(ANNA).id
    assert admin[0].buttons[0][0].data == f"mt:no:{number}"
    to_anna = everything(log.to(ANNA))
    assert "has ended" in to_anna and "грубощі" not in to_anna and "report" not in to_anna.lower()
    assert bot.mentoring.data.match(match_id).state == "reported"
    # The admin switches Anna off: she is told politely and is never proposed again.
    switched = press(bot, ADMIN, f"mt:no:{number}")
    assert any(r.chat_id == ANNA for r in switched)
    assert proposed_match(ask(bot, BORIS)) is None


def test_a_report_can_be_cancelled_and_the_match_goes_on(bot: Assistant) -> None:
    match_id = _active(bot)
    press(bot, ANNA, f"mt:rep:{match_id}")
    assert "stopped" in press(bot, ANNA, "mt:rx")[0].text
    assert bot.mentoring.data.match(match_id).state == "active"
    answer = say(bot, ANNA, "how do I open a bank account?")
    assert "account" in answer[0].text.lower()  # an ordinary question again


# --- durability and privacy ------------------------------------------------------------------


def test_matches_and_consents_survive_a_restart(folder: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "bot.db")
    first = make(folder, db)
    volunteer(first, ANNA, name="Anna")
    match_id = proposed_match(ask(first))
    press(first, NEWCOMER, f"mt:na:{match_id}", username="olena_k")
    first.store.db.close()
    second = make(folder, db)  # a new process on the same database
    replies = press(second, ANNA, f"mt:aa:{match_id}", username="anna_t")
    assert "@olena_k" in replies[0].text
    assert [r.chat_id for r in replies] == [None, NEWCOMER] and "@anna_t" in replies[1].text


def test_a_half_typed_form_survives_a_restart(folder: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "bot.db")
    first = make(folder, db)
    first.store.save_profile(Profile(user_id=ANNA, lang="en"))
    say(first, ANNA, "/volunteer")
    press(first, ANNA, "mt:vc:FI")
    press(first, ANNA, "mt:vt:turku")
    first.store.db.close()
    second = make(folder, db)
    assert "What can you help with?" in press(second, ANNA, "mt:vL")[0].text


def test_export_has_the_users_own_mentoring_data_and_nothing_of_the_other(bot: Assistant) -> None:
    match_id = _active(bot)
    for who, own, other in ((NEWCOMER, "Олена", "anna_t"), (ANNA, "Anna", "olena_k")):
        reply = say(bot, who, "/export")[0]
        data = json.loads(reply.document.content)["mentoring"]
        assert [m["id"] for m in data["matches"]] == [match_id]
        exported = json.dumps(data, ensure_ascii=False)
        assert own in exported and other not in exported
    newcomer = json.loads(say(bot, NEWCOMER, "/export")[0].document.content)["mentoring"]
    assert newcomer["volunteer_profile"] is None
    assert "Anna" not in json.dumps(newcomer, ensure_ascii=False)
    anna = json.loads(say(bot, ANNA, "/export")[0].document.content)["mentoring"]
    assert anna["volunteer_profile"]["display_name"] == "Anna"


def test_forget_removes_the_volunteer_profile_and_ends_matches_politely(bot: Assistant) -> None:
    match_id = _active(bot)
    replies = press(bot, ANNA, "fg:yes")
    notice = next(r for r in replies if r.chat_id == NEWCOMER)
    assert ENDED["uk"] in notice.text and "забут" not in notice.text and "видал" not in notice.text
    data = bot.mentoring.data
    assert data.volunteer_of(ANNA) is None
    assert data.match(match_id).state == "ended" and data.match(match_id).volunteer_user_id is None
    rows = bot.store.db.execute(
        "SELECT COUNT(*) FROM mentor_consents WHERE user_id = ?", [ANNA]
    ).fetchone()
    assert rows[0] == 0
    assert proposed_match(ask(bot, BORIS)) is None


def test_a_withdrawn_volunteer_is_gone_and_their_newcomer_is_told(bot: Assistant) -> None:
    match_id = _active(bot)
    assert "Stop volunteering?" in press(bot, ANNA, "mt:wd")[0].text
    replies = press(bot, ANNA, "mt:wdy")
    assert any(r.chat_id == NEWCOMER and ENDED["uk"] in r.text for r in replies)
    assert bot.mentoring.data.volunteer_of(ANNA) is None
    assert bot.mentoring.data.match(match_id).state == "ended"


# --- knowledge ----------------------------------------------------------------------------------


def test_knowledge_check_names_file_and_line_of_mentoring_mistakes(folder: Path, tmp_path: Path):
    target = tmp_path / "knowledge"
    shutil.copytree(folder, target)
    path = target / "mentoring.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    scope: city                 # only", "    scope: town  # only", 1)
    text = text.replace(", uk: Мовна практика}", "}", 1)
    text = text.replace("capacity: 3", "capacity: 0", 1)
    text = text.replace("  - id: studies", "  - id: jobs", 1)
    text = text.replace("  - id: monthly", "  - id: " + "x" * 31, 1)
    path.write_text(text, encoding="utf-8")
    knowledge, problems = load_knowledge(target)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert knowledge is None
    lines = text.splitlines()
    expected = {
        "scope must be city or country": "scope: town",
        "'uk' text is required": "id: language-practice",
        "capacity must be 1 to 20": "capacity: 0",
        "duplicate": "id: jobs",
        "longer than 30": "id: xxx",
    }
    for reason, line_text in expected.items():
        found = [e for e in errors if reason in e]
        assert found, (reason, errors)
        line = int(found[0].split("mentoring.yaml:")[1].split(":")[0])
        assert line_text in lines[line - 1] or line_text in lines[line - 2], (reason, found)
    assert len(errors) == 5, errors


def test_without_mentoring_knowledge_the_commands_say_so(store: Store) -> None:
    bot = Assistant(KnowledgeHolder(FIXTURE_KNOWLEDGE), store, clock=lambda: NOW)
    store.save_profile(Profile(user_id=NEWCOMER, lang="en"))
    for command in ("/buddy", "/volunteer"):
        assert "not set up" in say(bot, NEWCOMER, command)[0].text


# --- the Telegram adapter ---------------------------------------------------------------------


async def test_the_adapter_makes_the_chat_link_clickable_and_passes_usernames(
    bot: Assistant,
) -> None:
    volunteer(bot, ANNA, name="Anna")
    match_id = proposed_match(ask(bot))
    recorder = RecordingRequest()
    settings = Settings(bot_token="123:TEST", api_url="http://127.0.0.1:9/bot")
    application = build_application(settings, bot, updater=False, request=recorder)
    await application.initialize()
    try:
        accept = callback_update(1, NEWCOMER, f"mt:na:{match_id}")  # Telegram username "ana"
        await application.process_update(Update.de_json(accept, application.bot))
        accept = callback_update(2, ANNA, f"mt:aa:{match_id}")
        del accept["callback_query"]["from"]["username"]  # Anna has none
        await application.process_update(Update.de_json(accept, application.bot))
    finally:
        await application.shutdown()
    to_newcomer = [p for p in recorder.sent() if p["chat_id"] == NEWCOMER][-1]
    (entity,) = to_newcomer["entities"]
    assert entity["type"] == "text_link" and entity["url"] == f"tg://user?id={ANNA}"
    units = to_newcomer["text"].encode("utf-16-le")  # Telegram counts UTF-16 code units
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    assert units[start:end].decode("utf-16-le") == "написати Anna"
    to_anna = [p for p in recorder.sent() if p["chat_id"] == ANNA][-1]
    assert "Telegram: @ana" in to_anna["text"] and not to_anna.get("entities")
