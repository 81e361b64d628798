"""Start-up time and resident memory of `softlanding run` with the shipped knowledge.

Usage:  python bench/startup.py [--runs 5] [--questions 20] [--bytecode]

Each run spawns the real bot process against the local Bot API server (tests/fake_bot_api.py)
twice on one fresh temporary database: a first start (the knowledge is parsed, validated and
indexed, and the result cached beside the database) and a restart (read from that cache, as
every start is until the knowledge, the code or the date changes). Each is measured from the
spawn to: the start-up summary line in its log, its first `getUpdates` request at the server,
and its reply to a question queued before the start. Then `--questions` more questions, and
the process's resident memory: peak (VmHWM) and steady (VmRSS one second after the last
answer). In each run also a bare python-telegram-bot echo bot (bench/echo_bot.py) to its first
`getUpdates`, as the floor to compare with. Prints each start, the medians, the ratios to the
echo bot, and whether the targets of issue #8 (< 1 s to the first getUpdates, < 150 MiB) are
met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT
from tests.fake_bot_api import FakeBotAPI, bot_env, start_bot

START_LINE = "Soft Landing starting"
USER = 4242
QUESTIONS = ("how do I open a bank account?", "где получить личный код?", "як знайти лікаря?")
TARGET_SECONDS = 1.0
TARGET_MIB = 150.0


@dataclass(frozen=True)
class Run:
    log_line: float  # seconds from spawn
    first_poll: float
    first_reply: float
    peak_mib: float
    steady_mib: float


def memory_mib(pid: int, field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of a process, in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def wait_for(check: object, timeout: float = 30.0) -> float:
    """Poll `check()` every millisecond; the monotonic time when it first held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return time.monotonic()
        time.sleep(0.001)
    raise TimeoutError("the bot did not get there in time")


def watch_log(process: subprocess.Popen, seen: dict[str, float]) -> threading.Thread:
    """Note when the start-up summary line appears on the bot's output."""

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if START_LINE in line and "log" not in seen:
                seen["log"] = time.monotonic()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def pre_onboard(database: Path) -> None:
    """One user with a finished profile, so that a question gets an answer."""
    from bot.storage import Profile, Store, open_database

    store = Store(open_database(database))
    store.save_profile(Profile(USER, lang="en", country="FI", stage="arrived"))
    store.db.conn.close()


def one_start(database: Path, questions: int, first_update: int, bytecode: str) -> Run:
    """Start the bot on `database`, ask questions, read its memory, stop it."""
    with FakeBotAPI() as api:
        api.push_text(first_update, USER, QUESTIONS[0])
        seen: dict[str, float] = {}
        env = with_bytecode(bot_env(api, database, LOG_LEVEL="INFO"), bytecode)
        spawned = time.monotonic()
        process = start_bot(env, ROOT, output=True)
        watch_log(process, seen)
        try:
            polled = wait_for(lambda: "getUpdates" in api.methods)
            replied = wait_for(lambda: len(api.sent) >= 1)
            for n in range(questions):
                api.push_text(first_update + 1 + n, USER, QUESTIONS[n % len(QUESTIONS)])
                wait_for(lambda count=n + 2: len(api.sent) >= count)
            time.sleep(1.0)
            peak = memory_mib(process.pid, "VmHWM")
            steady = memory_mib(process.pid, "VmRSS")
        finally:
            process.terminate()
            process.wait(timeout=30)
    log_line = seen.get("log", float("nan")) - spawned
    return Run(log_line, polled - spawned, replied - spawned, peak, steady)


def one_run(questions: int, bytecode: str) -> tuple[Run, Run]:
    """A first start on a new database (no knowledge cache yet), then a restart."""
    database = Path(tempfile.mkdtemp(prefix="startup-")) / "bot.db"
    pre_onboard(database)
    first = one_start(database, questions, 1, bytecode)
    if not Path(f"{database}.knowledge-cache").exists():
        print("(no knowledge cache was written)")
    return first, one_start(database, questions, questions + 2, bytecode)


def with_bytecode(env: dict[str, str], prefix: str) -> dict[str, str]:
    """With a prefix: compiled modules are read from (and written to) it, as after an install
    that compiled them (pip, the Docker image), even where PYTHONDONTWRITEBYTECODE is set."""
    if prefix:
        env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = prefix
    return env


def compile_once() -> str:
    """A bytecode folder filled by importing everything `softlanding run` imports."""
    prefix = tempfile.mkdtemp(prefix="startup-pycache-")
    code = "import bot.cli, bot.telegram_app"
    subprocess.run(
        [sys.executable, "-c", code], env=with_bytecode(dict(os.environ), prefix), check=True
    )
    return prefix


def echo_start(bytecode: str) -> float:
    """Seconds from spawning the bare python-telegram-bot echo bot (bench/echo_bot.py) to its
    first `getUpdates`: the floor that any bot on this library, Python and machine starts at,
    measured in the same run because this machine's speed varies from minute to minute."""
    with FakeBotAPI() as api:
        env = with_bytecode(bot_env(api, Path(tempfile.mkdtemp()) / "unused.db"), bytecode)
        spawned = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "echo_bot.py"), "--rate-limiter"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            polled = wait_for(lambda: "getUpdates" in api.methods)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return polled - spawned


def median(runs: list[Run]) -> Run:
    return Run(*(statistics.median(getattr(r, f) for r in runs) for f in Run.__dataclass_fields__))


def describe(run: Run) -> str:
    return (
        f"log line {run.log_line * 1000:6.0f} ms | first getUpdates {run.first_poll * 1000:6.0f} ms"
        f" | first reply {run.first_reply * 1000:6.0f} ms | RSS peak {run.peak_mib:5.1f} MiB,"
        f" steady {run.steady_mib:5.1f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="start from compiled modules even if PYTHONDONTWRITEBYTECODE is set",
    )
    args = parser.parse_args(argv)
    bytecode = compile_once() if args.bytecode else ""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not bytecode:
        print("(PYTHONDONTWRITEBYTECODE is set: modules without .pyc are compiled at each start)")
    firsts, restarts, echoes = [], [], []
    for n in range(args.runs):
        first, restart = one_run(args.questions, bytecode)
        firsts.append(first)
        restarts.append(restart)
        echoes.append(echo_start(bytecode))
        print(f"run {n + 1} first start: {describe(first)}", flush=True)
        print(f"run {n + 1} restart:     {describe(restart)}", flush=True)
        print(f"run {n + 1} echo bot:    first getUpdates {echoes[-1] * 1000:6.0f} ms", flush=True)
    echo = statistics.median(echoes)
    print(f"median first start:  {describe(median(firsts))}")
    print(f"median restart:      {describe(median(restarts))}")
    print(f"median echo bot:     first getUpdates {echo * 1000:6.0f} ms (the library alone)")
    for name, runs in (("first start", firsts), ("restart", restarts)):
        ratio = median(runs).first_poll / echo
        print(f"{name} / echo bot start: {ratio:.2f}x")
    for name, runs in (("first start", firsts), ("restart", restarts)):
        typical = median(runs)
        met = typical.first_poll < TARGET_SECONDS and typical.peak_mib < TARGET_MIB
        print(
            f"targets (< {TARGET_SECONDS:.0f} s to the first getUpdates, < {TARGET_MIB:.0f} MiB)"
            f" on a {name}: {'met' if met else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
