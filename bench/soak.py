"""Soak test: thousands of users, a real bot process over HTTP, killed with SIGKILL and restarted.

Usage:  python bench/soak.py [--users 2000] [--messages 10] [--kills 3]

A local Bot API server (tests/fake_bot_api.py) serves the updates by long polling. Every
simulated user sends `--messages` updates one after another (the next one when the previous got
its reply): questions, `/task` (adds one own task), a tick of that task, `/checklist`. While
they do, the bot is killed with SIGKILL at random moments `--kills` times and restarted. At the
end the database must show every update processed exactly once in effect: each update id
processed once, one own task per user (ticked), one recorded question per question sent.
Prints updates per second, p50/p99 reply latency, the bot's peak memory and the counts checked.
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_bot_api import FakeBotAPI, bot_env, start_bot
from tests.telegram_recorder import callback_update, message_update

QUESTIONS = [
    "how do I open a bank account?",
    "где получить личный код?",
    "як знайти лікаря?",
    "what is kela",
    "can my dog come with me",
    "скільки коштує оренда квартири?",
]


def script(user: int, messages: int) -> list[tuple[str, str]]:
    """The updates one user sends: (kind, text or callback data)."""
    steps: list[tuple[str, str]] = [
        ("text", "/task 2026-12-24 Buy a sledge"),
        ("press", "tick-own-task"),
    ]
    while len(steps) < messages:
        steps.append(
            (
                "text",
                "/checklist"
                if len(steps) % 5 == 4
                else QUESTIONS[(user + len(steps)) % len(QUESTIONS)],
            )
        )
    return steps[:messages]


def peak_memory_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Supervisor:
    """Starts the bot; a background thread SIGKILLs it at random moments and restarts it."""

    def __init__(self, env: dict[str, str], cwd: Path, kills: int) -> None:
        self.env, self.cwd, self.kills_left = env, cwd, kills
        self.kills = 0
        self.peak_kib = 0
        self.lock = threading.Lock()
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return start_bot(self.env, self.cwd)

    def killer(self, stop: threading.Event) -> None:
        rng = random.Random(7)
        while self.kills_left and not stop.wait(rng.uniform(2.0, 6.0)):
            with self.lock:
                self.peak_kib = max(self.peak_kib, peak_memory_kib(self.process.pid))
                self.process.send_signal(signal.SIGKILL)
                self.process.wait()
                self.kills += 1
                self.kills_left -= 1
                self.process = self._start()

    def stop(self) -> None:
        with self.lock:
            self.peak_kib = max(self.peak_kib, peak_memory_kib(self.process.pid))
            self.process.terminate()
            self.process.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    users = list(range(10_000, 10_000 + args.users))
    work = tempfile.mkdtemp(prefix="soak-")
    db = Path(work) / "soak.db"
    with FakeBotAPI() as api:
        env = bot_env(api, db, LOG_LEVEL="WARNING", FLOOD_LIMIT="1000")
        supervisor = Supervisor(env, Path(work), args.kills)
        stop = threading.Event()
        killer = threading.Thread(target=supervisor.killer, args=(stop,), daemon=True)
        scripts = {u: script(u, args.messages) for u in users}
        step = dict.fromkeys(users, 0)
        replies_seen = dict.fromkeys(users, 0)
        sent_at: dict[int, float] = {}
        latencies: list[float] = []
        update_id = 0
        own_task: dict[int, str] = {}

        def send(user: int) -> None:
            nonlocal update_id
            kind, text = scripts[user][step[user]]
            update_id += 1
            if kind == "press":
                api.push(callback_update(update_id, user, f"ck:t:{own_task.get(user, 'none')}"))
            else:
                api.push(message_update(update_id, user, text))
            sent_at[user] = time.monotonic()

        started = time.monotonic()
        killer.start()
        for user in users:
            send(user)
        done_users = 0
        while done_users < len(users) and time.monotonic() - started < args.timeout:
            with api.lock:
                sent = list(api.sent)
            counts: dict[int, int] = {}
            for params in sent:
                chat = int(params["chat_id"])
                counts[chat] = counts.get(chat, 0) + 1
                if chat not in own_task and "ck:o:my-" in str(params.get("reply_markup")):
                    own_task[chat] = str(params["reply_markup"]).split("ck:o:")[1].split("'")[0]
            done_users = 0
            for user in users:
                if counts.get(user, 0) > replies_seen[user] and step[user] < args.messages:
                    replies_seen[user] = counts[user]
                    latencies.append(time.monotonic() - sent_at[user])
                    step[user] += 1
                    if step[user] < args.messages:
                        if scripts[user][step[user]][0] == "press" and user not in own_task:
                            step[user] -= 1  # wait for the checklist that shows the task id
                            scripts[user].insert(step[user] + 1, ("text", "/checklist"))
                            step[user] += 1
                        send(user)
                done_users += step[user] >= args.messages
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        stop.set()
        killer.join(timeout=5)
        supervisor.stop()
    conn = sqlite3.connect(db)
    processed = conn.execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0]
    journal = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    own_tasks = dict(
        conn.execute(
            "SELECT user_id, COUNT(*) FROM tasks WHERE custom = 1 GROUP BY user_id"
        ).fetchall()
    )
    ticked = conn.execute(
        "SELECT COUNT(*) FROM tasks WHERE custom = 1 AND status = 'done'"
    ).fetchone()[0]
    questions = conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
    expected_questions = sum(
        1
        for u in users
        for kind, text in scripts[u][: args.messages]
        if kind == "text" and not text.startswith("/")
    )
    problems = []
    if processed != update_id or journal != update_id:
        problems.append(f"updates: sent {update_id}, journalled {journal}, processed {processed}")
    doubled = sum(1 for n in own_tasks.values() if n != 1)
    if len(own_tasks) != len(users) or doubled:
        problems.append(f"own tasks: {len(own_tasks)} users have one, {doubled} have several")
    if ticked != len(users):
        problems.append(f"ticks: {ticked} of {len(users)}")
    if questions != expected_questions:
        problems.append(f"questions: recorded {questions}, sent {expected_questions}")
    if done_users < len(users):
        problems.append(f"users finished: {done_users} of {len(users)} (timeout)")
    lat = sorted(latencies)
    print(
        f"users {len(users)}, updates {update_id}, SIGKILLs {supervisor.kills}, "
        f"time {elapsed:.1f} s"
    )
    print(f"updates per second: {update_id / elapsed:.1f}")
    if lat:
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        print(f"reply latency: p50 {1000 * statistics.median(lat):.0f} ms, p99 {1000 * p99:.0f} ms")
    print(f"bot peak memory (VmHWM): {supervisor.peak_kib / 1024:.0f} MiB")
    print(
        f"checked: {processed} updates processed once, {len(own_tasks)} own tasks "
        f"({ticked} ticked), {questions} questions recorded"
    )
    print("OK: nothing lost, nothing doubled" if not problems else "FAILED: " + "; ".join(problems))
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
