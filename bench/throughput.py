"""End-to-end throughput: simulated users chatting with the real bot process over HTTP.

Usage:  python bench/throughput.py [--users 200] [--messages 10] [--think 0] [--bots ...]

Every bot runs as its own process against a fresh local Bot API server (tests/fake_bot_api.py,
the same server code for all), in the same run, one after the other:

  softlanding    `softlanding run` with a temporary database, the users already onboarded;
  echo-limited   bench/echo_bot.py with the same AIORateLimiter (the fair reference: both may
                 send only ~30 messages a second, Telegram's overall limit);
  echo           bench/echo_bot.py bare, what python-telegram-bot alone can do.

Each user sends `--messages` questions (in English, Russian and Ukrainian), the next one when
the reply to the previous one has arrived (and `--think` seconds more), as people chat. With
no think time all users start at once and the figures are the bot's top rate; with one, first
questions are spread over that time and the latency is that of a bot below its limit. Prints
per bot: messages per second, p50/p99 reply latency, peak memory (VmHWM) and CPU time per
message of the bot process. Then every user sends two different questions at once, and the
replies must come back in the order they were asked. Says whether Soft Landing reaches 80% of
the fair reference's throughput (the target of issue #8); exits 1 if a reply is missing or out
of order.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, ROOT
from tests.fake_bot_api import FakeBotAPI, bot_env, start_bot

QUESTIONS = (
    "how do I open a bank account?",
    "как зарегистрировать место жительства?",
    "як отримати податкову картку?",
    "can my dog come with me",
    "как найти работу?",
    "где получить личный код?",
)
LANGUAGES = ("en", "ru", "uk")  # of the users' profiles, in turn
FIRST_USER = 20_000
WARM_UP_USERS = (19_000, 19_001, 19_002)  # one per language (see `language`)
TARGET_SHARE = 0.8
STALL_SECONDS = 120.0  # no reply for this long: the bot is stuck
BOTS = ("softlanding", "echo-limited", "echo")


@dataclass(frozen=True)
class Figures:
    bot: str
    messages: int
    seconds: float
    latencies: tuple[float, ...]
    peak_mib: float
    cpu_seconds: float  # of the bot process, while the users chatted
    bench_cpu_seconds: float  # of this process: the Bot API server and the users
    in_order: bool

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return (
            f"{self.bot:<13} {self.messages:>5} messages in {self.seconds:6.1f} s: "
            f"{self.rate:6.1f} msg/s | latency p50 {1000 * statistics.median(ordered):7.0f} ms "
            f"p99 {1000 * p99:7.0f} ms | peak RSS {self.peak_mib:5.1f} MiB | "
            f"CPU {1000 * self.cpu_seconds / self.messages:4.1f} ms/msg "
            f"(server+users {1000 * self.bench_cpu_seconds / self.messages:4.1f}) | "
            f"order {'kept' if self.in_order else 'BROKEN'}"
        )


def language(user: int) -> str:
    return LANGUAGES[user % len(LANGUAGES)]


def proc_status(pid: int, field: str) -> float:
    """A VmXXX field of /proc/PID/status in MiB (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pre_onboard(database: Path, users: list[int]) -> None:
    """Profiles with language and country, so that every question gets an answer."""
    from bot.storage import Profile, Store, open_database

    store = Store(open_database(database))
    for user in users:
        store.save_profile(Profile(user, lang=language(user), country="FI", stage="arrived"))
    store.db.conn.close()


def spawn(bot: str, api: FakeBotAPI, users: list[int]) -> subprocess.Popen:
    database = Path(tempfile.mkdtemp(prefix="throughput-")) / "bot.db"
    env = bot_env(api, database, LOG_LEVEL="WARNING")
    if bot == "softlanding":
        pre_onboard(database, [*WARM_UP_USERS, *users])
        return start_bot(env, ROOT)
    flags = ["--rate-limiter"] if bot == "echo-limited" else []
    return subprocess.Popen(
        [sys.executable, str(BENCH_DIR / "echo_bot.py"), *flags],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Driver:
    """The simulated users: push questions, watch the server for the bot's replies."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.seen = 0  # replies looked at so far
        self.update_ids: Iterator[int] = itertools.count(1)

    def send(self, user: int, text: str) -> None:
        self.api.push_text(next(self.update_ids), user, text)

    def replies(self, timeout: float = 120.0) -> list[tuple[int, str, float]]:
        """The replies that arrived since the last call: (chat, text, when). Waits for one
        at most `timeout` seconds (then returns none), looking every millisecond."""
        deadline = time.monotonic() + timeout
        while len(self.api.sent) == self.seen and time.monotonic() < deadline:
            time.sleep(0.001)
        now = time.monotonic()
        new = self.api.sent[self.seen :]
        self.seen += len(new)
        return [(int(p["chat_id"]), str(p.get("text", "")), now) for p in new]

    def chat(self, users: list[int], messages: int, think: float) -> tuple[float, list[float]]:
        """Every user asks `messages` questions, each `think` seconds after the reply to the
        previous one (the first within `think` seconds; all at once if 0); wall time and the
        latency of each reply."""
        left = dict.fromkeys(users, messages)
        asked: dict[int, float] = {}
        thinking: list[tuple[float, int]] = []  # (when the user writes again, user), a heap
        latencies: list[float] = []
        started = time.monotonic()
        if think:  # people do not all write at the same moment: first questions spread out
            rng = random.Random(8)
            thinking = sorted((started + rng.uniform(0, think), user) for user in users)
        else:  # everyone at once: the bot's top rate
            for user in users:
                self._ask(user, left, asked)
        while asked or thinking:
            while thinking and thinking[0][0] <= time.monotonic():
                self._ask(heapq.heappop(thinking)[1], left, asked)
            wait = thinking[0][0] - time.monotonic() if thinking else STALL_SECONDS
            got = self.replies(timeout=max(0.0, wait))
            if not got and not thinking:
                raise TimeoutError(f"no reply for {STALL_SECONDS:.0f} s; waiting: {sorted(asked)}")
            for chat, _, when in got:
                if chat in asked:
                    latencies.append(when - asked.pop(chat))
                    if left[chat]:
                        heapq.heappush(thinking, (when + think, chat))
        return time.monotonic() - started, latencies

    def _ask(self, user: int, left: dict[int, int], asked: dict[int, float]) -> None:
        text = QUESTIONS[(user + left[user]) % len(QUESTIONS)]
        left[user] -= 1
        asked[user] = time.monotonic()
        self.send(user, text)

    def in_order(self, users: list[int], first_line: Callable[[int, str], str]) -> bool:
        """Each user sends two questions at once (two whose replies start differently); the
        replies must come back in that order."""
        expected: dict[int, list[str]] = {}
        for user in users:
            pair = distinct_pair(user, first_line)
            expected[user] = [first_line(user, q) for q in pair]
            for text in pair:
                self.send(user, text)
        got: dict[int, list[str]] = {user: [] for user in users}
        while sum(len(v) for v in got.values()) < 2 * len(users):
            replies = self.replies(timeout=STALL_SECONDS)
            if not replies:
                return False
            for chat, text, _ in replies:
                if chat in got:
                    got[chat].append(text.split("\n", 1)[0])
        return got == expected


def distinct_pair(user: int, first_line: Callable[[int, str], str]) -> tuple[str, str]:
    """Two questions whose replies (in the user's language) have different first lines."""
    start = user % len(QUESTIONS)
    first = QUESTIONS[start]
    for offset in range(1, len(QUESTIONS)):
        second = QUESTIONS[(start + offset) % len(QUESTIONS)]
        if first_line(user, second) != first_line(user, first):
            return first, second
    raise AssertionError("every question gets the same reply: the order cannot be checked")


def run_bot(bot: str, users: list[int], messages: int, think: float) -> Figures:
    with FakeBotAPI() as api:
        process = spawn(bot, api, users)
        try:
            driver = Driver(api)
            first_lines = learn_first_lines(driver)  # also waits until the bot is up
            cpu_before, own_before = cpu_seconds(process.pid), time.process_time()
            seconds, latencies = driver.chat(users, messages, think)
            cpu = cpu_seconds(process.pid) - cpu_before
            own = time.process_time() - own_before
            in_order = driver.in_order(users, first_lines)
            peak = proc_status(process.pid, "VmHWM")
        finally:
            process.terminate()
            process.wait(timeout=60)
    return Figures(bot, len(latencies), seconds, tuple(latencies), peak, cpu, own, in_order)


def learn_first_lines(driver: Driver) -> Callable[[int, str], str]:
    """The first line of the bot's reply to each question in each language (asked once by a
    warm-up user per language; this also waits until the bot is up)."""
    lines = {}
    for warm_up in WARM_UP_USERS:
        for text in QUESTIONS:
            driver.send(warm_up, text)
            reply = driver.replies(timeout=STALL_SECONDS)
            if not reply:
                raise TimeoutError(f"the bot did not answer {text!r} in {STALL_SECONDS:.0f} s")
            lines[(language(warm_up), text)] = reply[0][1].split("\n", 1)[0]
    return lambda user, text: lines[(language(user), text)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--bots", nargs="+", choices=BOTS, default=list(BOTS))
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds a user waits after each reply"
    )
    args = parser.parse_args(argv)
    users = [FIRST_USER + n for n in range(args.users)]
    print(
        f"{args.users} users x {args.messages} messages, {args.think:g} s between a reply and "
        "the next question; each bot its own process and server"
    )
    results = {}
    for bot in args.bots:
        results[bot] = run_bot(bot, users, args.messages, args.think)
        print(results[bot].line(), flush=True)
    ok = all(r.in_order and r.messages == args.users * args.messages for r in results.values())
    if "softlanding" in results and "echo-limited" in results:
        share = results["softlanding"].rate / results["echo-limited"].rate
        verdict = "met" if share >= TARGET_SHARE else "NOT met"
        print(
            f"softlanding / echo-limited throughput: {100 * share:.0f}% (target >= 80%: {verdict})"
        )
    if "softlanding" in results and "echo" in results:
        share = results["softlanding"].rate / results["echo"].rate
        print(f"softlanding / echo (no rate limiter) throughput: {100 * share:.0f}%")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
